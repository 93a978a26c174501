"""Stage 5, verify: every rendered file checked offline before anything is written.

A finding here means aksmesh rendered something wrong: it is reported against the
rendered file and stops the write. Everything is checked against the data aksmesh ships
(`shipped`: Azure type data, Flux and Cilium CRD schemas, the Cilium chart's values
schema, Kubernetes core schemas); the user may give other data instead (`--bicep-types`,
`--crd-schemas`, `--cilium-values-schema`), the way kubeconform takes a schema location.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

from . import facts, shipped
from .flux import manifests
from .diagnostics import Diagnostic, diagnostic
from .flux.helm_values import chart_mesh_clusters
from .load import LoadError, load_reference_json, unusable_reference
from .plan import Cluster, Plan
from .flux.verify_apply import verify_apply_order
from .flux.verify_mesh import verify_mesh_intent

if TYPE_CHECKING:  # render (and Jinja) is imported only by the commands that render
    from .render import Rendered


@dataclass(frozen=True)
class References:
    """Schema data the user passes in instead of the shipped data; empty where not given."""

    bicep_types: Path | None = None
    crd_schemas: tuple[Path, ...] = ()  # <group>/<kind>_<version>.json, as kubeconform reads
    cilium_values_schema: Path | None = None

    def resolved(self, plan: Plan) -> Sources:
        """What a render of `plan` is checked against: what the user gave, else the data
        aksmesh ships for the plan's Cilium and Kubernetes versions."""
        return Sources(
            self.bicep_types or shipped.bicep_types(),
            self.crd_schemas or shipped.crd_schemas(plan.cilium_version),
            self.cilium_values_schema or shipped.cilium_values_schema(plan.cilium_version),
            shipped.kubernetes_schemas(plan.kubernetes_version),
            # A rollout wave may pin another Cilium version: its clusters' values are
            # checked against that chart's schema.
            {c.cilium_version: self.cilium_values_schema
             or shipped.cilium_values_schema(c.cilium_version) for c in plan.clusters})

    def described(self, plan: Plan) -> dict[str, str]:
        """What each check is made against, in words, for the generated README. Data given
        that is the shipped data itself (links to its files) is described as such."""
        return shipped.described(
            plan.cilium_version, plan.kubernetes_version,
            bicep_types=not shipped.is_shipped(self.bicep_types),
            crd_schemas=not all(map(shipped.is_shipped, self.crd_schemas)),
            cilium_values_schema=not shipped.is_shipped(self.cilium_values_schema))


@dataclass(frozen=True)
class Sources:
    bicep_types: Path
    crd_schemas: tuple[Path, ...]
    cilium_values_schema: Path | None  # None: no data for the version (check refuses it)
    kubernetes_schemas: Path | None  # <kind>-<version>.json of the core kinds, or None
    values_schemas: Mapping[str, Path | None] = field(default_factory=dict)  # by Cilium version


def verify(plan: Plan, rendered: "Rendered", references: References) -> list[Diagnostic]:
    sources = references.resolved(plan)
    diagnostics = []
    for check in (lambda: verify_bicep_files(plan, rendered.files, sources.bicep_types),
                  lambda: verify_flux_files(plan, rendered, sources)):
        try:
            diagnostics += check()
        except LoadError as error:  # a schema that cannot be read: that check cannot run
            diagnostics.append(_damaged_if_shipped(error.diagnostic))
    return diagnostics + verify_apply_order(plan, rendered.files) + \
        verify_mesh_intent(plan, rendered.files) + \
        scan_for_secrets(plan, rendered.files)


def _damaged_if_shipped(unusable: Diagnostic) -> Diagnostic:
    """A shipped file that cannot be used is not the user's to fix: the install is damaged."""
    if not Path(unusable.file).resolve().is_relative_to(shipped.DATA.resolve()):
        return unusable
    return diagnostic("AKM604", unusable.file, unusable.line, unusable.col,
                      f"the verification data aksmesh ships is damaged: {unusable.message}",
                      "reinstall aksmesh (pip install --force-reinstall aksmesh); in a "
                      "checkout, `git checkout generator/data` or `make data`")


# ---------------------------------------------------------------- Bicep


def verify_bicep_files(plan: Plan, files: dict[str, str], types_dir: Path | None
                       ) -> list[Diagnostic]:
    """Syntax, and with type data (always, but in unit tests) every resource body."""
    from . import facts
    from .bicep import (TypeLibrary, bicep_findings, bicepparam_findings,
                        shadowed_functions, unused_parameters)

    library = TypeLibrary.from_directory(types_dir) if types_dir else None
    diagnostics = []
    unchecked: dict[str, tuple[str, int, int]] = {}  # type without type data -> first use
    for path, text in files.items():
        if not path.endswith(".bicep"):
            continue
        where = f"{plan.name}/{path}"
        syntax, bodies = bicep_findings(text, library)
        gaps = [f for f in bodies if f.missing_type in facts.TYPES_WITHOUT_REFERENCE_DATA]
        for finding in gaps:
            unchecked.setdefault(finding.missing_type, (where, finding.line, finding.col))
        diagnostics += [diagnostic(code, where, f.line, f.col, f.message, f.hint)
                        for code, found in (("AKM501", syntax),
                                            ("AKM502", [f for f in bodies if f not in gaps]))
                        for f in found]
        if not syntax:
            diagnostics += [diagnostic(code, where, f.line, f.col, f.message, f.hint)
                            for code, found in (
                                ("AKM441", unused_parameters(text)),
                                ("AKM442", shadowed_functions(text, facts.BICEP_FUNCTIONS)))
                            for f in found]
    # Said once per type, where it is first declared: the gap is the data's, not the file's.
    for type_name, (where, line, col) in sorted(unchecked.items()):
        diagnostics.append(diagnostic(
            "AKM440", where, line, col,
            f"no type data for {type_name}@{facts.API_VERSIONS[type_name]}: "
            "its bodies are checked for syntax only",
            "derive its types.json (Azure/bicep-types-az generated/) with `make data`, "
            "then drop it from facts.TYPES_WITHOUT_REFERENCE_DATA"))
    params = "bicep/main.bicepparam"
    if params in files:
        diagnostics += [diagnostic("AKM443", f"{plan.name}/{params}", f.line, f.col,
                                   f.message, f.hint)
                        for f in bicepparam_findings(files[params], "main.bicep",
                                                     files["bicep/main.bicep"])]
    return diagnostics


# ---------------------------------------------------------------- Flux and Cilium

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


def verify_flux_files(plan: Plan, rendered: "Rendered", sources: Sources) -> list[Diagnostic]:
    """Cilium values (checked as the data they were written from) and every object."""
    from .render import MESH_VALUES_FILE, VALUES_FILE

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
        values = rendered.effective_values(cluster.name)
        diagnostics += [diagnostic("AKM514", where, 1, 1, problem)
                        for problem in values_disagreements(cluster, plan, values)]
        schema = sources.values_schemas.get(cluster.cilium_version, sources.cilium_values_schema)
        values_validator = _validator(schema) if schema else None
        if values_validator is None:
            diagnostics.append(diagnostic("AKM512", where, 1, 1, "no values schema for "
                                          f"Cilium {cluster.cilium_version} to check against"))
        else:
            diagnostics += [diagnostic("AKM512", where, 1, 1, message)
                            for message in _schema_errors(values_validator, values)]
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
    yield from _schema_errors(_validator(schema), document)


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


_DRAFT_2020_12 = "https://json-schema.org/draft/2020-12/schema"


@cache
def _validator(schema_path: Path) -> Any:
    """A draft 7 validator (CRD and chart schemas declare no $schema; kubeconform reads
    them as draft 7; the Kubernetes core schemas declare draft 2020-12): jsonschema-rs, or
    jsonschema for the schemas it refuses (the Cilium CRDs use regexes such as `\\PC`
    that its regex engine does not know)."""
    import jsonschema_rs

    schema = load_reference_json(schema_path)
    if isinstance(schema, dict) and schema.get("$schema") == _DRAFT_2020_12:
        return jsonschema_rs.Draft202012Validator(schema)
    try:
        return jsonschema_rs.Draft7Validator(schema)
    except jsonschema_rs.ValidationError:
        import jsonschema

        # Against the metaschema, without checking that patterns compile: Python's `re`
        # refuses the same regexes, and meets them only if a value reaches them.
        meta = jsonschema.Draft7Validator(jsonschema.Draft7Validator.META_SCHEMA)
        problem = jsonschema.exceptions.best_match(meta.iter_errors(schema))
        if problem is not None:
            where = ".".join(map(str, problem.absolute_path)) or "(root)"
            raise unusable_reference(str(schema_path), f"not a draft 7 JSON Schema: {where}: "
                                     f"{problem.message}") from None
        return jsonschema.Draft7Validator(schema)


def _schema_errors(validator: Any, document: Any) -> Iterator[str]:
    try:
        errors = list(validator.iter_errors(document))
    except Exception as error:  # a schema regex Python cannot compile, met by a value
        yield f"(root): the schema could not be applied: {error}"
        return
    # jsonschema-rs names the path instance_path, jsonschema absolute_path.
    paths = [[str(p) for p in getattr(e, "instance_path", None) or getattr(e, "absolute_path", [])]
             for e in errors]
    for path, error in sorted(zip(paths, errors), key=lambda pair: pair[0]):
        yield f"{'.'.join(path) or '(root)'}: {error.message}"


# ---------------------------------------------------------------- secrets

_CLEAR_SECRET = re.compile(r"PRIVATE KEY-----|AGE-SECRET-KEY-1")


def scan_for_secrets(plan: Plan, files: dict[str, str]) -> list[Diagnostic]:
    """No private key in clear in any file, and every Secret's data encrypted by sops."""
    from .ca import is_encrypted_secret

    diagnostics = []
    for path, text in files.items():
        where = f"{plan.name}/{path}"
        match = _CLEAR_SECRET.search(text)
        if match:
            line = text.count("\n", 0, match.start()) + 1
            diagnostics.append(diagnostic("AKM515", where, line, 1,
                                          "a private key in clear"))
        elif re.search(r"^kind:\s*Secret\s*$", text, re.MULTILINE) and \
                not is_encrypted_secret(text):
            diagnostics.append(diagnostic("AKM515", where, 1, 1,
                                          "a Secret whose values are not sops-encrypted"))
    return diagnostics
