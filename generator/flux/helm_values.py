"""How the consumers combine a cluster's Cilium values: a model, each rule from its source.

The tree keeps the values every cluster shares once (`infrastructure/cilium-mesh/
mesh-values.yaml`) and each cluster's own values in `clusters/<name>/cilium/values.yaml`.
Two consumers put them together, in that order:

- helm-controller, through the HelmRelease's `valuesFrom` (the shared ConfigMap first,
  then the cluster's): fluxcd/pkg `chartutil/values.go` `ChartValuesFromReferences`
  (commit bf5caf5a0b0b144fac120b26590d91c7f78149d3, the chartutil helm-controller 0f61a86
  requires) merges the references in the order given, each with `MergeMaps`
  (`chartutil/merge.go`): a mapping merges key by key, recursively; any other value
  (a list, a scalar) replaces what was there. Without `targetPath` a reference's
  `valuesKey` entry is read as a whole values document.
- `helm upgrade -f mesh-values.yaml -f values.yaml`: Helm's own `-f` merge, the function
  fluxcd/pkg copied (`MergeMaps` says so: helm/helm pkg/cli/values/options.go).

Then the chart reads `clustermesh.config.clusters` through its `clustermesh-clusters`
helper (cilium/charts d5f3d1c, cilium-1.20.0.tgz templates/clustermesh-config/_helpers.tpl):
an entry whose `enabled` is `false` is dropped before any template uses the list (the
agent's and the clustermesh-apiserver's secrets, host aliases, the users ConfigMap). The
agent would ignore its own name anyway (cilium/cilium pkg/clustermesh/common/clustermesh.go
`add`, "Ignoring configuration for own cluster", commit 04e4a9f), but the chart would
still render an etcd user and a host alias for it: each cluster disables its own entry.
"""

from __future__ import annotations

from typing import Any


def merge_maps(base: dict[str, Any], override: dict[str, Any]) -> dict[str, Any]:
    """`override` merged into `base`, as helm-controller and `helm -f` merge values files."""
    merged = dict(base)
    for key, value in override.items():
        below = merged.get(key)
        if isinstance(value, dict) and isinstance(below, dict):
            merged[key] = merge_maps(below, value)
        else:
            merged[key] = value
    return merged


def merged_values(*documents: dict[str, Any]) -> dict[str, Any]:
    """Values documents merged in the order given (valuesFrom order, or `-f` order)."""
    merged: dict[str, Any] = {}
    for document in documents:
        merged = merge_maps(merged, document)
    return merged


def chart_mesh_clusters(values: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """`clustermesh.config.clusters` as the chart's templates see it: by name, the entries
    not disabled, without their `enabled` key (map or list form, as the helper reads)."""
    listed = (values.get("clustermesh") or {}).get("config", {}).get("clusters") or {}
    if isinstance(listed, list):
        listed = {entry.get("name"): entry for entry in listed if isinstance(entry, dict)}
    return {name: {k: v for k, v in (entry or {}).items() if k not in ("enabled", "name")}
            for name, entry in listed.items()
            if not isinstance(entry, dict) or entry.get("enabled") is not False}
