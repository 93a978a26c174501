"""What the seed article's demo needs, declared: global services, segmentation, encryption,
network security groups, Hubble, hybrid members and the topology page."""

from __future__ import annotations

import yaml
import pytest

from conftest import PROJECT, REFERENCE, VALID, expected
from generator import compiler
from generator.bicep_verify import resource_declarations, top_level_declarations
from generator.helm_values import chart_mesh_clusters, merged_values
from generator.verify import References

SEED_DEMO = PROJECT / "topologies" / "seed-demo.yaml"
REFERENCES = References(REFERENCE / "bicep-types", (REFERENCE / "flux", REFERENCE / "cilium" / "crds"),
                        REFERENCE / "cilium" / "values.schema.json")

SERVICES = """\
globalServices:
  - name: rebel-base
    namespace: default
    ports: [{port: 80}]
    selector: {name: rebel-base}
    backends: [ne, we]
"""


@pytest.fixture(scope="module")
def demo():
    result = compiler.compile_topology(SEED_DEMO, compiler.Options(references=REFERENCES))
    assert result.ok, result.diagnostics
    return result.plan, result.files


def merged(files, cluster):
    """A cluster's values as the files say them: the shared ones, then its own."""
    return merged_values(yaml.safe_load(files["infrastructure/cilium-mesh/mesh-values.yaml"]),
                         yaml.safe_load(files[f"clusters/{cluster}/cilium/values.yaml"]))


def documents(files, path):
    return [d for d in yaml.safe_load_all(files[path]) if d]


# ------------------------------------------------------------------ checks


CASES = {
    "unknown backend": VALID + SERVICES.replace("[ne, we]", "[ne, wee]  # !AKM208"),
    "duplicate service": VALID + SERVICES + SERVICES.split("\n", 1)[1].replace(
        "  - name: rebel-base", "  - name: rebel-base  # !AKM209"),
    "unknown cluster in a flow": VALID + "segmentation:\n  allow:\n"
        "    - from: {cluster: ne}\n      to: {cluster: fc}  # !AKM208\n",
    "flow inside one cluster": VALID + "segmentation:\n  allow:\n"
        "    - from: {cluster: ne}  # !AKM210\n      to: {cluster: ne}\n",
    "mixed encryption": VALID.replace("    id: 2\n", "    id: 2\n    encryption: none  # !AKM407\n"),
    "hybrid member without its mesh ip": VALID.replace(
        "  - name: we\n", "  - name: we  # !AKM102\n    managed: false\n"),
}


@pytest.mark.parametrize("text", CASES.values(), ids=CASES.keys())
def test_feature_checks(found, text):
    assert found(text) == expected(text)


def test_a_hybrid_member_may_have_a_free_text_region(found):
    text = VALID.replace("  - name: we\n    id: 2\n    region: westeurope\n",
                         "  - name: we\n    id: 2\n    managed: false\n    region: Lyon DC 3\n"
                         "    clustermeshIP: 10.20.3.250\n")
    assert found(text) == []


# ------------------------------------------------------------------ rendering


def test_global_services_are_in_every_cluster_shared_where_backends_run(demo):
    plan, files = demo
    for cluster in plan.clusters:
        services = {d["metadata"]["name"]: d for d in
                    documents(files, f"clusters/{cluster.name}/mesh-apps/global-services.yaml")}
        assert set(services) == {s.name for s in plan.global_services}
        for service in plan.global_services:
            annotations = services[service.name]["metadata"]["annotations"]
            assert annotations["service.cilium.io/global"] == "true"
            assert annotations["service.cilium.io/shared"] == str(
                cluster.name in service.backends).lower()
            assert annotations["service.cilium.io/affinity"] == service.affinity
            assert services[service.name]["spec"]["selector"] == dict(service.selector)


def test_mesh_apps_come_after_cilium(demo):
    plan, files = demo
    for cluster in plan.clusters:
        [kustomization] = documents(files, f"clusters/{cluster.name}/mesh-apps.yaml")
        assert kustomization["spec"]["dependsOn"] == [{"name": "cilium"}]
        root = documents(files, f"clusters/{cluster.name}/kustomization.yaml")[0]
        assert "mesh-apps.yaml" in root["resources"]


def test_segmentation_admits_exactly_the_declared_flows(demo):
    plan, files = demo
    for cluster in plan.clusters:
        policies = documents(files, f"clusters/{cluster.name}/mesh-apps/cross-cluster-ingress.yaml")
        baseline = next(p for p in policies if p["spec"]["endpointSelector"] == {})
        local = baseline["spec"]["ingress"][0]["fromEndpoints"]
        assert local == [{"matchLabels": {"io.cilium.k8s.policy.cluster": cluster.name}}]
        admitted = set()
        for policy in policies:
            if policy is baseline:
                continue
            namespace = policy["spec"]["endpointSelector"]["matchLabels"][
                "k8s:io.kubernetes.pod.namespace"]
            for rule in policy["spec"]["ingress"]:
                for selector in rule["fromEndpoints"]:
                    labels = selector["matchLabels"]
                    admitted.add((labels["io.cilium.k8s.policy.cluster"],
                                  labels.get("k8s:io.kubernetes.pod.namespace"), namespace))
        declared = {(f.source.cluster, f.source.namespace, f.destination.namespace)
                    for f in plan.flows_into(cluster)}
        assert admitted == declared


def test_encryption_and_hubble_follow_the_topology(demo):
    plan, files = demo
    for cluster in plan.clusters:
        values = merged(files, cluster.name)
        assert values["encryption"] == {"enabled": True, "type": "wireguard"}
        assert values["hubble"]["relay"]["enabled"] is plan.hubble_relay is True
        assert values["hubble"]["ui"]["enabled"] is plan.hubble_ui is True


def test_a_hybrid_member_gets_flux_and_values_but_no_bicep(demo):
    plan, files = demo
    [hybrid] = [c for c in plan.clusters if not c.managed]
    main = {d.name: d for d in top_level_declarations(files["bicep/main.bicep"])
            if d.kind == "variable"}
    assert hybrid.name not in [c["name"] for c in main["clusters"].value]
    assert str(hybrid.node_subnet_cidr) in main["meshNodeSubnetCidrs"].value
    values = merged(files, hybrid.name)
    assert "aksbyocni" not in values
    assert "annotations" not in values["clustermesh"]["apiserver"]["service"]
    for other in plan.managed_clusters:
        peers = chart_mesh_clusters(merged(files, other.name))
        assert peers[hybrid.name]["ips"] == [str(hybrid.clustermesh_ip)]


def test_node_subnet_nsg_admits_only_the_mesh_from_other_clusters(demo):
    plan, files = demo
    module = {d.symbol: d for d in resource_declarations(files["bicep/modules/cluster.bicep"])}
    rules = {r["name"]: r["properties"] for r in module["nodeSubnetNsg"].body["properties"]["securityRules"]}
    allowed = {(r["protocol"], r["destinationPortRange"]) for r in rules.values()
               if r["access"] == "Allow" and str(r.get("sourceAddressPrefixes", "")) != ""}
    assert {("Udp", "8472"), ("Tcp", "4240"), ("Icmp", "*"), ("Udp", "51871"),
            ("Tcp", "2379")} <= allowed
    deny = rules["deny-rest-of-mesh"]
    assert deny["access"] == "Deny" and deny["protocol"] == "*"
    assert max(r["priority"] for r in rules.values() if r["access"] == "Allow") < deny["priority"]
    subnet = module["vnet"].body["properties"]["subnets"][0]["properties"]
    assert str(subnet["networkSecurityGroup"]["id"]) == "Expression(text='nodeSubnetNsg.id')"


def test_topology_page_draws_every_cluster_and_link(demo):
    plan, files = demo
    page = files["TOPOLOGY.md"]
    assert "```mermaid" in page
    n = len(plan.clusters)
    assert page.count("<-->") + page.count("<-.->") == n * (n - 1) // 2
    for cluster in plan.clusters:
        assert f"| {cluster.name} | {cluster.id} |" in page


@pytest.mark.skipif(not __import__("shutil").which("kubectl"), reason="kubectl is not installed")
def test_committed_mesh_apps_build_with_kustomize():
    import subprocess

    root = PROJECT / "out" / "seed-demo" / "clusters"
    for cluster in sorted(p.name for p in root.iterdir()):
        build = subprocess.run(["kubectl", "kustomize", str(root / cluster / "mesh-apps")],
                               capture_output=True, text=True, check=True).stdout
        kinds = sorted(d["kind"] for d in yaml.safe_load_all(build) if d)
        assert kinds == ["CiliumClusterwideNetworkPolicy"] * kinds.count(
            "CiliumClusterwideNetworkPolicy") + ["Service", "Service"]
