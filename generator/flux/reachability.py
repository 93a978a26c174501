"""A model of Cilium, the consumer of the mesh apps: what the rendered policies and Services do.

verify reads the objects aksmesh renders for each cluster (CiliumClusterwideNetworkPolicy,
and Service; CiliumNetworkPolicy and NetworkPolicy for a user's own: cilium_policy parses
the policies, rendered_objects the Services and pods), evaluates them here with Cilium's
semantics, and compares the
answer with the plan's intent; `aksmesh plan` prints the answer. Only what aksmesh renders
(and what tests add as a user's own policies) is modelled: an object or field outside that
subset raises `ModelError` rather than being guessed at.

The rules, each from the Cilium source or documentation it follows (cilium/cilium):
- R1 default mode: an endpoint no policy with an ingress section selects admits everything;
  once one selects it, only what is allowed (Documentation/security/policy/intro.rst,
  "Endpoint default policy", at 1ba78805d4da81b63ebfa6d086767e8b37c009fb).
- R2 union of allows: the endpoint admits what any rule of any selecting policy allows
  (intro.rst, "Rule Basics").
- R3 deny precedence: an `ingressDeny` peer is refused whatever any allow says, and deny
  rules also put the endpoint into default deny (Documentation/security/policy/deny.rst at
  669f18e3e0474760a42e86a2e5637e350384393d).
- R4 `enableDefaultDeny`: a rule whose `enableDefaultDeny.ingress` is false does not count
  when deciding default deny; when no selecting rule enables it, Cilium inserts an allow-all
  and only deny rules remove traffic (pkg/policy/repository.go,
  computePolicyEnforcementAndRules, at dbf327d11392ec6613741d1ed91a77a253d598d7).
- R5 `policy-default-local-cluster` (chart `clustermesh.policyDefaultLocalCluster`, true by
  default since 1.19): a peer selector that says nothing of `io.cilium.k8s.policy.cluster`
  selects the local cluster only; one that names the key (matchLabels or matchExpressions)
  is left as written (Documentation/operations/upgrade.rst, "Preparing for a
  policy-default-local-cluster change"). Evaluated both ways: aksmesh's policies must mean
  the same under either setting.
- R6 namespaced policies: a CiliumNetworkPolicy selects endpoints of its own namespace, and
  its peer selectors without a namespace label select its namespace only
  (Documentation/security/policy/kubernetes.rst, "Namespaces", at
  de839566fe1806ec35d2a69ee569de3f139836c5).
- R7 labels: a selector key `source:key` matches that source's label only, a key without a
  source matches any source (`any:`); pods carry `k8s:` labels, among them the namespace and
  `io.cilium.k8s.policy.cluster`; nodes, health, world and the API server are reserved
  identities with a `reserved:` label and no cluster label (pkg/labels; entities in
  pkg/policy/api/entity.go at 120d7f61df5d378545ca3c21ea8f9b72b50fb6de). Entities as
  Documentation/security/policy/layer3.rst at 01af123d89b9e954f3c3c8da9055c61b85fb7e9c
  defines them: `remote-node` is every node of every connected cluster but the local host,
  `cluster` the local cluster's endpoints, host, init, unmanaged and every node of the mesh,
  `all` everything; an empty selector "allows all traffic", so the model leaves it out of
  R5.
- R8 global services: a cluster's Service gets the remote backends of every other cluster
  whose same-named Service is global and shared (`shared` defaults to true on a global
  Service); its local backends are the pods its selector matches, none without a selector
  (Documentation/network/clustermesh/global-services.rst at
  46b052f2518b4ab520ea5a7d06bc1033bff62d04; pkg/annotation/clustermesh.go
  GetAnnotationShared at 6bb77d4a61f99e5958ba9bd43e3b22330097363a).
- R9 affinity, read from the client cluster's own Service: none (or no annotation) uses
  local and remote backends alike; `local` uses remote ones only when no local backend is
  healthy; `remote` the reverse (pkg/clustermesh/selectbackends.go at
  2b043c711b3851a56841cd89bdfa9822ca9513c6). Any other value, the literal `none` included,
  is modelled as Cilium before cilium/cilium#46635 read it: local backends only
  (pkg/annotation/clustermesh.go at 6bb77d4a61f99e5958ba9bd43e3b22330097363a returns the
  value unnormalized, and SelectBackends then keeps no remote backend).
- R10 Kubernetes NetworkPolicy, as Cilium translates it: see parse_network_policy.
- R11 on Kubernetes, Cilium admits traffic from the local host to its endpoints whatever
  the allow rules say (layer3.rst, "Access to/from local host": allow-localhost).
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import Any

from .cilium_policy import CLUSTER_KEY, RESERVED_SOURCES, Identity, Policy, Rule, Selector, \
    Requirement, reserved
from .rendered_objects import MeshObjects, Pods, Service, workloads


class _Peers:
    """The peers of some rules, for one destination: R5 applied, and indexed by the
    clusters a peer can match, so that a large mesh does not test every peer per source."""

    def __init__(self, rules: Iterable[Rule], local_cluster: str,
                 default_local_cluster: bool) -> None:
        self.anywhere: list[Selector] = []
        self.by_cluster: dict[str, list[Selector]] = {}
        for rule in rules:
            peers = [p if not default_local_cluster or p.names(CLUSTER_KEY)  # R5
                     or not p.requirements  # an empty selector selects every endpoint (R7)
                     else p.with_requirement(Requirement("k8s", CLUSTER_KEY, "In",
                                                         frozenset({local_cluster})))
                     for p in rule.peers]
            for peer in peers + list(rule.entities):
                clusters = [r.values for r in peer.requirements
                            if r.key == CLUSTER_KEY and r.operator == "In"]
                if not clusters:
                    self.anywhere.append(peer)
                    continue
                for cluster in frozenset.intersection(*clusters):
                    self.by_cluster.setdefault(cluster, []).append(peer)

    def match(self, source: Identity) -> bool:
        candidates = self.anywhere + self.by_cluster.get(source.cluster or "", [])
        return any(peer.matches(source) for peer in candidates)


class Ingress:
    """What one destination pod admits: the policies that select it, resolved once."""

    def __init__(self, policies: Iterable[Policy], destination: Identity,
                 default_local_cluster: bool = True) -> None:
        local = destination.cluster or ""
        selecting = [p for p in policies if p.has_ingress and p.subject.matches(destination)]
        self.enforced = bool(selecting)  # R1
        self.deny = _Peers((r for p in selecting for r in p.deny), local, default_local_cluster)
        self.default_deny = any(p.default_deny_ingress for p in selecting)  # R4
        self.allow = _Peers((r for p in selecting for r in p.allow), local,
                            default_local_cluster)

    def admits(self, source: Identity) -> bool:
        if not self.enforced:  # R1
            return True
        if self.deny.match(source):  # R3
            return False
        if source.name == "host":  # R11
            return True
        if not self.default_deny:  # R4
            return True
        return self.allow.match(source)  # R2


def admits(policies: Iterable[Policy], destination: Identity, source: Identity,
           default_local_cluster: bool = True) -> bool:
    """Whether `destination` (a pod of its cluster) admits ingress from `source`."""
    return Ingress(policies, destination, default_local_cluster).admits(source)


def backend_preference(mesh: MeshObjects, namespace: str, name: str,
                       runs_pods: Any = lambda cluster, selector: True
                       ) -> dict[str, tuple[tuple[str, ...], ...]]:
    """For each cluster with the Service: the clusters whose pods its clients are sent to,
    best first (R8, R9). `runs_pods(cluster, selector)` says where matching pods run; by
    default everywhere, the case in which a selector outside `backends` would show."""
    def local_backends(cluster: str, service: Service) -> bool:
        return bool(service.selector) and runs_pods(cluster, service.selector)

    result = {}
    for cluster in mesh.clusters:
        service = mesh.services[cluster].get((namespace, name))
        if service is None:
            continue
        local = (cluster,) if local_backends(cluster, service) else ()
        remote: tuple[str, ...] = ()
        if service.is_global:
            remote = tuple(sorted(
                other for other in mesh.clusters if other != cluster
                and (peer := mesh.services[other].get((namespace, name))) is not None
                and peer.is_global and peer.shared and local_backends(other, peer)))
        if not service.is_global:
            groups: tuple[tuple[str, ...], ...] = (local,)
        elif service.affinity == "":
            groups = (tuple(sorted(local + remote)),)
        elif service.affinity == "local":
            groups = (local, remote)
        elif service.affinity == "remote":
            groups = (remote, local)
        else:  # R9: an unrecognized value, before cilium/cilium#46635
            groups = (local,)
        result[cluster] = tuple(g for g in groups if g)
    return result


@dataclass(frozen=True)
class Verdict:
    destination: Identity
    source: Identity
    admitted: bool
    # The clusters whose pods this verdict stands for (the source's alone unless grouped).
    members: tuple[str, ...] = ()


def cluster_values(policies: Iterable[Policy]) -> list[frozenset[str]]:
    """The value sets of every requirement on the cluster label in the policies' rules:
    the only way policies can tell the pods of one cluster from another's (R7; R5 adds the
    local cluster), so clusters equally in or out of each get the same verdicts."""
    return [r.values for p in policies for rule in p.allow + p.deny
            for selector in rule.peers + rule.entities for r in selector.requirements
            if r.key == CLUSTER_KEY]


def evaluate(mesh: MeshObjects, namespaces: tuple[str, ...],
             user_policies: dict[str, tuple[Policy, ...]] | None = None,
             default_local_cluster: bool = True, with_mesh_policies: bool = True,
             extra_pods: Pods | None = None, group: Any = None) -> Iterator[Verdict]:
    """Every (destination pod, source) pair the model considers, with its verdict: sources
    are the pods of every cluster and the reserved identities.

    With `group(destination cluster, source cluster)` (a hashable key the caller needs kept
    apart), source clusters with the same key and the same cluster_signature are evaluated
    once, for the first of them, and the verdict lists them all as members: it holds for
    each (large meshes would otherwise cost clusters squared times namespaces squared)."""
    user_policies = user_policies or {}
    reserved_sources = [reserved(name) for name in RESERVED_SOURCES]
    for cluster in mesh.clusters:
        policies = user_policies.get(cluster, ()) + (
            mesh.policies.get(cluster, ()) if with_mesh_policies else ())
        values = cluster_values(user_policies.get(cluster, ()) + mesh.policies.get(cluster, ()))
        classes: dict[Any, list[str]] = {}
        for source_cluster in mesh.clusters:
            key = (source_cluster,) if group is None else (
                group(cluster, source_cluster), source_cluster == cluster,
                tuple(source_cluster in v for v in values))
            classes.setdefault(key, []).append(source_cluster)
        sources = [(w, tuple(members)) for members in classes.values() for n in namespaces
                   for w in workloads(mesh, members[0], n, extra_pods)]
        sources += [(r, ()) for r in reserved_sources]
        for namespace in namespaces:
            for destination in workloads(mesh, cluster, namespace, extra_pods):
                ingress = Ingress(policies, destination, default_local_cluster)
                for source, members in sources:
                    yield Verdict(destination, source, ingress.admits(source), members)


def cross_cluster_matrix(mesh: MeshObjects, namespaces: tuple[str, ...],
                         default_local_cluster: bool = True
                         ) -> dict[tuple[str, str], set[tuple[str, str]]]:
    """(cluster, namespace) → the (cluster, namespace) of other clusters whose pods it
    admits, every pod of one into every pod of the other."""
    denied: set[tuple[str, str, str, str]] = set()
    pairs: set[tuple[str, str, str, str]] = set()
    for verdict in evaluate(mesh, namespaces, default_local_cluster=default_local_cluster,
                            group=lambda destination, source: None):
        source, destination = verdict.source, verdict.destination
        for member in verdict.members:
            if source.cluster is None or member == destination.cluster:
                continue
            key = (destination.cluster or "", destination.namespace or "",
                   member, source.namespace or "")
            pairs.add(key)
            if not verdict.admitted:
                denied.add(key)
    matrix: dict[tuple[str, str], set[tuple[str, str]]] = {
        (c, n): set() for c in mesh.clusters for n in namespaces}
    for dc, dn, sc, sn in sorted(pairs - denied):
        matrix[(dc, dn)].add((sc, sn))
    return matrix
