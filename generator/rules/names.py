"""AKM201-AKM206: cluster names and ids, Cilium's limits on them, Azure's on names."""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING

from .. import facts
from ..diagnostics import Code, Finding, Severity
from .common import at, repeats

if TYPE_CHECKING:  # the registry imports the families: keep them light
    from ..plan_records import Plan

# The codes this family's rules yield, registered by diagnostics.codes().
CODES = (
    Code("AKM201", Severity.ERROR, "duplicate cluster name",
         "Cluster names name Azure resources and Cilium clusters: they must be unique.",
         "clusters:\n  - name: ne\n    ...\n  - name: ne"),
    Code("AKM202", Severity.ERROR, "duplicate cluster id",
         "Cilium identifies each cluster of a mesh by its id: ids must be unique.",
         "clusters:\n  - name: ne\n    id: 1\n  - name: we\n    id: 1"),
    Code("AKM203", Severity.ERROR, "cluster id above the mesh limit",
         "A cluster id must not exceed cilium.maxConnectedClusters (255 or 511).",
         "clusters:\n  - name: we\n    id: 300  # maxConnectedClusters is 255"),
    Code("AKM204", Severity.ERROR, "derived Azure name too long",
         "A resource or deployment name derived from the topology and cluster names "
         "exceeds Azure's limit for it; shorten the topology or cluster name.",
         "name: a-rather-long-topology-name-x\nclusters:\n  - name: a-rather-long-cluster-name-xyz  # dnsPrefix > 54"),
    Code("AKM205", Severity.ERROR, "reserved cluster name",
         "Cilium rejects the cluster name `default` for any cluster id other than 0.",
         "clusters:\n  - name: default"),
    Code("AKM206", Severity.ERROR, "too many clusters for the mesh",
         "Cilium connects at most cilium.maxConnectedClusters clusters (255, or 511).",
         "clusters:  # 256 clusters with maxConnectedClusters 255"),
)


def check_unique_names(plan: Plan) -> Iterator[Finding]:
    for cluster, earlier in repeats(plan.clusters, lambda c: c.name):
        yield Finding("AKM201", at(cluster, "name"),
                      f"cluster name `{cluster.name}` is already used by "
                      f"clusters[{earlier.index}]", "give every cluster its own name")


def check_unique_ids(plan: Plan) -> Iterator[Finding]:
    used = {c.id for c in plan.clusters}
    free = next((i for i in range(1, plan.max_connected_clusters + 1) if i not in used), None)
    for cluster, earlier in repeats(plan.clusters, lambda c: c.id):
        yield Finding("AKM202", at(cluster, "id"),
                      f"cluster id {cluster.id} is already used by cluster `{earlier.name}`",
                      f"the lowest free id is {free}; never renumber existing clusters"
                      if free else "every id is taken: the mesh is full")


def check_mesh_size(plan: Plan) -> Iterator[Finding]:
    limit = plan.max_connected_clusters
    if len(plan.clusters) > limit:
        yield Finding("AKM206", ("clusters",),
                      f"{len(plan.clusters)} clusters exceed Cilium's limit of {limit}",
                      "set cilium.maxConnectedClusters: 511" if limit == 255 else
                      "split the mesh")
    for cluster in plan.clusters:
        if cluster.id > limit:
            yield Finding("AKM203", at(cluster, "id"),
                          f"cluster id {cluster.id} exceeds cilium.maxConnectedClusters ({limit})",
                          "use an id from 1 to 255, or set cilium.maxConnectedClusters: 511"
                          if limit == 255 else f"use an id from 1 to {limit}")


def check_reserved_names(plan: Plan) -> Iterator[Finding]:
    for cluster in plan.clusters:
        if cluster.name == "default":
            yield Finding("AKM205", at(cluster, "name"),
                          "cluster name `default` is reserved by Cilium",
                          "name the cluster after its region or role")


def check_azure_name_lengths(plan: Plan) -> Iterator[Finding]:
    for cluster in plan.managed_clusters:
        too_long = [(kind, name, len(name) - facts.MAX_NAME_LENGTH[kind])
                    for kind, name in cluster.azure_names.items()
                    if len(name) > facts.MAX_NAME_LENGTH[kind]]
        if too_long:
            names = "; ".join(f"{kind} `{name}` by {over}" for kind, name, over in too_long)
            yield Finding("AKM204", at(cluster, "name"),
                          f"Azure names derived from cluster `{cluster.name}` are too long: "
                          f"{names}",
                          f"shorten the cluster name or the topology name by "
                          f"{max(over for _, _, over in too_long)} characters")


RULES = (check_unique_names, check_reserved_names, check_unique_ids, check_mesh_size,
         check_azure_name_lengths)
