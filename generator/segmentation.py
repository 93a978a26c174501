"""The segmentation policies of one cluster, planned: deny-only Cilium policies that keep
out the pods of other clusters no declared flow admits."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from . import facts

if TYPE_CHECKING:
    from .mesh_intent import Endpoints
    from .plan_records import Cluster, Plan


@dataclass(frozen=True)
class LabelRequirement:
    """One matchExpressions entry of a Cilium selector."""

    key: str
    operator: str  # In, NotIn, Exists
    values: tuple[str, ...]


@dataclass(frozen=True)
class PeerSelector:
    """One fromEndpoints entry: pods, by labels."""

    match_labels: tuple[tuple[str, str], ...]
    match_expressions: tuple[LabelRequirement, ...]


@dataclass(frozen=True)
class SegmentationPolicy:
    """A CiliumClusterwideNetworkPolicy that only denies: it never turns on default deny
    (`enableDefaultDeny.ingress: false`), so what the selected pods admitted before stays
    admitted, except the pods of other clusters its `ingressDeny` names."""

    name: str
    description: str
    subject: PeerSelector  # the local pods it protects
    deny_from: tuple[PeerSelector, ...]


NAMESPACE_LABEL = facts.POD_NAMESPACE_LABEL
CLUSTER_LABEL = facts.POLICY_CLUSTER_LABEL
# Policy names may hold dots, namespaces may not: no namespace can collide with this one.
OTHER_NAMESPACES_POLICY = "aksmesh-segmentation.other-namespaces"


def plan_segmentation_policies(plan: Plan, cluster: Cluster) -> tuple[SegmentationPolicy, ...]:
    """Deny, per destination namespace, the pods of other clusters no flow admits there.

    A namespace that flows name gets its own policy; every other namespace shares one
    whose subject excludes the named ones. The subject and every peer require the pod
    namespace label, which only pods carry: nodes (host, remote-node), health and the
    world are never selected, so segmentation leaves them as they were.
    """
    if plan.segmentation is None:
        return ()
    flows = [f for f in plan.flows_into(cluster) if f.source.cluster != cluster.name]
    named = sorted({f.destination.namespace for f in flows if f.destination.namespace})
    others = [c.name for c in plan.clusters if c.name != cluster.name]
    is_pod = LabelRequirement(NAMESPACE_LABEL, "Exists", ())
    scopes: list[tuple[str, str, PeerSelector, str | None]] = [
        (f"aksmesh-segmentation-to-{namespace}", f"namespace {namespace}",
         PeerSelector(((NAMESPACE_LABEL, namespace),), ()), namespace)
        for namespace in named]
    rest = (is_pod,) + ((LabelRequirement(NAMESPACE_LABEL, "NotIn", tuple(named)),)
                        if named else ())
    scopes.append((OTHER_NAMESPACES_POLICY,
                   "every namespace no flow names" if named else "every namespace",
                   PeerSelector((), rest), None))
    policies = []
    for name, scope, subject, namespace in scopes:
        admitted = [f.source for f in flows if f.destination.namespace in (None, namespace)]
        deny = _deny_all_but(admitted, others, is_pod)
        if deny:
            policies.append(SegmentationPolicy(
                name, f"aksmesh: into {scope}, pods of other clusters only as the topology "
                      "declares", subject, deny))
    return tuple(policies)


def _deny_all_but(admitted: list[Endpoints], clusters: list[str], is_pod: LabelRequirement
                  ) -> tuple[PeerSelector, ...]:
    """Selectors for every pod of `clusters` that no entry of `admitted` covers."""
    by_cluster: dict[str, set[str | None]] = {c: set() for c in clusters}
    for source in admitted:
        by_cluster[source.cluster].add(source.namespace)
    silent = tuple(c for c in clusters if not by_cluster[c])
    deny = []
    if silent:
        deny.append(PeerSelector((), (LabelRequirement(CLUSTER_LABEL, "In", silent), is_pod)))
    for name in clusters:
        namespaces = by_cluster[name]
        if namespaces and None not in namespaces:
            deny.append(PeerSelector(((CLUSTER_LABEL, name),), (
                is_pod, LabelRequirement(NAMESPACE_LABEL, "NotIn", tuple(sorted(namespaces))))))
    return tuple(deny)
