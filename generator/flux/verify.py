"""The Flux backend's checks of the rendered objects and values: every object against its
schema (the Kubernetes core schemas, the Flux and Cilium CRD schemas; AKM511), each
cluster's Cilium values against the chart's schema and the plan (AKM512, AKM514), and the
values merged as verify checked them (AKM560)."""

from __future__ import annotations

from collections.abc import Iterator
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .. import facts, json_schema
from ..diagnostics import Diagnostic, diagnostic
from ..inputs import load_reference_json, unusable_reference
from ..plan_records import Cluster, Plan
from . import manifests
from .helm_values import chart_mesh_clusters
from .render import MESH_VALUES_FILE, NAME, VALUES_FILE

if TYPE_CHECKING:
    from ..render import Rendered
    from ..verify import Sources

# Every document of every rendered YAML file that names an apiVersion and a kind is an
# object the API server receives, checked against its schema, except kustomize's own
# (kustomization.yaml, components), which configure a build: kustomize reads a directory's
# kustomization.yaml as its configuration, never as a resource (kubernetes-sigs/kustomize
# api/konfig/general.go, RecognizedKustomizationFileNames), so those are not even parsed.
# Values files are checked as the data they were written from; .sops.yaml is sops' own.
KUSTOMIZATION_FILE = "kustomization.yaml"
KUSTOMIZE_GROUP = "kustomize.config.k8s.io"
# Kubernetes core kinds (group ""): checked against the Kubernetes schemas, not CRDs.
CORE_GROUP = ""


def verify_flux_files(plan: Plan, rendered: Rendered, sources: Sources) -> list[Diagnostic]:
    """Cilium values (checked as the data they were written from) and every object."""
    values_files = {MESH_VALUES_FILE} | {f"clusters/{cluster.name}/{VALUES_FILE}"
                                         for cluster in plan.clusters}
    diagnostics = [message for path, text in rendered.files.items()
                   if path.endswith(".yaml") and path not in values_files
                   and path.rpartition("/")[2] != KUSTOMIZATION_FILE
                   for message in _object_file_errors(plan, path, text, sources)]
    for cluster in plan.clusters:
        root = f"clusters/{cluster.name}"
        where = f"{plan.name}/{root}/{VALUES_FILE}"
        # What the chart receives: the shared values, then the cluster's (valuesFrom order).
        values = rendered.data[NAME].effective(cluster.name)
        diagnostics += [diagnostic("AKM514", where, 1, 1, problem)
                        for problem in values_disagreements(cluster, plan, values)]
        schema = sources.values_schemas.get(cluster.cilium_version, sources.cilium_values_schema)
        values_validator = _validator(schema) if schema else None
        if values_validator is None:
            diagnostics.append(diagnostic("AKM512", where, 1, 1, "no values schema for "
                                          f"Cilium {cluster.cilium_version} to check against"))
        else:
            diagnostics += [diagnostic("AKM512", where, 1, 1, message)
                            for message in json_schema.errors(values_validator, values)]
        diagnostics += _values_merge_problems(plan, root, rendered.files)
    return diagnostics


def _object_file_errors(plan: Plan, path: str, text: str, sources: Sources
                        ) -> list[Diagnostic]:
    import yaml

    where = f"{plan.name}/{path}"
    try:
        documents = manifests.documents(text)
    except yaml.YAMLError as error:
        mark = getattr(error, "problem_mark", None)
        return [diagnostic("AKM511", where, mark.line + 1 if mark else 1,
                           mark.column + 1 if mark else 1,
                           f"not valid YAML: {error}".splitlines()[0])]
    return [diagnostic("AKM511", where, 1, 1, message) for document in documents
            if _is_object(document)
            for message in _manifest_errors(_as_applied(document), sources)]


def _is_object(document: Any) -> bool:
    """A document that names an apiVersion or a kind, and not kustomize's own (a document
    naming only one of them is an object missing the other: its schema says so)."""
    if not isinstance(document, dict) or not ({"apiVersion", "kind"} & set(document)):
        return False
    return str(document.get("apiVersion", "")).rpartition("/")[0] != KUSTOMIZE_GROUP


def _as_applied(document: Any) -> Any:
    """The object the API server receives: kustomize-controller decrypts a sops-encrypted
    object and drops its `sops` metadata before applying it (fluxcd/kustomize-controller
    internal/decryptor/decryptor.go, DecryptResource)."""
    if isinstance(document, dict) and isinstance(document.get("sops"), dict):
        return {k: v for k, v in document.items() if k != "sops"}
    return document


# The values the checks above read, as helm-controller must merge them: the ConfigMaps the
# templates generate (flux/cilium-mesh and flux/cilium kustomization.yaml.j2), in this
# order, each read whole from its values.yaml key (fluxcd/pkg chartutil/values.go
# ChartValuesFromReferences merges references in order; a targetPath would replace).
VALUES_CONFIGMAPS = ("cilium-mesh-values", "cilium-values")
MESH_VALUES_RESOURCE = "../../../infrastructure/cilium-mesh"


def _values_merge_problems(plan: Plan, root: str, files: dict[str, str]) -> list[Diagnostic]:
    """AKM560: the cluster's HelmRelease and cilium kustomization merge the values checked."""
    import yaml

    release = f"{root}/cilium/helmrelease.yaml"
    kustomization = f"{root}/cilium/kustomization.yaml"
    try:
        documents = list(manifests.documents(files.get(release, "")))
    except yaml.YAMLError:
        documents = []  # reported as AKM511
    return [diagnostic("AKM560", f"{plan.name}/{release}", 1, 1, problem)
            for problem in _values_sources_problems(documents)] + \
        [diagnostic("AKM560", f"{plan.name}/{kustomization}", 1, 1, problem)
         for problem in _shared_values_problems(files.get(kustomization, ""), yaml)]


def _values_sources_problems(documents: list[Any]) -> Iterator[str]:
    """Whether the HelmRelease merges exactly the values verify checked, in that order."""
    for release in (d for d in documents if isinstance(d, dict) and d.get("kind") == "HelmRelease"):
        refs = [r for r in (release.get("spec") or {}).get("valuesFrom") or []
                if isinstance(r, dict) and r.get("kind") == "ConfigMap"]
        merged = [r.get("name") for r in refs
                  if r.get("valuesKey", "values.yaml") == "values.yaml" and not r.get("targetPath")]
        if merged != list(VALUES_CONFIGMAPS) or len(refs) != len(merged):
            yield (f"valuesFrom merges the ConfigMaps {[r.get('name') for r in refs]}, not "
                   f"{list(VALUES_CONFIGMAPS)} whole and in that order: the values verify "
                   "checked are not the ones helm-controller installs")


def _shared_values_problems(text: str, yaml: Any) -> Iterator[str]:
    """Whether the cluster's cilium kustomization brings in the shared values' ConfigMap."""
    try:
        config = yaml.load(text, Loader=yaml.CSafeLoader) or {}
    except yaml.YAMLError as error:
        yield f"not valid YAML: {error}".splitlines()[0]
        return
    if MESH_VALUES_RESOURCE not in ((config.get("resources") or []) if isinstance(config, dict)
                                    else []):
        yield (f"resources do not list {MESH_VALUES_RESOURCE}: the HelmRelease would find "
               f"no {VALUES_CONFIGMAPS[0]} ConfigMap")


def values_disagreements(cluster: Cluster, plan: Plan, values: dict[str, Any]) -> Iterator[str]:
    """What a cluster's rendered Cilium values say that the plan does not."""
    identity = values.get("cluster", {})
    if (identity.get("name"), identity.get("id")) != (cluster.name, cluster.id):
        yield f"cluster.name/id {identity.get('name')}/{identity.get('id')} instead of " \
              f"{cluster.name}/{cluster.id}"
    pools = values.get("ipam", {}).get("operator", {}).get("clusterPoolIPv4PodCIDRList")
    if pools != [str(cluster.pod_cidr)]:
        yield f"pod pool {pools} instead of [{cluster.pod_cidr}]"
    mesh = values.get("clustermesh", {})
    if mesh.get("maxConnectedClusters") != plan.max_connected_clusters:
        yield f"maxConnectedClusters {mesh.get('maxConnectedClusters')} instead of " \
              f"{plan.max_connected_clusters}"
    # As the chart's templates see the list: without the entries a cluster disabled.
    listed = {name: (peer.get("ips"), peer.get("port"))
              for name, peer in chart_mesh_clusters(values).items()}
    planned = {p.name: ([p.ip], p.port) for p in cluster.mesh_peers}
    if listed != planned:
        yield f"mesh peers {sorted(listed)} do not match the planned {sorted(planned)}"
    annotations = mesh.get("apiserver", {}).get("service", {}).get("annotations", {})
    requested = annotations.get("service.beta.kubernetes.io/azure-load-balancer-ipv4"
                                if cluster.managed else facts.LBIPAM_IPS_ANNOTATION)
    if requested != str(cluster.clustermesh_ip):
        yield f"ClusterMesh load balancer IP is not {cluster.clustermesh_ip}"
    wireguard = values.get("encryption", {}).get("type") == "wireguard" and \
        values["encryption"].get("enabled") is True
    if wireguard != (cluster.encryption == "wireguard"):
        yield f"encryption does not match the planned {cluster.encryption}"


def _manifest_errors(document: dict[str, Any], sources: Sources) -> Iterator[str]:
    api_version, kind = str(document.get("apiVersion", "")), str(document.get("kind", ""))
    if api_version.rpartition("/")[0] == CORE_GROUP:
        schema = _core_schema_file(api_version, kind, sources.kubernetes_schemas)
        if schema is None:
            yield f"no Kubernetes schema for {api_version} {kind}: not a core kind aksmesh knows"
            return
    else:
        schema = _schema_file(api_version, kind, sources.crd_schemas)
        if schema is None:
            yield f"no schema for {api_version} {kind} in the CRD schemas: not a served API"
            return
    yield from json_schema.errors(_validator(schema), document)


@cache
def _core_schema_file(api_version: str, kind: str, directory: Path | None) -> Path | None:
    """kubernetes-validate's layout: <kind>-<version>.json."""
    path = directory / f"{kind.lower()}-{api_version}.json" if directory else None
    return path if path is not None and path.is_file() else None


@cache
def _schema_file(api_version: str, kind: str, directories: tuple[Path, ...]) -> Path | None:
    """kubeconform's two layouts: <group>/<kind>_<version>.json, or <kind>_<version>.json."""
    group, _, version = api_version.rpartition("/")
    name = f"{kind.lower()}_{version}.json"
    candidates = [d / group / name for d in directories] + [d / name for d in directories]
    return next((path for path in candidates if path.is_file()), None)


@cache
def _validator(schema_path: Path) -> Any:
    try:
        return json_schema.validator(load_reference_json(schema_path))
    except json_schema.NotASchema as error:
        raise unusable_reference(str(schema_path), str(error)) from None
