"""Stage 4, render: the plan placed into Jinja templates, as {relative path: text}.

The list of output files is decided here in Python, never by templated paths; templates
receive the frozen plan and only place its values.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from collections.abc import Mapping, Sized
from typing import Any

import jinja2

from . import facts, shipped, state, yaml_text
from .cache import cache_dir
from .flux.cilium_values import (CLUSTER_VALUES_COMMENTS, MESH_VALUES_COMMENTS, cluster_values,
                            mesh_values)
from .flux.helm_values import merged_values
from .ca import SECRET_NAME, SharedCa
from .load import TEMPLATES_DIR
from .plan import Cluster, Plan

# Output path → template, for files rendered once per topology; then by kind of peering.
BICEP_FILES = {
    "bicep/main.bicep": "bicep/main.bicep.j2",
    "bicep/main.bicepparam": "bicep/main.bicepparam.j2",
    "bicep/modules/cluster-stack.bicep": "bicep/modules/cluster-stack.bicep.j2",
    "bicep/modules/cluster.bicep": "bicep/modules/cluster.bicep.j2",
}
PEERING_FILES = {
    "full-mesh": {"bicep/modules/peerings.bicep": "bicep/modules/peerings.bicep.j2"},
    "avnm": {"bicep/modules/network-manager.bicep": "bicep/modules/network-manager.bicep.j2"},
}
# Output path → template, for the Flux files every cluster shares: kept once, so that a
# cluster more or less changes none of the other clusters' directories.
FLUX_SYSTEM_PATCHES = "infrastructure/flux-system-patches"
MESH_VALUES_DIR = "infrastructure/cilium-mesh"
SHARED_FLUX_FILES = {
    f"{FLUX_SYSTEM_PATCHES}/kustomization.yaml": "flux/flux-system-patches/kustomization.yaml",
    f"{MESH_VALUES_DIR}/kustomization.yaml": "flux/cilium-mesh/kustomization.yaml.j2",
}
MESH_VALUES_FILE = f"{MESH_VALUES_DIR}/mesh-values.yaml"
# With rollout waves: the Fleet Manager fleet whose update strategy stages them.
FLEET_FILES = {"bicep/modules/fleet.bicep": "bicep/modules/fleet.bicep.j2"}
# Path under clusters/<name>/ → template, for files rendered once per cluster.
CLUSTER_FILES = {
    "kustomization.yaml": "flux/cluster-kustomization.yaml.j2",
    "flux-system/kustomization.yaml": "flux/flux-system/kustomization.yaml.j2",
    "cilium.yaml": "flux/cilium.yaml.j2",
    "cilium/kustomization.yaml": "flux/cilium/kustomization.yaml.j2",
    "cilium/helmrepository.yaml": "flux/cilium/helmrepository.yaml.j2",
    "cilium/helmrelease.yaml": "flux/cilium/helmrelease.yaml.j2",
}
VALUES_FILE = "cilium/values.yaml"
# Under clusters/<name>/, when the topology declares global services or segmentation.
MESH_APPS_FILES = {
    "mesh-apps.yaml": "flux/mesh-apps.yaml.j2",
    "mesh-apps/kustomization.yaml": "flux/mesh-apps/kustomization.yaml.j2",
}
NAMESPACES_FILE = "mesh-apps/namespaces.yaml"
GLOBAL_SERVICES_FILE = "mesh-apps/global-services.yaml"
SEGMENTATION_FILE = "mesh-apps/cross-cluster-ingress.yaml"
# Above this many clusters TOPOLOGY.md keeps its table and leaves the diagram out.
DIAGRAM_MAX_CLUSTERS = 12
SHARED_CA_DIR = "cilium-ca"
# The cleanup of clusters the topology no longer has, while the state record remembers them.
REMOVED_FILE = "REMOVED.md"


@dataclass(frozen=True)
class Rendered:
    """The output tree as text, and the data behind the files that were made from data."""

    files: dict[str, str]
    values: dict[str, dict[str, Any]]  # cluster name → its own Cilium values (values.yaml)
    mesh_values: dict[str, Any]  # the Cilium values every cluster shares (MESH_VALUES_FILE)

    def effective_values(self, cluster: str) -> dict[str, Any]:
        """A cluster's values as helm-controller merges them: the shared ones, then its own."""
        return merged_values(self.mesh_values, self.values[cluster])


@dataclass(frozen=True)
class CaContext:
    """What templates know of the shared CA: where it is, never what it holds."""

    present: bool
    secret_name: str
    file_name: str
    recipients: tuple[str, ...]


def api(resource_type: str) -> str:
    """`type@apiVersion` from the one table of API versions."""
    return f"{resource_type}@{facts.API_VERSIONS[resource_type]}"


def counted(items: Sized, noun: str) -> str:
    """`3 AKS clusters`, `1 hybrid member`: the count and the noun, plural unless one."""
    return f"{len(items)} {noun}{'' if len(items) == 1 else 's'}"


def bicep_literal(value: bool) -> str:
    return "true" if value else "false"


_BICEP_ESCAPES = str.maketrans({"\\": "\\\\", "'": "\\'", "\n": "\\n", "\r": "\\r",
                                "\t": "\\t"})


def bicep_string(text: str) -> str:
    """Text for inside a single-quoted Bicep string: quotes, backslashes and line breaks
    escaped, and `${`, which would start an interpolation, written `\\${`."""
    return text.translate(_BICEP_ESCAPES).replace("${", "\\${")


@cache
def jinja_env() -> jinja2.Environment:
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(TEMPLATES_DIR),
        undefined=jinja2.StrictUndefined,  # a missing value is a bug, never an empty string
        keep_trailing_newline=True,
        autoescape=False,  # we write YAML, Bicep and Markdown, not HTML
        trim_blocks=True,
        lstrip_blocks=True,
        # Compiling the templates is a large part of a small render's time; Jinja keeps
        # the compiled code in aksmesh's cache, keyed by template source.
        bytecode_cache=_bytecode_cache(),
    )
    # A global, not a filter: Jinja folds filters on constants into the compiled (and
    # cached) template, which would outlive a change of the API version table.
    env.globals["api"] = api
    env.filters["bicep"] = bicep_literal
    env.filters["counted"] = counted
    env.filters["bicep_string"] = bicep_string
    env.filters["yaml_scalar"] = yaml_text.scalar
    env.filters["mermaid_id"] = mermaid_id
    return env


def _bytecode_cache() -> jinja2.BytecodeCache | None:
    directory = cache_dir("templates")
    return jinja2.FileSystemBytecodeCache(str(directory)) if directory else None


def mermaid_id(name: str) -> str:
    """A Mermaid node id: regions and cluster names may collide with its keywords."""
    return "n_" + "".join(ch if ch.isalnum() else "_" for ch in name)


def cluster_files(plan: Plan) -> dict[str, str]:
    """Per-cluster path → template: the Flux tree, and the mesh apps when there are any."""
    files = dict(CLUSTER_FILES)
    if plan.global_services or plan.segmentation is not None:
        files |= MESH_APPS_FILES
    if plan.mesh_namespaces:
        files[NAMESPACES_FILE] = "flux/mesh-apps/namespaces.yaml.j2"
    if plan.global_services:
        files[GLOBAL_SERVICES_FILE] = "flux/mesh-apps/global-services.yaml.j2"
    if plan.segmentation is not None:
        files[SEGMENTATION_FILE] = "flux/mesh-apps/cross-cluster-ingress.yaml.j2"
    return files


def render(plan: Plan, ca: SharedCa | None, verified: Mapping[str, str] | None = None,
           removed: tuple[dict[str, Any], ...] = ()) -> Rendered:
    """`verified`: what verify checks each kind of file against, in words (the README
    says it); by default the data aksmesh ships. `removed`: the clusters the state record
    holds that the topology no longer has (REMOVED.md says how to take them down)."""
    env = jinja_env()
    context = CaContext(ca is not None, ca.secret_name if ca else SECRET_NAME,
                        ca.file_name if ca else "", ca.recipients if ca else ())
    if verified is None:
        verified = shipped.described(plan.cilium_version, plan.kubernetes_version)
    files = {"README.md": env.get_template("README.md.j2").render(plan=plan, ca=context,
                                                                   facts=facts,
                                                                   verified=verified)}
    bicep = {**BICEP_FILES, **PEERING_FILES[plan.peering], **(FLEET_FILES if plan.fleet else {})}
    for path, template in bicep.items():
        files[path] = env.get_template(template).render(plan=plan, facts=facts)
    files["TOPOLOGY.md"] = render_topology_page(plan, env)
    for path, template in SHARED_FLUX_FILES.items():
        files[path] = env.get_template(template).render(plan=plan)
    shared = mesh_values(plan)
    files[MESH_VALUES_FILE] = yaml_text.dump(shared, MESH_VALUES_COMMENTS, _mesh_values_header(plan))
    templates = {path: env.get_template(name) for path, name in cluster_files(plan).items()}
    values = {}
    for cluster in plan.clusters:
        cluster_context = {"plan": plan, "cluster": cluster, "ca": context,
                           "mesh_apps": "mesh-apps.yaml" in templates,
                           "policies": plan.segmentation_policies(cluster)}
        for path, template in templates.items():
            files[f"clusters/{cluster.name}/{path}"] = template.render(cluster_context)
        # The topology's extra values go under aksmesh's own (a check refuses any overlap).
        values[cluster.name] = merged_values(cluster.extra_cilium_values,
                                             cluster_values(plan, cluster))
        files[f"clusters/{cluster.name}/{VALUES_FILE}"] = yaml_text.dump(
            values[cluster.name], CLUSTER_VALUES_COMMENTS, _values_header(plan, cluster))
    if ca is not None:
        # Byte for byte: sops' MAC covers the whole document.
        files[f"{SHARED_CA_DIR}/{ca.file_name}"] = ca.text
        files[f"{SHARED_CA_DIR}/kustomization.yaml"] = env.get_template(
            "flux/cilium-ca/kustomization.yaml.j2").render(ca=context)
        files[".sops.yaml"] = env.get_template("flux/sops.yaml.j2").render(ca=context)
    # What the running mesh will be once this tree is deployed: the next render compares
    # its topology with this record (state.classify).
    files[state.STATE_FILE] = state.dump(state.record(plan, ca, removed))
    if removed:
        files[REMOVED_FILE] = env.get_template("REMOVED.md.j2").render(
            plan=plan, removed=removed, facts=facts, pronoun="them" if len(removed) > 1 else "it",
            steps={c["name"]: removal_steps(plan, c["managed"]) for c in removed})
    return Rendered(dict(sorted(files.items())), values, shared)


def render_topology_page(plan: Plan, env: jinja2.Environment) -> str:
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


def _helm_command(cilium_version: str, cluster: str) -> str:
    """The by-hand install of a cluster's values, from the tree's root (README.md)."""
    return (f"  helm upgrade --install cilium cilium/cilium --version {cilium_version} "
            f"-n kube-system \\\n      -f {MESH_VALUES_FILE} -f clusters/{cluster}/{VALUES_FILE}")


def _mesh_values_header(plan: Plan) -> str:
    return (f"Generated by aksmesh from the topology `{plan.name}`. Do not edit: run "
            f"`make render`.\n\n"
            f"Cilium {plan.cilium_version} Helm values every cluster of the mesh shares, kept "
            f"once. Each cluster's\nHelmRelease merges them first (the cilium-mesh-values "
            f"ConfigMap), then the cluster's own\nclusters/<cluster>/{VALUES_FILE}; by hand, "
            f"from the tree's root, the same two files\nin that order:\n"
            f"{_helm_command(plan.cilium_version, '<cluster>')}\n"
            f"plus the shared CA (see README.md). The CA is not here: it is secret.")


def _values_header(plan: Plan, cluster: Cluster) -> str:
    return (f"Generated by aksmesh from the topology `{plan.name}`. Do not edit: run "
            f"`make render`.\n\n"
            f"Cilium {cluster.cilium_version} Helm values of cluster `{cluster.name}`, over the "
            f"mesh's shared values\n({MESH_VALUES_FILE}): Flux merges that file first, "
            f"then this\none (the cilium-mesh-values and cilium-values ConfigMaps); by "
            f"hand, from the tree's root:\n{_helm_command(cluster.cilium_version, cluster.name)}\n"
            f"plus the shared CA (see README.md). The CA is not here: it is secret.")
