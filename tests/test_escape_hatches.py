"""Escape hatches: per-cluster extra Cilium Helm values, merged under aksmesh's own (a value
aksmesh sets is refused: AKM730, tests/rules/test_day2.py)."""

from __future__ import annotations

import yaml

from conftest import REFERENCE, mutate
from generator import compiler
from generator.flux.helm_values import merged_values
from generator.flux.render import MESH_VALUES_FILE
from generator.verify import References


def with_values(block: str) -> str:
    return mutate(("    serviceCidr: 10.220.0.0/16\n",
                   "    serviceCidr: 10.220.0.0/16\n    ciliumValues:\n" + block))


def test_extra_values_are_merged_under_aksmeshs_and_checked_against_the_chart(tmp_path):
    path = tmp_path / "mesh.yaml"
    path.write_text(with_values(
        "      operator:\n        replicas: 1\n"
        "      clustermesh:\n        apiserver:\n          replicas: 2\n"))
    references = References(cilium_values_schema=REFERENCE / "cilium" / "values.schema.json")
    result = compiler.compile_topology(path, compiler.Options(references=references))
    assert result.ok, result.diagnostics
    values = yaml.safe_load(result.files["clusters/we/cilium/values.yaml"])
    assert values["operator"] == {"replicas": 1}
    assert values["clustermesh"]["apiserver"]["replicas"] == 2
    # What the chart receives: the shared values, then the cluster's (helm-controller's order).
    effective = merged_values(yaml.safe_load(result.files[MESH_VALUES_FILE]), values)
    assert effective["clustermesh"]["apiserver"]["replicas"] == 2
    assert effective["clustermesh"]["apiserver"]["tls"]["authMode"] == "cluster"  # aksmesh's
    assert "operator" not in yaml.safe_load(result.files["clusters/ne/cilium/values.yaml"])

    path.write_text(with_values("      operator:\n        replicas: one\n"))
    refused = compiler.compile_topology(path, compiler.Options(references=references))
    assert [d.code for d in refused.diagnostics if d.code == "AKM512"] == ["AKM512"]
