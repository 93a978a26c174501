"""`plan --json` has a format version and a documented shape."""

import json

from conftest import PROJECT, VALID, run_cli

DOC = (PROJECT / "docs" / "plan-json.md").read_text()

WAVES = VALID + """\
rollout:
  waves:
    - {name: canary, clusters: [ne]}
    - {name: rest, clusters: [we]}
globalServices:
  - name: api
    namespace: shop
    ports: [{port: 80, name: http}]
    selector: {app: api}
    backends: [ne, we]
segmentation:
  allow:
    - {from: {cluster: ne}, to: {cluster: we, namespace: shop}}
    - {from: {cluster: we}, to: {cluster: ne, namespace: shop}}
"""


def keys(value, found=None):
    found = set() if found is None else found
    if isinstance(value, dict):
        for key, item in value.items():
            found.add(key)
            keys(item, found)
    elif isinstance(value, list):
        for item in value:
            keys(item, found)
    return found


def test_plan_json_has_a_format_version_and_every_key_is_documented(tmp_path):
    path = tmp_path / "mesh.yaml"
    path.write_text(WAVES)
    result = run_cli("plan", "--json", "-o", tmp_path / "out", path)
    assert result.exit_code == 0, result.output
    plan = json.loads(result.stdout)
    assert plan["formatVersion"] == 1
    assert plan["deploymentLocation"] == "northeurope"
    assert [w["name"] for w in plan["rollout"]] == ["canary", "rest"]
    for service in plan["globalServiceBackends"]:  # keyed by cluster name, as documented
        service["clusters"] = list(service["clusters"].values())
    undocumented = sorted(k for k in keys({k: v for k, v in plan.items() if k != "tags"})
                          if f"`{k}`" not in DOC)
    assert undocumented == []


def test_plan_text_shows_azure_names_location_waves_services_flows_and_hybrids(tmp_path):
    path = tmp_path / "mesh.yaml"
    path.write_text(WAVES.replace("    serviceCidr: 10.220.0.0/16\n",
                                  "    serviceCidr: 10.220.0.0/16\n    managed: false\n"
                                  "    clustermeshIP: 10.20.3.250\n"))
    result = run_cli("plan", "-o", tmp_path / "out", path)
    assert result.exit_code == 0, result.output
    text = result.stdout
    assert "westeurope (hybrid)" in text
    assert "Azure: subscription deployment `mesh` in northeurope" in text
    assert "  ne: resource group rg-mesh-ne, AKS aks-mesh-ne, VNet vnet-mesh-ne" in text
    assert "  we: hybrid member, not in Azure" in text
    assert "  1. canary: ne (Cilium 1.20.0)" in text
    assert "  shop/api (80/TCP): backends ne, we, affinity none" in text
    assert "  ne/* -> we/shop" in text
