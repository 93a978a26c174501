"""Stage 4, render: the plan placed into the templates, as {relative path: text}.

The list of output files is decided in Python, never by templated paths: the mesh-wide
pages here, each backend's files by its render (backends.BACKENDS); templates receive the
frozen plan and only place its values. They are written in Jinja and run as the Python
they are compiled to (templating.py).
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from collections.abc import Mapping, Sized
from typing import Any

from . import facts, shipped, state
from .backends import BACKENDS
from .ca import SECRET_NAME, SharedCa
from .plan_records import Cluster, Plan
from .templating import Templates

# Above this many clusters TOPOLOGY.md keeps its table and leaves the diagram out.
DIAGRAM_MAX_CLUSTERS = 12
# The cleanup of clusters the topology no longer has, while the state record remembers them.
REMOVED_FILE = "REMOVED.md"


@dataclass(frozen=True)
class Rendered:
    """The output tree as text, and by backend the data its files were written from."""

    files: dict[str, str]
    data: Mapping[str, Any]  # backend name → backend.Output.data


@dataclass(frozen=True)
class CaContext:
    """What templates know of the shared CA: where it is, never what it holds."""

    present: bool
    secret_name: str
    file_name: str
    recipients: tuple[str, ...]


def counted(items: Sized, noun: str) -> str:
    """`3 AKS clusters`, `1 hybrid member`: the count and the noun, plural unless one."""
    return f"{len(items)} {noun}{'' if len(items) == 1 else 's'}"


@cache
def template_env() -> Templates:
    """The templates, compiled to Python (templating.py), with the pipeline's filters and
    each backend's filters and globals."""
    from .compiled_templates import FUNCTIONS

    filters: dict[str, Any] = {"counted": counted, "mermaid_id": mermaid_id}
    context: dict[str, Any] = {}
    for backend in BACKENDS.values():
        filters |= backend.template_filters
        context |= backend.template_globals
    return Templates(FUNCTIONS, filters, context)


def mermaid_id(name: str) -> str:
    """A Mermaid node id: regions and cluster names may collide with its keywords."""
    return "n_" + "".join(ch if ch.isalnum() else "_" for ch in name)


def render(plan: Plan, ca: SharedCa | None, verified: Mapping[str, str] | None = None,
           removed: tuple[dict[str, Any], ...] = ()) -> Rendered:
    """`verified`: what verify checks each kind of file against, in words (the README
    says it); by default the data aksmesh ships. `removed`: the clusters the state record
    holds that the topology no longer has (REMOVED.md says how to take them down)."""
    env = template_env()
    context = CaContext(ca is not None, ca.secret_name if ca else SECRET_NAME,
                        ca.file_name if ca else "", ca.recipients if ca else ())
    if verified is None:
        verified = shipped.described(plan.cilium_version, plan.kubernetes_version)
    files = {"README.md": env.get_template("README.md.j2").render(plan=plan, ca=context,
                                                                   facts=facts,
                                                                   verified=verified),
             "TOPOLOGY.md": render_topology_page(plan, env)}
    data = {}
    for backend in BACKENDS.values():
        output = backend.render(plan, env, ca, context)
        files |= output.files
        data[backend.name] = output.data
    # What the running mesh will be once this tree is deployed: the next render compares
    # its topology with this record (state.classify).
    files[state.STATE_FILE] = state.dump(state.record(plan, ca, removed))
    if removed:
        files[REMOVED_FILE] = env.get_template("REMOVED.md.j2").render(
            plan=plan, removed=removed, facts=facts, pronoun="them" if len(removed) > 1 else "it",
            steps={c["name"]: removal_steps(plan, c["managed"]) for c in removed})
    return Rendered(dict(sorted(files.items())), data)


def render_topology_page(plan: Plan, env: Templates) -> str:
    by_region: dict[str, list[Cluster]] = {}
    for cluster in plan.clusters:
        by_region.setdefault(cluster.region, []).append(cluster)
    draw = len(plan.clusters) <= DIAGRAM_MAX_CLUSTERS
    links = [(a, b, _link_arrow(plan, a, b))
             for i, a in enumerate(plan.clusters) for b in plan.clusters[i + 1:]] if draw else []
    flows: dict[tuple[str, str], list[str]] = {}
    for flow in plan.segmentation or ():
        if flow.source.cluster != flow.destination.cluster:
            flows.setdefault((flow.source.cluster, flow.destination.cluster), []).append(
                f"{flow.source.namespace or '*'} → {flow.destination.namespace or '*'}")
    return env.get_template("TOPOLOGY.md.j2").render(
        plan=plan, regions=sorted(by_region.items()), draw=draw,
        draw_limit=DIAGRAM_MAX_CLUSTERS, links=links,
        link_count=len(plan.clusters) * (len(plan.clusters) - 1) // 2,
        flow_edges=[(a, b, "; ".join(labels)) for (a, b), labels in flows.items()],
        reachability=plan.reachability_rows() if plan.segmentation is not None else (),
        services=plan.service_rows(), facts_other=facts.OTHER_NAMESPACES)


# Every removed cluster's cleanup starts with three steps (move workloads, push, stop Flux).
REMOVAL_FIRST_STEPS = 3


def removal_steps(plan: Plan, managed: bool) -> dict[str, int]:
    """The numbers of a removed cluster's further cleanup steps, by name: an Azure
    cluster leaves the Fleet (when there is one) and the VNet mesh, loses its resource
    group and is deployed without; a hybrid member loses its routes."""
    names = ((["fleet"] if plan.fleet else []) + ["network", "group", "deploy"]
             if managed else ["routes"])
    return {name: number for number, name in enumerate(names, REMOVAL_FIRST_STEPS + 1)}


def _link_arrow(plan: Plan, a: Cluster, b: Cluster) -> str:
    """Mermaid link between two clusters: how their node networks meet, and the mesh."""
    if not (a.managed and b.managed):
        return "<-.->|ClusterMesh|"  # a hybrid member: routing is the user's
    if plan.peering == "avnm":
        return "<==>|AVNM mesh + ClusterMesh|"
    return "<-->|VNet peering + ClusterMesh|"
