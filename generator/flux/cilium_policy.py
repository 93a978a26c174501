"""Cilium's policy model: identities, label selectors and the policies that use them, read
from rendered objects (CiliumClusterwideNetworkPolicy, CiliumNetworkPolicy, NetworkPolicy).

The rules R1-R11 cited here are listed, each with its Cilium source, in reachability.py,
which evaluates these policies; an object or field outside the modelled subset raises
`ModelError` rather than being guessed at.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
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
