"""AKM208-AKM220: the mesh's global services and segmentation: the clusters they
name, Services Kubernetes would accept, backends segmentation lets clients reach."""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING

from ..diagnostics import Code, Finding, Severity, did_you_mean
from .common import repeats

if TYPE_CHECKING:  # the registry imports the families: keep them light
    from ..plan_records import Plan

# The codes this family's rules yield, registered by diagnostics.codes().
CODES = (
    Code("AKM208", Severity.ERROR, "unknown cluster",
         "A global service or a segmentation flow names a cluster the topology does "
         "not define.",
         "globalServices:\n  - name: rebel-base\n    backends: [ne, wee]  # no cluster `wee`"),
    Code("AKM209", Severity.ERROR, "duplicate global service",
         "Two globalServices entries declare the same namespace and name.",
         "globalServices:\n  - {name: rebel-base, namespace: default, ...}\n"
         "  - {name: rebel-base, namespace: default, ...}"),
    Code("AKM210", Severity.WARNING, "segmentation flow inside one cluster",
         "Segmentation governs traffic between clusters only; a flow from a cluster to "
         "itself changes nothing.",
         "segmentation:\n  allow:\n    - {from: {cluster: ne}, to: {cluster: ne}}"),
    Code("AKM211", Severity.ERROR, "a Service port is listed twice",
         "Kubernetes refuses a Service with two ports of the same number and protocol "
         "(ValidateService).",
         "ports:\n  - {name: http, port: 80}\n  - {name: web, port: 80}  # 80/TCP again"),
    Code("AKM212", Severity.ERROR, "a Service port name is missing or repeated",
         "With several ports every port needs a name, and the names must differ "
         "(validateServicePort).",
         "ports:\n  - {port: 80}\n  - {port: 443}  # no names"),
    Code("AKM213", Severity.ERROR, "a Service selector Kubernetes refuses",
         "Selector keys must be label keys ([prefix/]name) and values label values "
         "(at most 63 characters, alphanumerics, '-', '_', '.', alphanumeric at both "
         "ends).",
         "selector:\n  app: rebel base  # a space"),
    Code("AKM220", Severity.ERROR, "global service unreachable under segmentation",
         "Every cluster has each global service and load-balances its clients to the "
         "service's backends; segmentation must admit a flow from each of those clients "
         "(the namespaces that already have a flow to one backend cluster, or some "
         "namespace when none does) into the service's namespace in every other backend "
         "cluster, or some connections time out on a policy drop.",
         "globalServices:\n  - {name: rebel-base, namespace: rebel-base, backends: [ne, we], ...}\n"
         "segmentation:\n  allow:\n    - from: {cluster: onprem, namespace: x-wing}\n"
         "      to: {cluster: ne, namespace: rebel-base}  # and none to we"),
)


def check_cluster_references(plan: Plan) -> Iterator[Finding]:
    names = sorted(c.name for c in plan.clusters)
    known = set(names)
    for service in plan.global_services:
        for backend in sorted(service.backends):
            if backend not in known:
                yield Finding("AKM208", ("globalServices", service.index, "backends"),
                              f"global service `{service.name}` names unknown cluster "
                              f"`{backend}` as a backend",
                              did_you_mean(backend, names) or f"clusters: {', '.join(names)}")
    for flow in plan.segmentation or ():
        for side, endpoints in (("from", flow.source), ("to", flow.destination)):
            if endpoints.cluster not in known:
                yield Finding("AKM208", ("segmentation", "allow", flow.index, side, "cluster"),
                              f"segmentation names unknown cluster `{endpoints.cluster}`",
                              did_you_mean(endpoints.cluster, names)
                              or f"clusters: {', '.join(names)}")
        if flow.source.cluster == flow.destination.cluster:
            yield Finding("AKM210", ("segmentation", "allow", flow.index),
                          f"a flow inside cluster `{flow.source.cluster}` is not restricted "
                          "by segmentation, which only governs traffic between clusters",
                          "remove the flow, or use a CiliumNetworkPolicy inside the cluster")


def check_unique_services(plan: Plan) -> Iterator[Finding]:
    for service, earlier in repeats(plan.global_services, lambda s: (s.namespace, s.name)):
        yield Finding("AKM209", ("globalServices", service.index, "name"),
                      f"global service {service.namespace}/{service.name} is declared "
                      f"twice (first as globalServices[{earlier.index}])",
                      "merge the two entries")


def check_service_validity(plan: Plan) -> Iterator[Finding]:
    """What the Kubernetes API server would refuse in a global service's Service (the rules
    of k8s_validation, which verify applies to the rendered objects too)."""
    from ..flux import k8s_validation

    for service in plan.global_services:
        where = ("globalServices", service.index)
        ports = [{"name": p.name, "port": p.port, "targetPort": p.target_port,
                  "protocol": p.protocol} for p in service.ports]
        for path, message in k8s_validation.service_ports(ports):
            index = path[0]
            if len(path) == 1:  # the (port, protocol) pair
                yield Finding("AKM211", (*where, "ports", index, "port"),
                              f"global service `{service.name}`: {message}",
                              "give each port of a Service its own number, or another "
                              "protocol")
            elif path[1] == "name":
                yield Finding("AKM212", (*where, "ports", index),
                              f"global service `{service.name}`, port {index}: {message}",
                              "name every port, each name unique (a DNS-1123 label such as "
                              "`http`)")
        for key, value in service.selector:
            for _, message in k8s_validation.labels({key: value}):
                yield Finding("AKM213", (*where, "selector", key), f"global service "
                              f"`{service.name}` selector: {message}",
                              "selector keys are label keys ([prefix/]name) and values are "
                              "label values: at most 63 letters, digits, '-', '_' or '.', "
                              "starting and ending with a letter or digit",
                              at_key=bool(k8s_validation.qualified_name(key)))


def check_service_reachability(plan: Plan) -> Iterator[Finding]:
    """Every cluster has every global service, so every cluster is a client of it: each
    namespace of a cluster that has a flow into the service's namespace in one backend
    cluster needs one into every other backend cluster it load-balances to (or some
    connections hit a policy drop); a cluster with no such flow at all reaches none."""
    if plan.segmentation is None:
        return
    known = {c.name for c in plan.clusters}
    if not _clusters_known(plan, known):
        return  # AKM208 says which
    for service in plan.global_services:
        for cluster in plan.clusters:
            targets = [b for group in service.preference(cluster.name) for b in group
                       if b != cluster.name]
            clients = sorted({f.source.namespace or "" for f in plan.segmentation
                              if f.source.cluster == cluster.name
                              and f.destination.cluster in targets
                              and f.destination.namespace in (None, service.namespace)},
                             key=lambda n: (n != "", n)) or [None]
            for namespace in clients:
                for backend in sorted(targets):
                    if namespace is not None and _flow_covers(plan, cluster.name, namespace,
                                                              backend, service.namespace):
                        continue
                    source = (f"{{cluster: {cluster.name}, namespace: {namespace}}}"
                              if namespace else
                              f"{{cluster: {cluster.name}}}" if namespace == "" else
                              f"{{cluster: {cluster.name}, namespace: <client namespace>}}")
                    who = (f"namespace {namespace} of cluster `{cluster.name}`" if namespace
                           else f"cluster `{cluster.name}`")
                    yield Finding("AKM220", ("globalServices", service.index, "backends"),
                                  f"global service {service.namespace}/{service.name}: "
                                  f"{who} load-balances to its backends in `{backend}`, "
                                  "but segmentation admits no flow there",
                                  f"add to segmentation.allow: {{from: {source}, to: "
                                  f"{{cluster: {backend}, namespace: {service.namespace}}}}}")


def _clusters_known(plan: Plan, known: set[str]) -> bool:
    return all(b in known for s in plan.global_services for b in s.backends) and all(
        f.source.cluster in known and f.destination.cluster in known
        for f in plan.segmentation or ())


def _flow_covers(plan: Plan, source: str, namespace: str, destination: str,
                 destination_namespace: str) -> bool:
    """A flow from `source`/`namespace` ("" for a flow without namespace) into the
    destination's namespace."""
    return any(f.source.cluster == source
               and f.source.namespace in (None, namespace or None)
               and f.destination.cluster == destination
               and f.destination.namespace in (None, destination_namespace)
               for f in plan.segmentation or ())


RULES = (check_service_validity, check_cluster_references, check_unique_services,
         check_service_reachability)
