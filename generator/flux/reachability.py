"""A model of Cilium, the consumer of the mesh apps: what the rendered policies and Services do.

verify reads the objects aksmesh renders for each cluster (CiliumClusterwideNetworkPolicy,
and Service; CiliumNetworkPolicy and NetworkPolicy for a user's own), evaluates them here with Cilium's semantics, and compares the
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
from functools import cached_property
from typing import Any

from .. import facts

NAMESPACE_KEY = facts.POD_NAMESPACE_LABEL.removeprefix("k8s:")
CLUSTER_KEY = facts.POLICY_CLUSTER_LABEL
# Stands for every namespace the topology and the policies do not name: label selectors
# cannot tell such namespaces apart (R7), so one stands for all.
OTHER_NAMESPACES = facts.OTHER_NAMESPACES
# The reserved identities a pod may receive traffic from (R7).
RESERVED_SOURCES = ("world", "host", "remote-node", "health", "kube-apiserver", "ingress")
ENTITIES = {
    "world": ("world",), "host": ("host",), "remote-node": ("remote-node",),
    "health": ("health",), "kube-apiserver": ("kube-apiserver",), "ingress": ("ingress",),
    "init": ("init",), "unmanaged": ("unmanaged",),
}
KNOWN_SOURCES = ("k8s", "reserved", "any")
# Where Cilium puts a pod's namespace labels (pkg/k8s/apis/cilium.io, PodNamespaceMetaLabels).
NAMESPACE_META = "io.cilium.k8s.namespace.labels."


class ModelError(Exception):
    """A rendered object the model does not cover: aksmesh must not render it unchecked."""


# ---------------------------------------------------------------- identities and selectors


@dataclass(frozen=True)
class Identity:
    """What a policy sees of a peer or an endpoint: its labels (R7)."""

    cluster: str | None  # None for the reserved identities
    namespace: str | None
    name: str  # reserved name, or "pod"
    labels: frozenset[tuple[str, str, str]]  # (source, key, value)


def pod(cluster: str, namespace: str, labels: Iterable[tuple[str, str]] = ()) -> Identity:
    """A pod: its own labels, its namespace and cluster, and its namespace's
    `kubernetes.io/metadata.name` label as Cilium copies namespace labels onto pods (R10)."""
    return Identity(cluster, namespace, "pod", frozenset(
        {("k8s", NAMESPACE_KEY, namespace), ("k8s", CLUSTER_KEY, cluster),
         ("k8s", NAMESPACE_META + "kubernetes.io/metadata.name", namespace)}
        | {("k8s", k, v) for k, v in labels}))


def reserved(name: str) -> Identity:
    return Identity(None, None, name, frozenset({("reserved", name, "")}))


@dataclass(frozen=True)
class Requirement:
    source: str
    key: str
    operator: str  # In, NotIn, Exists, DoesNotExist
    values: frozenset[str]

    def holds(self, identity: Identity) -> bool:
        found = {v for s, k, v in identity.labels
                 if k == self.key and (self.source == "any" or s == self.source)}
        if self.operator == "In":
            return bool(found & self.values)
        if self.operator == "NotIn":  # also true without the label (Kubernetes semantics)
            return not found & self.values
        if self.operator == "Exists":
            return bool(found)
        return not found  # DoesNotExist


@dataclass(frozen=True)
class Selector:
    requirements: tuple[Requirement, ...]

    def matches(self, identity: Identity) -> bool:
        return all(r.holds(identity) for r in self.requirements)

    def names(self, key: str) -> bool:
        return any(r.key == key for r in self.requirements)

    def with_requirement(self, requirement: Requirement) -> Selector:
        return Selector(self.requirements + (requirement,))


def _split_key(text: str) -> tuple[str, str]:
    source, colon, key = text.partition(":")
    if not colon:
        return "any", text
    if source not in KNOWN_SOURCES:
        raise ModelError(f"label source {source!r} in selector key {text!r}")
    return source, key


def parse_selector(data: Any) -> Selector:
    if not isinstance(data, dict) or set(data) - {"matchLabels", "matchExpressions"}:
        raise ModelError(f"selector {data!r}")
    requirements = [Requirement(*_split_key(str(k)), "In", frozenset({str(v)}))
                    for k, v in (data.get("matchLabels") or {}).items()]
    for expression in data.get("matchExpressions") or []:
        operator = expression.get("operator")
        if operator not in ("In", "NotIn", "Exists", "DoesNotExist"):
            raise ModelError(f"selector operator {operator!r}")
        requirements.append(Requirement(*_split_key(str(expression["key"])), operator,
                                        frozenset(map(str, expression.get("values") or ()))))
    return Selector(tuple(requirements))


def entity_selectors(entity: str, local_cluster: str) -> list[Selector]:
    """R7: an entity as the selectors Cilium maps it to."""
    if entity == "all":
        return [Selector(())]
    if entity == "cluster":  # every node and reserved identity of the cluster, and its pods
        return [*(s for e in ("host", "remote-node", "init", "health", "unmanaged",
                              "kube-apiserver", "ingress")
                  for s in entity_selectors(e, local_cluster)),
                Selector((Requirement("k8s", CLUSTER_KEY, "In", frozenset({local_cluster})),))]
    if entity not in ENTITIES:
        raise ModelError(f"entity {entity!r}")
    return [Selector(tuple(Requirement("reserved", name, "Exists", frozenset())
                           for name in ENTITIES[entity]))]


# ---------------------------------------------------------------- policies


@dataclass(frozen=True)
class Rule:
    """One ingress or ingressDeny entry: the peers it names."""

    peers: tuple[Selector, ...]  # fromEndpoints, as written
    entities: tuple[Selector, ...]  # fromEntities, expanded (R7)


@dataclass(frozen=True)
class Policy:
    name: str
    namespace: str | None  # None for a clusterwide policy
    subject: Selector
    allow: tuple[Rule, ...]
    deny: tuple[Rule, ...]
    default_deny_ingress: bool  # R4

    @property
    def has_ingress(self) -> bool:
        return bool(self.allow or self.deny)


POLICY_KINDS = ("CiliumClusterwideNetworkPolicy", "CiliumNetworkPolicy", "NetworkPolicy")
_SPEC_KEYS = {"description", "endpointSelector", "ingress", "ingressDeny", "enableDefaultDeny"}
_RULE_KEYS = {"fromEndpoints", "fromEntities"}


def parse_network_policy(document: dict[str, Any]) -> Policy:
    """R10: a Kubernetes NetworkPolicy as Cilium translates it (pkg/k8s/network_policy.go,
    ParseNetworkPolicy, at 25972d8e8c67dd3a4d74c2dbea54461fa7f20707): the pod selector in the
    policy's namespace; a peer's podSelector alone in that namespace; a namespaceSelector
    over the namespace labels Cilium copies onto pods (empty: any namespace); a rule without
    `from` allows every source; no ingress rule with Ingress in policyTypes (or no
    policyTypes) denies all ingress. Ports and ipBlock are not modelled."""
    metadata = document.get("metadata") or {}
    name, namespace = str(metadata.get("name")), metadata.get("namespace")
    if not namespace:
        raise ModelError(f"NetworkPolicy {name} has no namespace")
    spec = document.get("spec") or {}
    if set(spec) - {"podSelector", "policyTypes", "ingress", "egress"}:
        raise ModelError(f"NetworkPolicy {name}: spec fields {sorted(spec)} not modelled")
    in_namespace = Requirement("k8s", NAMESPACE_KEY, "In", frozenset({namespace}))
    subject = _k8s_selector(spec.get("podSelector") or {}).with_requirement(in_namespace)
    rules = []
    for rule in spec.get("ingress") or []:
        if set(rule) - {"from"}:
            raise ModelError(f"NetworkPolicy {name}: ingress fields {sorted(rule)} not modelled")
        peers = []
        for peer in rule.get("from") or []:
            if set(peer) - {"podSelector", "namespaceSelector"}:
                raise ModelError(f"NetworkPolicy {name}: peer {peer!r} not modelled")
            selector = _k8s_selector(peer.get("podSelector") or {})
            if "namespaceSelector" in peer:
                namespaces = _k8s_selector(peer["namespaceSelector"] or {}, NAMESPACE_META)
                selector = Selector(selector.requirements + (namespaces.requirements or (
                    Requirement("k8s", NAMESPACE_KEY, "Exists", frozenset()),)))
            else:
                selector = selector.with_requirement(in_namespace)
            peers.append(selector)
        rules.append(Rule(tuple(peers) if rule.get("from") else (Selector(()),), ()))
    types = spec.get("policyTypes") or []
    if not rules and ("Ingress" in types or "Egress" not in types):
        rules = [Rule((), ())]  # default deny for ingress, nothing allowed
    return Policy(name, namespace, subject, tuple(rules), (), default_deny_ingress=bool(rules))


def _k8s_selector(data: Any, prefix: str = "") -> Selector:
    """A Kubernetes label selector, its keys read as k8s-source labels (after `prefix`)."""
    if not isinstance(data, dict) or set(data) - {"matchLabels", "matchExpressions"}:
        raise ModelError(f"selector {data!r}")
    requirements = [Requirement("k8s", prefix + str(k), "In", frozenset({str(v)}))
                    for k, v in (data.get("matchLabels") or {}).items()]
    for expression in data.get("matchExpressions") or []:
        operator = expression.get("operator")
        if operator not in ("In", "NotIn", "Exists", "DoesNotExist"):
            raise ModelError(f"selector operator {operator!r}")
        requirements.append(Requirement("k8s", prefix + str(expression["key"]), operator,
                                        frozenset(map(str, expression.get("values") or ()))))
    return Selector(tuple(requirements))


def parse_policy(document: dict[str, Any], local_cluster: str) -> Policy:
    kind = document.get("kind")
    if kind == "NetworkPolicy":
        return parse_network_policy(document)
    name = str(document.get("metadata", {}).get("name"))
    spec = document.get("spec") or {}
    unknown = set(spec) - _SPEC_KEYS
    if unknown:
        raise ModelError(f"{kind} {name}: spec field(s) {sorted(unknown)} not modelled")
    namespace = document["metadata"].get("namespace") if kind == "CiliumNetworkPolicy" else None
    if kind == "CiliumNetworkPolicy" and not namespace:
        raise ModelError(f"CiliumNetworkPolicy {name} has no namespace")
    subject = parse_selector(spec.get("endpointSelector", {}))
    if namespace is not None:  # R6
        subject = subject.with_requirement(
            Requirement("k8s", NAMESPACE_KEY, "In", frozenset({namespace})))

    def rules(entries: Any) -> tuple[Rule, ...]:
        parsed = []
        for entry in entries or []:
            if not isinstance(entry, dict) or set(entry) - _RULE_KEYS:
                raise ModelError(f"{kind} {name}: ingress rule {entry!r} not modelled")
            peers = tuple(parse_selector(s) for s in entry.get("fromEndpoints") or [])
            if namespace is not None:  # R6
                peers = tuple(p if p.names(NAMESPACE_KEY) else p.with_requirement(
                    Requirement("k8s", NAMESPACE_KEY, "In", frozenset({namespace})))
                    for p in peers)
            entities = tuple(s for e in entry.get("fromEntities") or []
                             for s in entity_selectors(str(e), local_cluster))
            parsed.append(Rule(peers, entities))
        return tuple(parsed)

    allow, deny = rules(spec.get("ingress")), rules(spec.get("ingressDeny"))
    switch = (spec.get("enableDefaultDeny") or {}).get("ingress")
    return Policy(name, namespace, subject, allow, deny,
                  default_deny_ingress=bool(allow or deny) if switch is None else bool(switch))


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


# ---------------------------------------------------------------- services


@dataclass(frozen=True)
class Service:
    namespace: str
    name: str
    selector: tuple[tuple[str, str], ...]
    is_global: bool
    shared: bool
    affinity: str  # "", local, remote, or an unrecognized literal


def parse_service(document: dict[str, Any]) -> Service:
    metadata = document.get("metadata") or {}
    annotations = {str(k): str(v) for k, v in (metadata.get("annotations") or {}).items()}
    is_global = annotations.get(facts.GLOBAL_SERVICE_ANNOTATION, "").lower() == "true"
    shared = is_global and annotations.get(facts.SHARED_SERVICE_ANNOTATION,
                                           "true").lower() == "true"  # R8
    affinity = annotations.get(facts.SERVICE_AFFINITY_ANNOTATION, "").lower() if is_global else ""
    selector = tuple(sorted((str(k), str(v)) for k, v in
                            ((document.get("spec") or {}).get("selector") or {}).items()))
    return Service(str(metadata.get("namespace")), str(metadata.get("name")), selector,
                   is_global, shared, affinity)


@dataclass(frozen=True)
class MeshObjects:
    """The modelled objects of every cluster of the mesh, as rendered."""

    clusters: tuple[str, ...]
    policies: dict[str, tuple[Policy, ...]]
    services: dict[str, dict[tuple[str, str], Service]]  # cluster → (namespace, name) → Service

    @cached_property
    def selectors(self) -> dict[str, set[tuple[tuple[str, str], ...]]]:
        """Namespace → the pod selectors of the Services there, in any cluster."""
        found: dict[str, set[tuple[tuple[str, str], ...]]] = {}
        for services in self.services.values():
            for service in services.values():
                if service.selector:
                    found.setdefault(service.namespace, set()).add(service.selector)
        return found


def read_objects(objects: dict[str, list[dict[str, Any]]]) -> MeshObjects:
    """The policies and Services among each cluster's rendered objects."""
    policies, services = {}, {}
    for cluster, documents in objects.items():
        policies[cluster] = tuple(parse_policy(d, cluster) for d in documents
                                  if d.get("kind") in POLICY_KINDS)
        parsed = [parse_service(d) for d in documents if d.get("kind") == "Service"]
        services[cluster] = {(s.namespace, s.name): s for s in parsed}
    return MeshObjects(tuple(objects), policies, services)


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


# ---------------------------------------------------------------- reachability


def namespaces_named(mesh: MeshObjects, extra: Iterable[str] = ()) -> tuple[str, ...]:
    """Every namespace a modelled object or the caller names, and OTHER_NAMESPACES."""
    named = set(extra)
    for policies in mesh.policies.values():
        for policy in policies:
            if policy.namespace:
                named.add(policy.namespace)
            selectors = [policy.subject] + [p for r in policy.allow + policy.deny
                                            for p in r.peers]
            named |= {v for s in selectors for r in s.requirements if r.key == NAMESPACE_KEY
                      for v in r.values}
    for services in mesh.services.values():
        named |= {namespace for namespace, _ in services}
    return tuple(sorted(named)) + (OTHER_NAMESPACES,)


Pods = dict[str, tuple[tuple[tuple[str, str], ...], ...]]  # namespace → label sets


def workloads(mesh: MeshObjects, cluster: str, namespace: str, extra: Pods | None = None
              ) -> list[Identity]:
    """The pods the model places in a namespace: a plain one, one per Service selector of
    the mesh there (any cluster's: a pod may run where its Service selects nothing), and
    the caller's `extra` label sets."""
    selectors = mesh.selectors.get(namespace, set()) | set((extra or {}).get(namespace, ()))
    return [pod(cluster, namespace)] + [pod(cluster, namespace, s) for s in sorted(selectors)]


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
