"""A hybrid member (managed: false) asks for its planned ClusterMesh IP, is not counted or
deployed as an AKS cluster, and nothing Azure-side is derived from it, even when it comes
first. Each test failed on the tree at the start of issue 13 (checked)."""

from __future__ import annotations

import yaml

from bootstrap_model import example_topologies, shell_commands
from generator import compiler, facts
from generator.flux.verify import values_disagreements

EXAMPLES = example_topologies()


def _compiled(name):
    result = compiler.compile_topology(EXAMPLES[name])
    assert result.ok, [d.format_text() for d in result.diagnostics]
    return result


def test_the_hybrid_members_service_requests_its_clustermesh_ip():
    for name in ("seed-demo", "hybrid-first"):
        result = _compiled(name)
        for cluster in result.plan.clusters:
            values = yaml.safe_load(result.files[f"clusters/{cluster.name}/cilium/values.yaml"])
            annotations = values["clustermesh"]["apiserver"]["service"]["annotations"]
            if not cluster.managed:
                assert annotations == {facts.LBIPAM_IPS_ANNOTATION: str(cluster.clustermesh_ip)}


def test_verify_notices_a_hybrid_member_without_its_ip():
    result = _compiled("hybrid-first")
    cluster = result.plan.clusters[0]
    assert not cluster.managed
    values = yaml.safe_load(result.files[f"clusters/{cluster.name}/cilium/values.yaml"])
    del values["clustermesh"]["apiserver"]["service"]["annotations"]
    assert any("load balancer IP" in p for p in values_disagreements(cluster, result.plan, values))


def test_a_hybrid_member_first_is_not_an_aks_cluster_nor_the_deployment_location():
    result = _compiled("hybrid-first")
    plan, readme = result.plan, result.files["README.md"]
    assert not plan.clusters[0].managed
    assert plan.deployment_location == plan.managed_clusters[0].region == "westeurope"
    assert "of 2 AKS clusters and 1 hybrid member" in readme
    row = next(line for line in readme.splitlines() if line.startswith("| dc |"))
    assert plan.clusters[0].resource_group not in row
    locations = {argv[argv.index("--location") + 1] for argv in shell_commands(readme)
                 if "--location" in argv}
    assert locations == {"westeurope"}
    assert plan.clusters[0].resource_group not in result.files["bicep/main.bicep"]
