"""Stage 5, verify: every rendered file checked offline before anything is written.

A finding here means aksmesh rendered something wrong: it is reported against the
rendered file and stops the write. What cannot be checked is said, as a note. Schemas are
the user's to give (`--bicep-types`, `--crd-schemas`, `--cilium-values-schema`), the way
kubeconform takes a schema location; aksmesh ships none of them.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .diagnostics import Diagnostic, diagnostic
from .helm_values import chart_mesh_clusters
from .load import LoadError, load_reference_json, unusable_reference
from .plan import Cluster, Plan

if TYPE_CHECKING:  # render (and Jinja) is imported only by the commands that render
    from .render import Rendered


@dataclass(frozen=True)
class References:
    """Schema data the user passes in; empty where it was not given."""

    bicep_types: Path | None = None
    crd_schemas: tuple[Path, ...] = ()  # <group>/<kind>_<version>.json, as kubeconform reads
    cilium_values_schema: Path | None = None


def verify(plan: Plan, rendered: "Rendered", references: References) -> list[Diagnostic]:
    diagnostics = []
    for check in (lambda: verify_bicep_files(plan, rendered.files, references.bicep_types),
                  lambda: verify_flux_files(plan, rendered, references)):
        try:
            diagnostics += check()
        except LoadError as error:  # a schema that cannot be read: that check cannot run
            diagnostics.append(error.diagnostic)
    return diagnostics + scan_for_secrets(plan, rendered.files)


# ---------------------------------------------------------------- Bicep


def verify_bicep_files(plan: Plan, files: dict[str, str], types_dir: Path | None
                       ) -> list[Diagnostic]:
    from .bicep_verify import TypeLibrary, bicep_findings

    library = TypeLibrary.from_directory(types_dir) if types_dir else None
    diagnostics = []
    for path, text in files.items():
        if not path.endswith(".bicep"):
            continue
        where = f"{plan.name}/{path}"
        syntax, bodies = bicep_findings(text, library)
        diagnostics += [diagnostic(code, where, f.line, f.col, f.message, f.hint)
                        for code, found in (("AKM501", syntax), ("AKM502", bodies))
                        for f in found]
    if library is None:
        diagnostics.append(diagnostic("AKM503", f"{plan.name}/bicep/main.bicep", 1, 1,
                                      "Bicep syntax checked; resource bodies not checked",
                                      "pass --bicep-types DIR to check them against the "
                                      "Azure type data"))
    return diagnostics


# ---------------------------------------------------------------- Flux and Cilium

# The rendered files of each cluster that hold Kubernetes objects; the other files are
# kustomize's own.
OBJECT_FILES = ("cilium.yaml", "cilium/helmrelease.yaml", "cilium/helmrepository.yaml",
                "mesh-apps.yaml", "mesh-apps/global-services.yaml",
                "mesh-apps/cross-cluster-ingress.yaml")
# Kubernetes core kinds (group "") have no CRD schema: only custom resources are looked up.
CORE_GROUP = ""


def verify_flux_files(plan: Plan, rendered: "Rendered", references: References
                      ) -> list[Diagnostic]:
    """Cilium values (checked as the data they were written from) and Flux objects."""
    import yaml

    from .render import VALUES_FILE

    values_validator = (_validator(references.cilium_values_schema)
                        if references.cilium_values_schema else None)
    diagnostics = []
    for cluster in plan.clusters:
        root = f"clusters/{cluster.name}"
        where = f"{plan.name}/{root}/{VALUES_FILE}"
        # What the chart receives: the shared values, then the cluster's (valuesFrom order).
        values = rendered.effective_values(cluster.name)
        diagnostics += [diagnostic("AKM514", where, 1, 1, problem)
                        for problem in values_disagreements(cluster, plan, values)]
        if values_validator is not None:
            diagnostics += [diagnostic("AKM512", where, 1, 1, message)
                            for message in _schema_errors(values_validator, values)]
        for path in (f"{root}/{name}" for name in OBJECT_FILES):
            if path not in rendered.files:
                continue
            where = f"{plan.name}/{path}"
            try:
                # The C loader: hundreds of clusters make thousands of these small files.
                documents = [d for d in yaml.load_all(rendered.files[path],
                                                      Loader=yaml.CSafeLoader) if d]
            except yaml.YAMLError as error:
                mark = getattr(error, "problem_mark", None)
                diagnostics.append(diagnostic("AKM511", where, mark.line + 1 if mark else 1,
                                              mark.column + 1 if mark else 1,
                                              f"not valid YAML: {error}".splitlines()[0]))
                continue
            if references.crd_schemas:
                diagnostics += [diagnostic("AKM511", where, 1, 1, message)
                                for document in documents
                                for message in _manifest_errors(document, references)]
            if path.endswith("/cilium/helmrelease.yaml"):
                diagnostics += [diagnostic("AKM560", where, 1, 1, problem)
                                for problem in _values_sources_problems(documents)]
        diagnostics += [diagnostic("AKM560", f"{plan.name}/{root}/cilium/kustomization.yaml",
                                   1, 1, problem)
                        for problem in _shared_values_problems(rendered.files.get(
                            f"{root}/cilium/kustomization.yaml", ""), yaml)]
    if not (references.crd_schemas and references.cilium_values_schema):
        diagnostics.append(diagnostic(
            "AKM513", f"{plan.name}/clusters", 1, 1,
            "Flux manifests and Cilium values checked for consistency, not against schemas",
            "pass --crd-schemas DIR and --cilium-values-schema FILE"))
    return diagnostics


# The values the checks above read, as helm-controller must merge them: the ConfigMaps the
# templates generate (flux/cilium-mesh and flux/cilium kustomization.yaml.j2), in this
# order, each read whole from its values.yaml key (fluxcd/pkg chartutil/values.go
# ChartValuesFromReferences merges references in order; a targetPath would replace).
VALUES_CONFIGMAPS = ("cilium-mesh-values", "cilium-values")
MESH_VALUES_RESOURCE = "../../../infrastructure/cilium-mesh"


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
    if cluster.managed and annotations.get(
            "service.beta.kubernetes.io/azure-load-balancer-ipv4") != str(cluster.clustermesh_ip):
        yield f"ClusterMesh load balancer IP is not {cluster.clustermesh_ip}"
    wireguard = values.get("encryption", {}).get("type") == "wireguard" and \
        values["encryption"].get("enabled") is True
    if wireguard != (cluster.encryption == "wireguard"):
        yield f"encryption does not match the planned {cluster.encryption}"


def _manifest_errors(document: dict[str, Any], references: References) -> Iterator[str]:
    api_version, kind = str(document.get("apiVersion", "")), str(document.get("kind", ""))
    if api_version.rpartition("/")[0] == CORE_GROUP:
        return
    schema = _schema_file(api_version, kind, references.crd_schemas)
    if schema is None:
        yield f"no schema for {api_version} {kind} in --crd-schemas: not a served API"
        return
    yield from _schema_errors(_validator(schema), document)


@cache
def _schema_file(api_version: str, kind: str, directories: tuple[Path, ...]) -> Path | None:
    """kubeconform's two layouts: <group>/<kind>_<version>.json, or <kind>_<version>.json."""
    group, _, version = api_version.rpartition("/")
    name = f"{kind.lower()}_{version}.json"
    candidates = [d / group / name for d in directories] + [d / name for d in directories]
    return next((path for path in candidates if path.is_file()), None)


@cache
def _validator(schema_path: Path) -> Any:
    """A draft 7 validator (CRD and chart schemas declare no $schema; kubeconform reads
    them as draft 7): jsonschema-rs, or jsonschema for the schemas it refuses (the Cilium
    CRDs use regexes such as `\\PC` that its regex engine does not know)."""
    import jsonschema_rs

    schema = load_reference_json(schema_path)
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
