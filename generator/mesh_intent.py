"""What the topology asks of traffic across the mesh, as the plan records it.

Two kinds of intent: global services (which clusters serve a Service, and in which order a
client's cluster tries them) and segmentation flows (which cluster and namespace admit
which). Apart from the other plan records because they are what verify proves: the
reachability model evaluates the rendered objects, and its answer is compared with these
records and shown in the same text (`preference_text`, `matrix_rows`).
"""

from __future__ import annotations

from dataclasses import dataclass

from . import facts


@dataclass(frozen=True)
class ServicePort:
    port: int
    target_port: int
    protocol: str
    name: str | None


@dataclass(frozen=True)
class ServiceManifest:
    """A global service as one cluster's Service object spells it."""

    annotations: tuple[tuple[str, str], ...]
    selector: tuple[tuple[str, str], ...]  # empty: the Service selects no pod here
    note: str  # why this cluster's Service looks the way it does


@dataclass(frozen=True)
class GlobalService:
    """A Service present in every cluster and load-balanced across the mesh."""

    index: int  # position in the topology's `globalServices`
    name: str
    namespace: str
    ports: tuple[ServicePort, ...]
    selector: tuple[tuple[str, str], ...]
    backends: frozenset[str]  # clusters that share their endpoints
    affinity: str  # none, local or remote

    def manifest_in(self, cluster: str) -> ServiceManifest:
        """The Service in `cluster`. Outside `backends` it has no selector: Kubernetes then
        makes no endpoints for it, so the cluster's clients only get the backends the
        mesh shares (`shared: "false"` alone would still serve them from local pods).
        `affinity: none` is Cilium's default and is left out: a literal "none" dropped
        every remote backend on Cilium before cilium/cilium#46635."""
        backend = cluster in self.backends
        annotations = [(facts.GLOBAL_SERVICE_ANNOTATION, "true"),
                       (facts.SHARED_SERVICE_ANNOTATION, "true" if backend else "false")]
        if self.affinity != "none":
            annotations.append((facts.SERVICE_AFFINITY_ANNOTATION, self.affinity))
        note = ("This cluster runs backends and shares them with the mesh."
                if backend else
                "No backends here: no selector, so this cluster's clients reach only the "
                "backends of " + ", ".join(sorted(self.backends)) + ".")
        return ServiceManifest(tuple(annotations), self.selector if backend else (), note)

    def preference(self, cluster: str) -> tuple[tuple[str, ...], ...]:
        """The backend clusters a client in `cluster` uses, best first (Cilium uses the
        next group only when the one before has no healthy backend): what affinity means
        according to Cilium's docs (Documentation/network/clustermesh/affinity.rst)."""
        others = tuple(sorted(self.backends - {cluster}))
        own = (cluster,) if cluster in self.backends else ()
        if self.affinity == "local":
            groups = (own, others)
        elif self.affinity == "remote":
            groups = (others, own)
        else:
            groups = (tuple(sorted(self.backends)),)
        return tuple(g for g in groups if g)


@dataclass(frozen=True)
class Endpoints:
    """One side of a cross-cluster flow: a cluster, and one namespace or all (None)."""

    cluster: str
    namespace: str | None


@dataclass(frozen=True)
class Flow:
    index: int  # position in the topology's `segmentation.allow`
    source: Endpoints
    destination: Endpoints


def matrix_rows(matrix: dict[tuple[str, str], set[tuple[str, str]]], clusters: list[str],
                namespaces: tuple[str, ...]) -> tuple[tuple[str, tuple[str, ...]], ...]:
    """A reachability matrix as lines: `cluster/namespace` and what it admits from other
    clusters, a cluster admitted in every namespace written `cluster/*`."""
    rows = []
    for cluster in clusters:
        for namespace in namespaces:
            admitted = matrix.get((cluster, namespace), set())
            sources = []
            for source in clusters:
                found = [n for n in namespaces if (source, n) in admitted]
                if len(found) == len(namespaces):
                    sources.append(f"{source}/*")
                else:
                    sources += [f"{source}/{n}" for n in found]
            rows.append((f"{cluster}/{namespace}", tuple(sources)))
    return tuple(rows)


def preference_text(groups: tuple[tuple[str, ...], ...]) -> str:
    """Backend clusters best first: `ne > we` (we only when ne has no healthy backend),
    `ne + we` (load-balanced across both)."""
    return " > ".join(" + ".join(group) for group in groups) or "(none)"
