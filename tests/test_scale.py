"""Large meshes render within Azure's limits, and growing a mesh changes only what must change."""

from __future__ import annotations

import pytest

from conftest import REFERENCE
from generator import compiler
from generator.diagnostics import Severity
from generator.example import example_topology
from generator.verify import References

REFERENCES = References(REFERENCE / "bicep-types", (REFERENCE / "flux",),
                        REFERENCE / "cilium" / "values.schema.json")


def compile_text(tmp_path, text, name="mesh.yaml"):
    path = tmp_path / name
    path.write_text(text)
    return compiler.compile_topology(path, compiler.Options(references=REFERENCES))


@pytest.mark.parametrize("size, peering", [(255, "full-mesh"), (511, "avnm")])
def test_the_largest_meshes_render_with_every_check(tmp_path, size, peering):
    text = example_topology(size)  # chooses avnm above the full-mesh limits
    assert f"peering: {peering}" in text or peering == "full-mesh"
    result = compile_text(tmp_path, text)
    errors = [d for d in result.diagnostics if d.severity is Severity.ERROR]
    assert errors == [] and result.files is not None
    assert len([p for p in result.files if p.endswith("/cilium/values.yaml")]) == size
    # Linear in the mesh: what every cluster shares is written once (issue 17's bounds).
    output = sum(len(text.encode()) for text in result.files.values())
    assert output <= {255: 3, 511: 6}[size] * 2**20, f"{output / 2**20:.2f} MiB"


def test_adding_one_cluster_to_64_changes_only_the_files_that_must(tmp_path):
    before = compile_text(tmp_path, example_topology(64, name="mesh"), "a.yaml").files
    after = compile_text(tmp_path, example_topology(65, name="mesh"), "b.yaml").files
    changed = {p for p in before if p in after and before[p] != after[p]}
    created = set(after) - set(before)
    assert set(before) - set(after) == set()
    new = "clusters/c065/"
    assert created == {p for p in after if p.startswith(new)}
    # The shared peer list has the new peer; the Bicep lists it; the README and TOPOLOGY.md
    # have a row for it, the state record an entry. No existing cluster's directory changes.
    assert changed == {"infrastructure/cilium-mesh/mesh-values.yaml", "bicep/main.bicep",
                       "README.md", "TOPOLOGY.md", ".aksmesh-state.json"}
