"""Every Kustomization of every cluster applies in order (generator/flux/apply_model.py, a model
of kustomize-controller's staged server-side apply), and no app team's namespace is Flux's.

On the tree before the fix, mesh-apps failed on every cluster of seed-demo: its Services
live in `rebel-base`, which nothing created (on `onprem` nothing ever would).
"""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from bootstrap_model import example_topologies
from conftest import PROJECT
from generator import compiler
from generator.flux import apply_model
from generator.flux.verify_apply import verify_apply_order

EXAMPLES = example_topologies()


def _documents(files: dict[str, str]) -> dict[str, list[dict]]:
    return {path: [d for d in yaml.safe_load_all(text) if isinstance(d, dict)]
            for path, text in files.items() if path.endswith(".yaml")}


def _compiled(name: str):
    result = compiler.compile_topology(EXAMPLES[name], compiler.Options())
    assert result.ok and result.files is not None, [d.format_text() for d in result.diagnostics]
    return result


@pytest.mark.parametrize("name", ["eu-three-regions", "seed-demo"])
def test_the_committed_trees_apply_in_order(name):
    """out/<name> as committed: what users deploy."""
    tree = PROJECT / "out" / name
    files = {str(p.relative_to(tree)): p.read_text(encoding="utf-8")
             for p in tree.rglob("*.yaml")}
    plan = _compiled(name).plan
    assert [d.format_text() for d in verify_apply_order(plan, files)] == []


@pytest.mark.parametrize("name", sorted(EXAMPLES))
def test_every_kustomization_applies_in_order(name):
    result = _compiled(name)
    documents = _documents(result.files)
    for cluster in result.plan.clusters:
        assert apply_model.apply_cluster(f"clusters/{cluster.name}", result.plan.gitops_path,
                                         documents) == []


def test_a_service_without_its_namespace_fails_the_whole_kustomization():
    result = _compiled("seed-demo")
    files = dict(result.files)
    del files["clusters/onprem/mesh-apps/namespaces.yaml"]
    files["clusters/onprem/mesh-apps/kustomization.yaml"] = files[
        "clusters/onprem/mesh-apps/kustomization.yaml"].replace("  - namespaces.yaml\n", "")
    (problem,) = apply_model.apply_cluster("clusters/onprem", result.plan.gitops_path,
                                          _documents(files))
    assert problem.kustomization == "mesh-apps"
    assert problem.file == "clusters/onprem/mesh-apps/global-services.yaml"
    assert 'namespaces "rebel-base" not found' in problem.message
    assert "applies nothing" in problem.message


def test_cilium_kinds_before_cilium_runs_are_refused():
    result = _compiled("seed-demo")
    files = dict(result.files)
    path = "clusters/ne/mesh-apps.yaml"
    files[path] = files[path].replace("  dependsOn:\n    - name: cilium\n", "")
    problems = apply_model.apply_cluster("clusters/ne", result.plan.gitops_path, _documents(files))
    assert any("no matches for kind CiliumClusterwideNetworkPolicy" in p.message for p in problems)
    # verify reports it against the rendered file, and render writes nothing.
    codes = {(d.code, d.file) for d in verify_apply_order(result.plan, files)}
    assert ("AKM520", "seed-demo/clusters/ne/mesh-apps/cross-cluster-ingress.yaml") in codes


def test_crds_are_applied_before_their_objects_in_one_kustomization():
    crd = {"apiVersion": "apiextensions.k8s.io/v1", "kind": "CustomResourceDefinition",
           "metadata": {"name": "widgets.example.com"},
           "spec": {"names": {"kind": "Widget"}, "scope": "Namespaced"}}
    widget = {"apiVersion": "example.com/v1", "kind": "Widget",
              "metadata": {"name": "w", "namespace": "shop"}}
    namespace = {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "shop"}}
    documents = {"k/kustomization.yaml": [{"resources": ["objects.yaml"]}],
                 "k/objects.yaml": [widget, crd, namespace]}
    assert apply_model.apply_cluster("k", "", documents) == []
    documents["k/objects.yaml"] = [widget, namespace]  # the CRD is nowhere
    (problem,) = apply_model.apply_cluster("k", "", documents)
    assert "no matches for kind Widget" in problem.message


def test_a_dependency_that_fails_blocks_its_dependents():
    result = _compiled("seed-demo")
    files = dict(result.files)
    path = "clusters/ne/cilium.yaml"
    files[path] = files[path].replace("  decryption:\n    provider: sops\n    secretRef:\n"
                                      "      name: sops-age\n", "")
    problems = apply_model.apply_cluster("clusters/ne", result.plan.gitops_path, _documents(files))
    assert [p.kustomization for p in problems] == ["cilium", "mesh-apps"]
    assert "SOPS encrypted" in problems[0].message
    assert "never become Ready" in problems[1].message


def test_rendered_namespaces_are_never_adopted_nor_pruned():
    result = _compiled("seed-demo")
    namespaces = [doc for path, docs in _documents(result.files).items() for doc in docs
                  if doc.get("kind") == "Namespace"]
    assert {d["metadata"]["name"] for d in namespaces} == {"rebel-base"}
    for doc in namespaces:
        assert not apply_model.prune_would_delete(apply_model.Placed("", doc))
        assert doc["metadata"]["annotations"][apply_model.SSA_ANNOTATION] == "IfNotPresent"
    files = dict(result.files)
    path = "clusters/we/mesh-apps/namespaces.yaml"
    files[path] = files[path].replace("    kustomize.toolkit.fluxcd.io/prune: disabled\n", "")
    codes = [d.code for d in verify_apply_order(result.plan, files)]
    assert codes == ["AKM521"]
