"""The rendered objects the reachability model reads: each cluster's policies (cilium_policy)
and Services, and the pods the model places in each namespace. Rules R7 and R8 are listed
in reachability.py."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from functools import cached_property
from typing import Any

from .. import facts
from .cilium_policy import NAMESPACE_KEY, OTHER_NAMESPACES, POLICY_KINDS, Identity, Policy, \
    parse_policy, pod


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
