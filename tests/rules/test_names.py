"""AKM201-AKM206: cluster names and ids (generator/rules/names.py), one test per rule."""

import pytest

from conftest import expected, large_mesh, mutate


CASES = {
    "duplicate name": mutate(("  - name: we\n", "  - name: ne  # !AKM201\n")),
    "duplicate id": mutate(("    id: 2\n", "    id: 1  # !AKM202\n")),
    "id above the limit": mutate(("    id: 2\n", "    id: 300  # !AKM203\n")),
    "reserved name": mutate(("  - name: we\n", "  - name: default  # !AKM205\n")),
    "derived name too long": mutate(
        ("name: mesh\n", "name: a-rather-long-topology-name-x\n"),
        ("  - name: we\n", "  - name: a-rather-long-cluster-name-xyz  # !AKM204\n")),
}


@pytest.mark.parametrize("text", CASES.values(), ids=CASES.keys())
def test_rule_reports_code_and_line(found, text):
    assert found(text) == expected(text)


def test_more_clusters_than_cilium_connects_is_akm206(diagnose):
    codes = {d.code for d in diagnose(large_mesh(256))}
    assert "AKM206" in codes and "AKM203" in codes


def test_a_mesh_of_255_is_clean(diagnose):
    assert diagnose(large_mesh(255)) == []


def test_a_full_mesh_with_a_duplicate_id_says_so(diagnose):
    text = large_mesh(256).replace("    id: 256\n", "    id: 255\n")
    [duplicate] = [d for d in diagnose(text) if d.code == "AKM202"]
    assert duplicate.hint == "every id is taken: the mesh is full"
