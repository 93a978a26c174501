"""What the seed article's demo needs, declared: global services, segmentation, encryption,
network security groups, Hubble, hybrid members and the topology page."""

from __future__ import annotations

import yaml
import pytest

from conftest import PROJECT, REFERENCE, VALID
from generator import compiler
from generator.bicep.read import Expression, resource_declarations, top_level_declarations
from generator.flux.helm_values import chart_mesh_clusters, merged_values
from generator.verify import References

SEED_DEMO = PROJECT / "topologies" / "seed-demo.yaml"
REFERENCES = References(REFERENCE / "bicep-types", (REFERENCE / "flux", REFERENCE / "cilium" / "crds"),
                        REFERENCE / "cilium" / "values.schema.json")


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
            # `none` is Cilium's default: a literal "none" dropped every remote backend
            # before cilium/cilium#46635, so it is left out.
            assert annotations.get("service.cilium.io/affinity", "none") == service.affinity
            assert ("service.cilium.io/affinity" in annotations) == (service.affinity != "none")
            # Outside backends the Service selects no pod, even where its pods run.
            assert services[service.name]["spec"].get("selector") == (
                dict(service.selector) if cluster.name in service.backends else None)


def test_mesh_apps_come_after_cilium(demo):
    plan, files = demo
    for cluster in plan.clusters:
        [kustomization] = documents(files, f"clusters/{cluster.name}/mesh-apps.yaml")
        assert kustomization["spec"]["dependsOn"] == [{"name": "cilium"}]
        root = documents(files, f"clusters/{cluster.name}/kustomization.yaml")[0]
        assert "mesh-apps.yaml" in root["resources"]


def test_segmentation_policies_only_deny_and_never_default_deny(demo):
    """The shape the reachability model proves: no allow rule anywhere, default deny off,
    every selector naming pods (the namespace label) and every peer naming its cluster."""
    plan, files = demo
    for cluster in plan.clusters:
        policies = documents(files, f"clusters/{cluster.name}/mesh-apps/cross-cluster-ingress.yaml")
        assert policies
        for policy in policies:
            spec = policy["spec"]
            assert "ingress" not in spec and "egress" not in spec
            assert spec["enableDefaultDeny"] == {"ingress": False, "egress": False}
            assert spec["endpointSelector"] != {}
            for selector in [spec["endpointSelector"]] + spec["ingressDeny"][0]["fromEndpoints"]:
                keys = set(selector.get("matchLabels", {})) | {
                    e["key"] for e in selector.get("matchExpressions", [])}
                assert "k8s:io.kubernetes.pod.namespace" in keys
            for peer in spec["ingressDeny"][0]["fromEndpoints"]:
                keys = set(peer.get("matchLabels", {})) | {
                    e["key"] for e in peer.get("matchExpressions", [])}
                assert "io.cilium.k8s.policy.cluster" in keys


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
    # No Azure load balancer annotations: the address is asked of Cilium's LB-IPAM.
    assert values["clustermesh"]["apiserver"]["service"]["annotations"] == {
        "lbipam.cilium.io/ips": str(hybrid.clustermesh_ip)}
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
    assert subnet["networkSecurityGroup"]["id"] == Expression("nodeSubnetNsg.id")


def test_topology_page_draws_every_cluster_and_link(demo):
    plan, files = demo
    page = files["TOPOLOGY.md"]
    assert "```mermaid" in page
    n = len(plan.clusters)
    diagram = page.split("```mermaid", 1)[1].split("```", 1)[0]
    assert diagram.count("<-->") + diagram.count("<-.->") + diagram.count("<==>") == n * (n - 1) // 2
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
            "CiliumClusterwideNetworkPolicy") + ["Namespace", "Service", "Service"]


def test_topology_page_draws_avnm_unlike_peering(tmp_path):
    """An AVNM mesh has no peerings: the diagram must not draw it as one."""
    pages = {}
    for peering in ("full-mesh", "avnm"):
        path = tmp_path / f"{peering}.yaml"
        path.write_text(VALID + f"peering: {peering}\n", encoding="utf-8")
        result = compiler.compile_topology(path)
        assert result.ok, result.diagnostics
        pages[peering] = result.files["TOPOLOGY.md"].split("```mermaid", 1)[1].split("```")[0]
    assert "n_ne <-->|VNet peering + ClusterMesh| n_we" in pages["full-mesh"]
    assert "n_ne <==>|AVNM mesh + ClusterMesh| n_we" in pages["avnm"]
    assert "peering" not in pages["avnm"]
