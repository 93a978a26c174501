"""Verify, the apply order: every cluster's Kustomizations applied as kustomize-controller
applies them (apply_model), the objects valid as the API server validates them
(k8s_validation), no app team's namespace adopted or pruned (AKM520-AKM523)."""

from __future__ import annotations

from typing import Any

from . import manifests
from ..diagnostics import Diagnostic, diagnostic
from ..plan_records import Plan
from .render import MESH_VALUES_FILE, VALUES_FILE


def verify_apply_order(plan: Plan, files: dict[str, str]) -> list[Diagnostic]:
    """Every cluster's Kustomizations, applied as kustomize-controller does (apply_model):
    each object accepted when its turn comes (and valid as the API server validates core
    objects, k8s_validation), and no app team's namespace ever deleted."""
    import yaml

    from . import apply_model, k8s_validation

    documents: dict[str, list[dict[str, Any]]] = {}
    for path, text in files.items():
        # The values files are data for ConfigMap generators, not objects.
        if path.endswith(".yaml") and path.startswith(("clusters/", "cilium-ca/",
                                                       "infrastructure/")) \
                and not path.endswith("/" + VALUES_FILE) and path != MESH_VALUES_FILE:
            try:
                documents[path] = [d for d in manifests.documents(text) if isinstance(d, dict)]
            except yaml.YAMLError:
                documents[path] = []  # reported as AKM511 by verify_flux_files
    diagnostics = [diagnostic("AKM523", f"{plan.name}/{path}", 1, 1,
                              "aksmesh would own a file `flux bootstrap` writes: a render "
                              "would undo bootstrap, and Flux would prune itself")
                   for path in files if path.rpartition("/")[2] in apply_model.BOOTSTRAP_FILES]
    for cluster in plan.clusters:
        root = f"clusters/{cluster.name}"
        for problem in apply_model.apply_cluster(root, plan.gitops_path, documents):
            diagnostics.append(diagnostic(
                "AKM520", f"{plan.name}/{problem.file}", 1, 1,
                f"{cluster.name}: Kustomization {problem.kustomization}: {problem.message}"))
    for path, docs in documents.items():
        for document in docs:
            placed = apply_model.Placed(path, document)
            for field_path, message in k8s_validation.validate_object(document):
                diagnostics.append(diagnostic(
                    "AKM522", f"{plan.name}/{path}", 1, 1,
                    f"{placed.describe()}: {'.'.join(map(str, field_path))}: {message}"))
            annotations = (document.get("metadata") or {}).get("annotations") or {}
            if placed.kind == "Namespace" and (
                    apply_model.prune_would_delete(placed)
                    or annotations.get(apply_model.SSA_ANNOTATION) != "IfNotPresent"):
                diagnostics.append(diagnostic(
                    "AKM521", f"{plan.name}/{path}", 1, 1,
                    f"Namespace {placed.name} would be adopted or pruned by Flux: it is "
                    f"the app team's"))
    return diagnostics
