"""A tree that grows linearly with the mesh: what every cluster shares is kept once.

The peer list and the other mesh-wide Cilium values live in infrastructure/cilium-mesh/,
the flux-system patches in infrastructure/flux-system-patches/ (a kustomize Component).
These tests check that each cluster still gets the values it got before (the values
rendered just before the mesh-wide values moved to a shared file, by main at 7d72338,
kept in tests/fixtures/values-before-shared-file.json), that the shared
files are the only place the mesh-wide data lives, and that adding or removing a cluster
touches a constant number of existing files.
"""

from __future__ import annotations

import copy
import json
import shutil
import subprocess
from pathlib import Path

import pytest
import yaml

from conftest import PROJECT, run_cli
from generator import compiler
from generator.example import example_topology
from generator.flux.helm_values import chart_mesh_clusters, merge_maps, merged_values

TODAY = json.loads((PROJECT / "tests" / "fixtures" / "values-before-shared-file.json").read_text())
MESH_VALUES = "infrastructure/cilium-mesh/mesh-values.yaml"
KUBECTL = shutil.which("kubectl")


def topology_path(key: str, tmp_path: Path) -> Path:
    if key.startswith("example-"):
        path = tmp_path / f"{key}.yaml"
        path.write_text(example_topology(int(key.removeprefix("example-"))))
        return path
    return PROJECT / "topologies" / f"{key}.yaml"


def compiled_files(path: Path) -> dict[str, str]:
    result = compiler.compile_topology(path)
    assert result.ok and result.files is not None, [str(d) for d in result.diagnostics]
    return result.files


# ---------------------------------------------------------------- the merge model


def test_merge_follows_helm_maps_merge_and_the_rest_replaces():
    # fluxcd/pkg chartutil/merge.go MergeMaps: maps merge recursively; lists and scalars
    # replace; a scalar may replace a map and a map a scalar.
    base = {"a": {"b": 1, "c": [1, 2]}, "d": {"e": 1}, "f": 1}
    override = {"a": {"c": [3], "x": True}, "d": 2, "f": {"g": 1}}
    assert merge_maps(base, override) == {"a": {"b": 1, "c": [3], "x": True}, "d": 2,
                                          "f": {"g": 1}}
    assert base == {"a": {"b": 1, "c": [1, 2]}, "d": {"e": 1}, "f": 1}  # inputs untouched


def test_the_chart_leaves_disabled_entries_out_of_the_mesh():
    values = {"clustermesh": {"config": {"clusters": {
        "a": {"ips": ["10.0.0.1"], "port": 2379, "enabled": False},
        "b": {"ips": ["10.0.0.2"], "port": 2379, "enabled": True},
        "c": {"ips": ["10.0.0.3"], "port": 2379}}}}}
    assert chart_mesh_clusters(values) == {"b": {"ips": ["10.0.0.2"], "port": 2379},
                                           "c": {"ips": ["10.0.0.3"], "port": 2379}}


# ---------------------------------------------------------------- the values are today's


@pytest.mark.parametrize("key", sorted(TODAY))
def test_each_cluster_gets_the_values_it_got_before(tmp_path, key):
    """Shared file then the cluster's file, merged as helm-controller merges valuesFrom, is
    today's values.yaml plus one disabled entry for the cluster itself, which the chart
    drops: the chart receives exactly what it received before (7d72338)."""
    files = compiled_files(topology_path(key, tmp_path))
    shared = yaml.safe_load(files[MESH_VALUES])
    for name, before in TODAY[key].items():
        own = yaml.safe_load(files[f"clusters/{name}/cilium/values.yaml"])
        merged = merged_values(shared, own)
        own_entry = dict(merged["clustermesh"]["config"]["clusters"][name])
        assert own_entry.pop("enabled") is False
        assert set(own_entry) == {"ips", "port"}
        seen = copy.deepcopy(merged)
        seen["clustermesh"]["config"]["clusters"] = chart_mesh_clusters(merged)
        assert seen == before, name
        assert name not in chart_mesh_clusters(merged)


def test_the_fixture_lists_no_cluster_as_its_own_peer():
    for clusters in TODAY.values():
        for name, values in clusters.items():
            assert name not in values["clustermesh"]["config"]["clusters"]
            assert set(values["clustermesh"]["config"]["clusters"]) == set(clusters) - {name}


# ---------------------------------------------------------------- kept once


def test_mesh_wide_data_is_in_no_cluster_directory_but_its_own(tmp_path):
    files = compiled_files(topology_path("example-6", tmp_path))
    shared = yaml.safe_load(files[MESH_VALUES])
    peers = shared["clustermesh"]["config"]["clusters"]
    assert len(peers) == 6
    for name, peer in peers.items():
        [ip] = peer["ips"]
        holders = {path.split("/")[1] for path, text in files.items()
                   if path.startswith("clusters/") and f" {ip}\n" in text}
        assert holders == {name}, f"{ip} of {name} appears in {holders}"
    flux_system = {text for path, text in files.items()
                   if path.endswith("/flux-system/kustomization.yaml")}
    assert len(flux_system) == 1, "the per-cluster flux-system files differ"
    assert "patches:" not in next(iter(flux_system))
    assert "patches:" in files["infrastructure/flux-system-patches/kustomization.yaml"]


@pytest.mark.skipif(KUBECTL is None, reason="kubectl not found on PATH")
def test_kubectl_refuses_a_generator_file_outside_the_kustomization(tmp_path):
    """Why the shared values are a directory of their own: with kubectl's default load
    restrictions (RootOnly) a generator cannot read ../mesh-values.yaml, while a resource
    or a component directory in a parent directory builds (kustomize gives it a loader
    rooted there)."""
    (tmp_path / "common").mkdir()
    (tmp_path / "common" / "mesh-values.yaml").write_text("a: 1\n")
    (tmp_path / "common" / "kustomization.yaml").write_text(
        "configMapGenerator:\n  - name: m\n    files:\n      - values.yaml=mesh-values.yaml\n")
    direct = tmp_path / "direct"
    direct.mkdir()
    (direct / "kustomization.yaml").write_text(
        "configMapGenerator:\n  - name: m\n    files:\n      - ../common/mesh-values.yaml\n")
    result = subprocess.run([KUBECTL, "kustomize", str(direct)], capture_output=True, text=True)
    assert result.returncode != 0 and "security" in result.stderr + result.stdout
    via_directory = tmp_path / "via"
    via_directory.mkdir()
    (via_directory / "kustomization.yaml").write_text("resources:\n  - ../common\n")
    result = subprocess.run([KUBECTL, "kustomize", str(via_directory)], capture_output=True,
                            text=True)
    assert result.returncode == 0, result.stderr
    assert "values.yaml: |\n    a: 1" in result.stdout


# ---------------------------------------------------------------- adding a cluster


def rendered_tree(tmp_path: Path, clusters: int, name: str) -> dict[str, bytes]:
    topology = tmp_path / f"{name}.yaml"
    topology.write_text(example_topology(clusters, name="mesh"))
    out = tmp_path / name
    result = run_cli("render", topology, "-o", out)
    assert result.exit_code == 0, result.output
    root = out / "mesh"
    return {str(p.relative_to(root)): p.read_bytes() for p in root.rglob("*") if p.is_file()}


def growth(tmp_path: Path, size: int) -> tuple[set[str], set[str], set[str]]:
    """Changed, created and removed files when a mesh of `size` gets one cluster more."""
    before = rendered_tree(tmp_path, size, f"before-{size}")
    after = rendered_tree(tmp_path, size + 1, f"after-{size}")
    changed = {p for p in before.keys() & after.keys() if before[p] != after[p]}
    return changed, after.keys() - before.keys(), before.keys() - after.keys()


def test_adding_a_cluster_touches_the_same_few_files_at_any_mesh_size(tmp_path):
    changed_10, created_10, removed_10 = growth(tmp_path, 10)
    changed_30, created_30, removed_30 = growth(tmp_path, 30)
    assert changed_10 == changed_30 == {
        ".aksmesh-files", ".aksmesh-state.json", "README.md", "TOPOLOGY.md", "bicep/main.bicep",
        MESH_VALUES}
    assert len(changed_30) <= 8
    assert removed_10 == removed_30 == set()
    assert created_10 and all(p.startswith("clusters/c011/") for p in created_10)
    assert created_30 and all(p.startswith("clusters/c031/") for p in created_30)
    assert {p.removeprefix("clusters/c011/") for p in created_10} == \
        {p.removeprefix("clusters/c031/") for p in created_30}


def test_removing_a_cluster_is_symmetrical(tmp_path):
    bigger = rendered_tree(tmp_path, 31, "bigger")
    topology = tmp_path / "smaller.yaml"
    topology.write_text(example_topology(30, name="mesh"))
    out = tmp_path / "bigger"  # render the smaller mesh over the bigger tree
    # Removing a running cluster is disruptive: acknowledged, it renders its cleanup too.
    result = run_cli("render", topology, "-o", out, "--allow-disruptive", "clusters.c031")
    assert result.exit_code == 0, result.output
    root = out / "mesh"
    smaller = {str(p.relative_to(root)): p.read_bytes() for p in root.rglob("*") if p.is_file()}
    changed = {p for p in bigger.keys() & smaller.keys() if bigger[p] != smaller[p]}
    assert changed == {".aksmesh-files", ".aksmesh-state.json", "README.md", "TOPOLOGY.md",
                       "bicep/main.bicep", MESH_VALUES}
    assert bigger.keys() - smaller.keys() == {p for p in bigger if p.startswith("clusters/c031/")}
    assert smaller.keys() - bigger.keys() == {"REMOVED.md"}


# ---------------------------------------------------------------- aksmesh example


@pytest.mark.parametrize("size", [2, 400, 401, 511])
def test_the_example_command_writes_a_topology_that_validates(tmp_path, size):
    written = run_cli("example", "--clusters", size)
    assert written.exit_code == 0
    path = tmp_path / "mesh.yaml"
    path.write_text(written.stdout)
    result = run_cli("validate", path)
    assert result.exit_code == 0, result.output
    assert "error" not in result.output.replace("0 errors", "")


# ---------------------------------------------------------------- the process entry point


def entry_point(*args: object, stdin: str = "") -> subprocess.CompletedProcess[str]:
    import sys
    return subprocess.run([sys.executable, "-m", "generator", *map(str, args)],
                          capture_output=True, text=True, input=stdin, cwd=PROJECT)


def test_leaving_without_teardown_keeps_output_and_exit_codes(tmp_path):
    """`python -m generator` ends with os._exit: buffered output must still arrive whole,
    and the exit codes stay the CLI's (0, 1 findings, 2 usage)."""
    printed = entry_point("example", "--clusters", 300)
    assert printed.returncode == 0
    assert printed.stdout == example_topology(300)
    bad = tmp_path / "bad.yaml"
    bad.write_text("name: x\n")
    found = entry_point("validate", bad)
    assert found.returncode == 1 and "AKM1" in found.stdout + found.stderr
    usage = entry_point("render", "--no-such-option")
    assert usage.returncode == 2 and "usage:" in usage.stderr
    topology = tmp_path / "mesh.yaml"
    topology.write_text(example_topology(3, name="mesh"))
    rendered = entry_point("render", topology, "-o", tmp_path / "out")
    assert rendered.returncode == 0, rendered.stderr
    assert (tmp_path / "out" / "mesh" / MESH_VALUES).read_text().startswith("# Generated")
    assert (tmp_path / "out" / "mesh" / ".aksmesh-files").is_file()
