"""The Flux backend's render: each cluster's Flux tree and Cilium values, the files every
cluster shares, and the shared CA's Secret; templates under templates/flux/."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from ..backend import CaWiring, Output
from . import yaml_text
from .cilium_values import (CLUSTER_VALUES_COMMENTS, MESH_VALUES_COMMENTS, cluster_values,
                            mesh_values)
from .helm_values import merged_values

if TYPE_CHECKING:
    from ..ca import SharedCa
    from ..plan_records import Cluster, Plan
    from ..render import CaContext
    from ..templating import Templates

NAME = "flux"
# The HelmRelease reads valuesFrom Secrets in its own namespace, flux-system; the CA's
# encrypted file is kept in a directory of its own, which kustomize-controller decrypts.
CA_WIRING = CaWiring(secret_namespace="flux-system", directory="cilium-ca")
# Output path → template, for the Flux files every cluster shares: kept once, so that a
# cluster more or less changes none of the other clusters' directories.
FLUX_SYSTEM_PATCHES = "infrastructure/flux-system-patches"
MESH_VALUES_DIR = "infrastructure/cilium-mesh"
SHARED_FLUX_FILES = {
    f"{FLUX_SYSTEM_PATCHES}/kustomization.yaml": "flux/flux-system-patches/kustomization.yaml",
    f"{MESH_VALUES_DIR}/kustomization.yaml": "flux/cilium-mesh/kustomization.yaml.j2",
}
MESH_VALUES_FILE = f"{MESH_VALUES_DIR}/mesh-values.yaml"
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


@dataclass(frozen=True)
class CiliumValues:
    """The data the values files were written from, which verify checks."""

    clusters: dict[str, dict[str, Any]]  # cluster name → its own values (VALUES_FILE)
    shared: dict[str, Any]  # the values every cluster shares (MESH_VALUES_FILE)

    def effective(self, cluster: str) -> dict[str, Any]:
        """A cluster's values as helm-controller merges them: the shared ones, then its own."""
        return merged_values(self.shared, self.clusters[cluster])


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


def render_flux(plan: Plan, env: Templates, ca: SharedCa | None,
                ca_context: CaContext) -> Output:
    """The Flux files of `plan`, with the Cilium values they were written from."""
    files = {path: env.get_template(template).render(plan=plan)
             for path, template in SHARED_FLUX_FILES.items()}
    shared = mesh_values(plan)
    files[MESH_VALUES_FILE] = yaml_text.dump(shared, MESH_VALUES_COMMENTS,
                                             _mesh_values_header(plan))
    templates = {path: env.get_template(name) for path, name in cluster_files(plan).items()}
    values = {}
    for cluster in plan.clusters:
        cluster_context = {"plan": plan, "cluster": cluster, "ca": ca_context,
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
        files[f"{CA_WIRING.directory}/{ca.file_name}"] = ca.text
        files[f"{CA_WIRING.directory}/kustomization.yaml"] = env.get_template(
            "flux/cilium-ca/kustomization.yaml.j2").render(ca=ca_context)
        files[".sops.yaml"] = env.get_template("flux/sops.yaml.j2").render(ca=ca_context)
    return Output(files, CiliumValues(values, shared))


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
