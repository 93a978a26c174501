"""The reachability model (generator/flux/reachability.py) and what it proves of the mesh apps:
segmentation only narrows cross-cluster traffic, global services load-balance exactly to
their backends, and a topology whose segmentation cuts a global service is refused."""

from __future__ import annotations

import json
import textwrap

import pytest
import yaml

from conftest import FC, PROJECT, VALID, expected, run_cli
from generator import compiler
from generator.flux.cilium_policy import OTHER_NAMESPACES, ModelError, parse_policy, pod, reserved
from generator.flux.reachability import admits, backend_preference, evaluate
from generator.flux.rendered_objects import namespaces_named, parse_service, read_objects
from generator.flux.verify_mesh import mesh_objects, verify_mesh_intent
from generator.mesh_intent import Endpoints

SEED_DEMO = PROJECT / "topologies" / "seed-demo.yaml"
BEFORE = PROJECT / "tests" / "fixtures" / "reachability" / "seed-demo-before"

# Four clusters, several namespaces, affinity local, remote and none, backends a strict
# subset of the clusters where the pods run (the model places them everywhere), flows with
# and without namespaces, and a bystander namespace (vault) that only a user policy guards.
FOUR = """\
name: four
kubernetesVersion: "1.36"
globalServices:
  - {name: api, namespace: shop, ports: [{port: 80}], selector: {app: api}, backends: [a, b], affinity: local}
  - {name: ledger, namespace: bank, ports: [{port: 443}], selector: {app: ledger}, backends: [c], affinity: remote}
  - {name: cache, namespace: shop, ports: [{port: 6379}], selector: {app: cache}, backends: [a, b, c]}
segmentation:
  allow:
    - {from: {cluster: a, namespace: web}, to: {cluster: b, namespace: shop}}
    - {from: {cluster: a, namespace: web}, to: {cluster: c}}
    - {from: {cluster: b, namespace: web}, to: {cluster: a, namespace: shop}}
    - {from: {cluster: b, namespace: web}, to: {cluster: c, namespace: shop}}
    - {from: {cluster: b, namespace: web}, to: {cluster: c, namespace: bank}}
    - {from: {cluster: c}, to: {cluster: a, namespace: shop}}
    - {from: {cluster: c}, to: {cluster: b, namespace: shop}}
    - {from: {cluster: d, namespace: web}, to: {cluster: a, namespace: shop}}
    - {from: {cluster: d, namespace: web}, to: {cluster: b, namespace: shop}}
    - {from: {cluster: d, namespace: web}, to: {cluster: c, namespace: shop}}
    - {from: {cluster: d, namespace: batch}, to: {cluster: c, namespace: bank}}
clusters:
""" + "".join(f"""\
  - name: {name}
    id: {i + 1}
    region: {region}
    vnetCidr: 10.{10 * i + 10}.0.0/16
    nodeSubnetCidr: 10.{10 * i + 10}.0.0/22
    podCidr: 10.{10 * i + 110}.0.0/16
    serviceCidr: 10.{10 * i + 210}.0.0/16
""" for i, (name, region) in enumerate(
    [("a", "northeurope"), ("b", "westeurope"), ("c", "francecentral"), ("d", "uksouth")])) + """\
aks:
  adminGroupObjectIds: [00000000-0000-0000-0000-000000000000]  # test placeholder
  authorizedIpRanges: [203.0.113.0/24]
"""

# The user's own policies: in b, only vault clients of vault's own namespace reach vault;
# in a, shop admits its own namespace and the world only.
USER_POLICIES = {
    "b": [{"kind": "CiliumNetworkPolicy",
           "metadata": {"name": "vault-clients-only", "namespace": "vault"},
           "spec": {"endpointSelector": {},
                    "ingress": [{"fromEndpoints": [{"matchLabels": {"app": "vault-client"}}]}]}}],
    "a": [{"kind": "CiliumNetworkPolicy",
           "metadata": {"name": "shop-from-world", "namespace": "shop"},
           "spec": {"endpointSelector": {},
                    "ingress": [{"fromEndpoints": [{}]}, {"fromEntities": ["world"]}]}}],
}
# Kubernetes NetworkPolicies too: in c, vault admits its clients and namespace web; in d,
# namespace locked admits nothing at all.
USER_POLICIES["c"] = [{"kind": "NetworkPolicy", "apiVersion": "networking.k8s.io/v1",
                       "metadata": {"name": "vault", "namespace": "vault"},
                       "spec": {"podSelector": {}, "ingress": [{"from": [
                           {"podSelector": {"matchLabels": {"app": "vault-client"}}},
                           {"namespaceSelector": {"matchLabels": {
                               "kubernetes.io/metadata.name": "web"}}}]}]}}]
USER_POLICIES["d"] = [{"kind": "NetworkPolicy", "apiVersion": "networking.k8s.io/v1",
                       "metadata": {"name": "deny-all", "namespace": "locked"},
                       "spec": {"podSelector": {}, "policyTypes": ["Ingress"]}}]
EXTRA_PODS = {"vault": ((("app", "vault-client"),),)}
BYSTANDERS = ("vault", "locked")


@pytest.fixture(scope="module")
def four(tmp_path_factory):
    path = tmp_path_factory.mktemp("four") / "four.yaml"
    path.write_text(FOUR, encoding="utf-8")
    result = compiler.compile_topology(path)
    assert result.ok, [d.format_text() for d in result.diagnostics]
    assert not [d for d in result.diagnostics if d.code.startswith(("AKM22", "AKM54"))]
    return result.plan, result.files


def _files_before() -> dict[str, str]:
    return {f"clusters/{c}/mesh-apps/{name}.yaml":
            (BEFORE / f"{c}-{name}.yaml").read_text(encoding="utf-8")
            for c in ("ne", "we", "onprem") for name in ("global-services", "cross-cluster-ingress")}


# ------------------------------------------------------------------ the proof on seed-demo


def test_the_model_refuses_what_aksmesh_rendered_before():
    """The objects aksmesh rendered for seed-demo before this model existed (kept in
    tests/fixtures): a baseline that allowed the whole local cluster and the world widened
    every user policy, non-backend clusters served from their own pods, literal
    `affinity: none` dropped remote backends."""
    plan = compiler.validate(SEED_DEMO).plan
    found = verify_mesh_intent(plan, _files_before())
    codes = {d.code for d in found}
    assert codes == {"AKM540", "AKM541", "AKM542"}
    widened = [d.message for d in found if d.code == "AKM541" and "/we/" in d.file]
    assert widened and "which it did not without aksmesh's policies" in widened[0]
    assert any("rebel-base/rebel-base-ne load-balances to ne > we instead of ne" in d.message
               for d in found if d.code == "AKM542")


def test_the_model_accepts_what_aksmesh_renders_now():
    plan = compiler.validate(SEED_DEMO).plan
    from generator.render import render

    assert verify_mesh_intent(plan, render(plan, None).files) == []


# ------------------------------------------------------------------ four clusters


def test_segmentation_only_narrows_and_the_bystander_stays_as_restrictive(four):
    plan, files = four
    mesh = mesh_objects(plan, files)
    namespaces = namespaces_named(mesh, plan.named_namespaces + BYSTANDERS)
    user = {c: tuple(parse_policy(d, c) for d in docs) for c, docs in USER_POLICIES.items()}
    checked = 0
    for local in (True, False):
        before = evaluate(mesh, namespaces, user, local, with_mesh_policies=False,
                          extra_pods=EXTRA_PODS)
        after = evaluate(mesh, namespaces, user, local, extra_pods=EXTRA_PODS)
        for old, new in zip(before, after):
            source, destination = new.source, new.destination
            assert (old.source, old.destination) == (source, destination)
            if source.cluster is None or source.cluster == destination.cluster:
                assert new.admitted == old.admitted, (source, destination, local)
            else:
                declared = plan.declares(Endpoints(source.cluster, source.namespace),
                                         Endpoints(destination.cluster, destination.namespace))
                assert new.admitted == (old.admitted and declared), (source, destination, local)
            checked += 1
    assert checked > 1000
    # The bystander, spelled out: vault admits its own clients, nobody else, before and after.
    policies = user["b"] + mesh.policies["b"]
    vault = pod("b", "vault")
    assert admits(policies, vault, pod("b", "vault", [("app", "vault-client")]))
    assert not admits(policies, vault, pod("b", "shop"))
    assert not admits(policies, vault, pod("a", "web"))
    assert not admits(policies, vault, reserved("world"))
    # The same with Kubernetes NetworkPolicies, under either policyDefaultLocalCluster.
    policies = user["c"] + mesh.policies["c"]
    vault = pod("c", "vault")
    assert admits(policies, vault, pod("c", "web"))
    assert admits(policies, vault, pod("c", "vault", [("app", "vault-client")]))
    assert not admits(policies, vault, pod("c", "shop"))
    assert not admits(policies, vault, pod("d", "web"), default_local_cluster=False)
    assert not admits(user["c"], vault, pod("d", "web"), default_local_cluster=True)
    assert admits(user["c"], vault, pod("d", "web"), default_local_cluster=False)  # before
    locked = user["d"] + mesh.policies["d"]
    assert not admits(locked, pod("d", "locked"), pod("d", "locked"))
    assert not admits(locked, pod("d", "locked"), reserved("world"))
    # And a namespace no policy of the user guards keeps admitting its cluster and the world.
    assert admits(mesh.policies["b"], pod("b", "web"), pod("b", "shop"))
    assert admits(mesh.policies["b"], pod("b", "web"), reserved("world"))
    assert admits(mesh.policies["b"], pod("b", "web"), reserved("remote-node"))


def test_cross_cluster_reachability_is_the_declared_flows(four):
    plan, files = four
    mesh = mesh_objects(plan, files)
    shop_b, bank_c = pod("b", "shop", [("app", "api")]), pod("c", "bank")
    assert admits(mesh.policies["b"], shop_b, pod("a", "web"))
    assert not admits(mesh.policies["b"], shop_b, pod("a", "batch"))
    assert admits(mesh.policies["b"], shop_b, pod("c", "anything"))  # from c, every namespace
    assert admits(mesh.policies["c"], bank_c, pod("a", "web"))  # to c, every namespace
    assert admits(mesh.policies["c"], bank_c, pod("d", "batch"))
    assert not admits(mesh.policies["c"], bank_c, pod("d", "web"))
    assert not admits(mesh.policies["d"], pod("d", "web"), pod("a", "web"))


def test_flows_without_namespace_never_select_every_endpoint(four):
    plan, files = four
    for cluster in plan.clusters:
        for policy in yaml.safe_load_all(
                files[f"clusters/{cluster.name}/mesh-apps/cross-cluster-ingress.yaml"]):
            if policy:
                assert policy["spec"]["endpointSelector"] != {}
                assert "ingress" not in policy["spec"]


def test_every_global_service_load_balances_exactly_to_its_backends(four):
    plan, files = four
    mesh = mesh_objects(plan, files)
    api = backend_preference(mesh, "shop", "api")
    assert api == {"a": (("a",), ("b",)), "b": (("b",), ("a",)),
                   "c": (("a", "b"),), "d": (("a", "b"),)}
    ledger = backend_preference(mesh, "bank", "ledger")
    assert set(ledger.values()) == {(("c",),)}
    cache = backend_preference(mesh, "shop", "cache")
    assert cache["d"] == (("a", "b", "c"),) == cache["a"]
    # d runs cache pods in the model, yet its Service selects none of them.
    [service] = [d for d in yaml.safe_load_all(
        files["clusters/d/mesh-apps/global-services.yaml"]) if d and d["metadata"]["name"] == "cache"]
    assert "selector" not in service["spec"]
    assert "service.cilium.io/affinity" not in service["metadata"]["annotations"]


# ------------------------------------------------------------------ the located error


# The valid topology with a third cluster, fc, between ne and we.
THREE_CLUSTERS = VALID.replace("  - name: we\n", FC + "  - name: we\n")

CUT = THREE_CLUSTERS + """\
globalServices:
  - name: rebel-base
    namespace: rebel-base
    ports: [{port: 80}]
    selector: {name: rebel-base}
    backends: [ne, we]  # !AKM220 # !AKM220 # !AKM220
segmentation:
  allow:
    - from: {cluster: fc, namespace: x-wing}
      to: {cluster: ne, namespace: rebel-base}
"""


def test_a_segmentation_that_cuts_a_global_service_is_refused_at_the_service(found, diagnose):
    # fc/x-wing reaches ne but not we; ne reaches no backend in we, we none in ne.
    assert found(CUT) == expected(CUT)
    hints = sorted(d.hint for d in diagnose(CUT))
    assert "add to segmentation.allow: {from: {cluster: fc, namespace: x-wing}, to: " \
           "{cluster: we, namespace: rebel-base}}" in hints
    assert any("{cluster: ne, namespace: <client namespace>}" in h for h in hints)


def test_declaring_the_missing_flows_makes_it_valid(found):
    text = CUT.replace("  # !AKM220 # !AKM220 # !AKM220", "") + """\
    - from: {cluster: fc, namespace: x-wing}
      to: {cluster: we, namespace: rebel-base}
    - from: {cluster: ne, namespace: x-wing}
      to: {cluster: we, namespace: rebel-base}
    - from: {cluster: we}
      to: {cluster: ne}
"""
    assert found(text) == []


def test_seed_demo_before_its_fix_is_refused(tmp_path):
    """The issue's finding: onprem's clients hit a drop for rebel-base in we."""
    text = SEED_DEMO.read_text(encoding="utf-8")
    cut = text.replace("""    - from: {cluster: onprem, namespace: x-wing}
      to: {cluster: we, namespace: rebel-base}
""", "")
    assert cut != text
    path = tmp_path / "seed.yaml"
    path.write_text(cut, encoding="utf-8")
    [finding] = compiler.validate(path).diagnostics
    assert finding.code == "AKM220" and "`onprem`" in finding.message and "`we`" in finding.message


# ------------------------------------------------------------------ the model's rules


def _policy(spec: dict, kind: str = "CiliumClusterwideNetworkPolicy", namespace: str | None = None):
    metadata = {"name": "p"} | ({"namespace": namespace} if namespace else {})
    return parse_policy({"kind": kind, "metadata": metadata, "spec": spec}, "ne")


def test_deny_wins_over_allow_and_deny_alone_turns_on_default_deny():
    allow_all = _policy({"endpointSelector": {}, "ingress": [{"fromEntities": ["all"]}]})
    deny_we = _policy({"endpointSelector": {}, "ingressDeny": [{"fromEndpoints": [
        {"matchLabels": {"io.cilium.k8s.policy.cluster": "we"}}]}]})
    target = pod("ne", "x")
    assert not admits([allow_all, deny_we], target, pod("we", "x"))
    assert admits([allow_all, deny_we], target, pod("ne", "y"))
    assert not admits([deny_we], target, pod("ne", "y"))  # default deny, nothing allowed
    assert not admits([deny_we], target, reserved("world"))


def test_enable_default_deny_false_keeps_everything_else_admitted():
    deny_we = _policy({"endpointSelector": {}, "enableDefaultDeny": {"ingress": False},
                       "ingressDeny": [{"fromEndpoints": [
                           {"matchLabels": {"io.cilium.k8s.policy.cluster": "we"}}]}]})
    target = pod("ne", "x")
    assert admits([deny_we], target, pod("ne", "y"))
    assert admits([deny_we], target, reserved("world"))
    assert not admits([deny_we], target, pod("we", "y"))


def test_policy_default_local_cluster_narrows_selectors_without_a_cluster():
    same_namespace = _policy({"endpointSelector": {}, "ingress": [{"fromEndpoints": [{}]}]},
                             "CiliumNetworkPolicy", "x")
    target = pod("ne", "x")
    assert admits([same_namespace], target, pod("ne", "x"))
    assert not admits([same_namespace], target, pod("ne", "y"))
    assert not admits([same_namespace], target, pod("we", "x"), default_local_cluster=True)
    assert admits([same_namespace], target, pod("we", "x"), default_local_cluster=False)


def test_not_in_alone_also_matches_identities_without_the_label():
    """Why every aksmesh selector also requires the namespace label to exist."""
    deny = _policy({"endpointSelector": {}, "enableDefaultDeny": {"ingress": False},
                    "ingressDeny": [{"fromEndpoints": [{"matchExpressions": [
                        {"key": "k8s:io.kubernetes.pod.namespace", "operator": "NotIn",
                         "values": ["x-wing"]}]}]}]})
    assert not admits([deny], pod("ne", "x"), reserved("world"), default_local_cluster=False)


def test_affinity_literal_none_and_the_missing_annotation_differ():
    def service(cluster: str, **annotations: str):
        return {"kind": "Service", "metadata": {"name": "s", "namespace": "n", "annotations": {
            "service.cilium.io/global": "true", **annotations}},
            "spec": {"selector": {"app": "s"}}}

    plain = read_objects({"ne": [service("ne")], "we": [service("we")]})
    assert backend_preference(plain, "n", "s")["ne"] == (("ne", "we"),)
    literal = read_objects({"ne": [service("ne", **{"service.cilium.io/affinity": "none"})],
                            "we": [service("we")]})
    assert backend_preference(literal, "n", "s")["ne"] == (("ne",),)  # before cilium#46635
    unshared = read_objects({"ne": [service("ne")],
                             "we": [service("we", **{"service.cilium.io/shared": "false"})]})
    assert backend_preference(unshared, "n", "s") == {"ne": (("ne",),), "we": (("ne", "we"),)}


def test_a_field_outside_the_model_is_refused():
    with pytest.raises(ModelError):
        _policy({"endpointSelector": {}, "ingress": [{"fromCIDR": ["10.0.0.0/8"]}]})
    with pytest.raises(ModelError):
        parse_policy({"kind": "CiliumNetworkPolicy", "metadata": {"name": "p"},
                      "spec": {"endpointSelector": {}}}, "ne")
    assert parse_service({"metadata": {"name": "s", "namespace": "n"}}).is_global is False


def test_other_namespaces_stand_for_every_unnamed_one(four):
    plan, files = four
    mesh = mesh_objects(plan, files)
    assert namespaces_named(mesh)[-1] == OTHER_NAMESPACES
    assert {"bank", "shop", "web", "batch"} <= set(namespaces_named(mesh))


# ------------------------------------------------------------------ plan shows the answer


def test_plan_shows_the_matrix_and_the_service_table():
    result = run_cli("plan", SEED_DEMO)
    assert result.exit_code == 0, result.output
    assert "  we/rebel-base <- ne/x-wing, onprem/x-wing" in result.stdout
    assert "  onprem/(others) <- (none)" in result.stdout
    assert "Global service rebel-base/rebel-base-ne (affinity remote, backends ne)" in result.stdout
    assert "  we: ne\n" in result.stdout
    data = json.loads(run_cli("plan", "--json", SEED_DEMO).stdout)
    assert {"name", "clusters", "globalServices", "segmentation"} <= set(data)  # additive
    rows = {row["to"]: row["from"] for row in data["reachability"]["admitted"]}
    assert rows["ne/rebel-base"] == ["we/x-wing", "onprem/x-wing"]
    [service] = [s for s in data["globalServiceBackends"] if s["service"] == "rebel-base/rebel-base"]
    assert service["clusters"]["onprem"]["preference"] == [["ne", "we"]]


def test_plan_without_mesh_apps_has_no_matrix(tmp_path):
    path = tmp_path / "mesh.yaml"
    path.write_text(textwrap.dedent(VALID), encoding="utf-8")
    data = json.loads(run_cli("plan", "--json", path).stdout)
    assert data["reachability"] is None and data["globalServiceBackends"] == []


def test_topology_page_shows_the_matrix_services_and_flows(four):
    plan, files = four
    page = files["TOPOLOGY.md"]
    assert "| b/shop | a/web, c/*, d/web |" in page
    assert "| shop/api | 80 | a, b | local | from a: a > b; from b: b > a; from c, d: a + b |" in page
    assert 'n_a ==>|"flow web → *"| n_c' in page
    assert 'n_b ==>|"flow web → shop; web → bank"| n_c' in page
    assert "n_svc__bank__ledger -.->|backends| n_c" in page


def test_a_rendered_object_the_model_cannot_read_stops_the_write():
    plan = compiler.validate(SEED_DEMO).plan
    from generator.render import render

    files = dict(render(plan, None).files)
    path = "clusters/we/mesh-apps/cross-cluster-ingress.yaml"
    files[path] = files[path].replace("  enableDefaultDeny:", "  egress: [{toPorts: []}]\n"
                                      "  enableDefaultDeny:", 1)
    [finding] = verify_mesh_intent(plan, files)
    assert finding.code == "AKM543" and "egress" in finding.message


# ------------------------------------------------------------------ any segmentation

from hypothesis import given, settings, strategies as st  # noqa: E402

from generator.inputs import load_schema  # noqa: E402
from generator.plan import plan_topology  # noqa: E402
from generator.flux.reachability import cross_cluster_matrix  # noqa: E402

_ENDS = st.fixed_dictionaries({"cluster": st.sampled_from(["ne", "we", "fc"])},
                              optional={"namespace": st.sampled_from(["x", "y", "z"])})


@settings(max_examples=60, deadline=None)
@given(st.lists(st.fixed_dictionaries({"from": _ENDS, "to": _ENDS}), max_size=6))
def test_any_segmentation_renders_exactly_its_flows(flows):
    """For any set of flows among three clusters and three namespaces (with and without
    namespaces, none at all), the rendered policies mean exactly the declared flows and
    change nothing else: the model agrees with the plan, pair by pair."""
    data = yaml.safe_load(THREE_CLUSTERS)
    data["segmentation"] = {"allow": flows}
    plan = plan_topology(data, load_schema())
    from generator.render import render

    files = render(plan, None).files
    assert verify_mesh_intent(plan, files) == []
    mesh = mesh_objects(plan, files)
    namespaces = namespaces_named(mesh, plan.named_namespaces)
    assert namespaces == plan.named_namespaces + (OTHER_NAMESPACES,)
    for local in (True, False):
        assert cross_cluster_matrix(mesh, namespaces, local) == plan.intended_matrix()


_SERVICE = st.fixed_dictionaries({
    "backends": st.lists(st.sampled_from(["ne", "we", "fc"]), min_size=1, max_size=3,
                         unique=True),
    "affinity": st.sampled_from(["none", "local", "remote"]),
    "namespace": st.sampled_from(["x", "y"]),
})


@settings(max_examples=60, deadline=None)
@given(st.lists(_SERVICE, min_size=1, max_size=2),
       st.lists(st.fixed_dictionaries({"from": _ENDS, "to": _ENDS}), max_size=6))
def test_the_global_service_check_agrees_with_the_model(services, flows):
    """AKM220 refuses exactly the topologies where, by the model of the rendered objects,
    some cluster sends clients to a backend cluster that does not admit them: a namespace
    of the cluster reaching one backend cluster must reach all, and some namespace must."""
    from generator.rules.mesh import check_service_reachability
    from generator.render import render

    data = yaml.safe_load(THREE_CLUSTERS)
    data["globalServices"] = [
        {"name": f"s{i}", "namespace": s["namespace"], "ports": [{"port": 80}],
         "selector": {"app": f"s{i}"}, "backends": s["backends"], "affinity": s["affinity"]}
        for i, s in enumerate(services)]
    data["segmentation"] = {"allow": flows}
    plan = plan_topology(data, load_schema())
    refused = {(f.path[1], cluster) for f in check_service_reachability(plan)
               for cluster in ("ne", "we", "fc") if f"`{cluster}`" in f.message.split(
                   "load-balances")[0]}
    mesh = mesh_objects(plan, render(plan, None).files)
    namespaces = namespaces_named(mesh, plan.named_namespaces)
    for index, service in enumerate(plan.global_services):
        for cluster in ("ne", "we", "fc"):
            targets = [b for g in service.preference(cluster) for b in g if b != cluster]
            backend_pods = {b: pod(b, service.namespace, service.selector) for b in targets}
            reach = {n: {b for b in targets if admits(mesh.policies[b], backend_pods[b],
                                                      pod(cluster, n))}
                     for n in namespaces}
            clients = [n for n in namespaces if reach[n]]
            ok = not targets or bool(clients) and all(reach[n] == set(targets) for n in clients)
            assert ok == ((index, cluster) not in refused), (service, cluster, reach)


def test_kubernetes_network_policies_as_cilium_translates_them():
    def network_policy(spec):
        return parse_policy({"kind": "NetworkPolicy", "metadata": {"name": "p", "namespace": "x"},
                             "spec": spec}, "ne")

    open_rule = network_policy({"podSelector": {}, "ingress": [{}]})
    assert admits([open_rule], pod("ne", "x"), reserved("world"))  # no `from`: every source
    egress_only = network_policy({"podSelector": {}, "policyTypes": ["Egress"], "egress": [{}]})
    assert admits([egress_only], pod("ne", "x"), pod("ne", "y"))  # no ingress section
    same_namespace = network_policy({"podSelector": {"matchLabels": {"app": "a"}},
                                     "ingress": [{"from": [{"podSelector": {}}]}]})
    assert admits([same_namespace], pod("ne", "y"), pod("ne", "z"))  # not selected
    assert not admits([same_namespace], pod("ne", "x", [("app", "a")]), pod("ne", "z"))
    assert admits([same_namespace], pod("ne", "x", [("app", "a")]), pod("ne", "x"))
    any_namespace = network_policy({"podSelector": {}, "ingress": [{"from": [
        {"namespaceSelector": {}}]}]})
    assert admits([any_namespace], pod("ne", "x"), pod("ne", "z"))
    assert not admits([any_namespace], pod("ne", "x"), reserved("remote-node"))
    assert admits([any_namespace], pod("ne", "x"), reserved("host"))  # allow-localhost
    with pytest.raises(ModelError):
        network_policy({"podSelector": {}, "ingress": [{"ports": [{"port": 80}]}]})
