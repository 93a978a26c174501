"""Stage 5, verify: every rendered file checked offline before anything is written.

A finding here means aksmesh rendered something wrong: it is reported against the
rendered file and stops the write. What cannot be checked is said, as a note. Schemas are
the user's to give (`--bicep-types`, `--crd-schemas`, `--cilium-values-schema`), the way
kubeconform takes a schema location; aksmesh ships none of them.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

from .diagnostics import Diagnostic, diagnostic
from .plan import Cluster, Plan
from .render import VALUES_FILE, Rendered


@dataclass(frozen=True)
class References:
    """Schema data the user passes in; empty where it was not given."""

    bicep_types: Path | None = None
    crd_schemas: tuple[Path, ...] = ()  # <group>/<kind>_<version>.json, as kubeconform reads
    cilium_values_schema: Path | None = None


def verify(plan: Plan, rendered: Rendered, references: References) -> list[Diagnostic]:
    return [
        *verify_bicep_files(plan, rendered.files, references.bicep_types),
        *verify_flux_files(plan, rendered, references),
        *scan_for_secrets(plan, rendered.files),
    ]


# ---------------------------------------------------------------- Bicep


def verify_bicep_files(plan: Plan, files: dict[str, str], types_dir: Path | None
                       ) -> list[Diagnostic]:
    from .bicep_verify import TypeLibrary, check_body, resource_declarations, syntax_errors

    library = TypeLibrary.from_directory(types_dir) if types_dir else None
    diagnostics = []
    for path, text in files.items():
        if not path.endswith(".bicep"):
            continue
        where = f"{plan.name}/{path}"
        findings = [("AKM501", f) for f in syntax_errors(text)]
        if library is not None and not findings:
            findings = [("AKM502", f) for declaration in resource_declarations(text)
                        for f in check_body(library, declaration)]
        diagnostics += [diagnostic(code, where, f.line, f.col, f.message, f.hint)
                        for code, f in findings]
    if library is None:
        diagnostics.append(diagnostic("AKM503", f"{plan.name}/bicep/main.bicep", 1, 1,
                                      "Bicep syntax checked; resource bodies not checked",
                                      "pass --bicep-types DIR to check them against the "
                                      "Azure type data"))
    return diagnostics


# ---------------------------------------------------------------- Flux and Cilium

# The rendered files whose objects have a schema; the other files are kustomize's own.
FLUX_OBJECT_FILES = ("cilium.yaml", "cilium/helmrelease.yaml", "cilium/helmrepository.yaml")


def verify_flux_files(plan: Plan, rendered: Rendered, references: References
                      ) -> list[Diagnostic]:
    """Cilium values (checked as the data they were written from) and Flux objects."""
    import yaml

    values_validator = (_validator(references.cilium_values_schema)
                        if references.cilium_values_schema else None)
    diagnostics = []
    for cluster in plan.clusters:
        root = f"clusters/{cluster.name}"
        where = f"{plan.name}/{root}/{VALUES_FILE}"
        values = rendered.values[cluster.name]
        diagnostics += [diagnostic("AKM514", where, 1, 1, problem)
                        for problem in values_disagreements(cluster, plan, values)]
        if values_validator is not None:
            diagnostics += [diagnostic("AKM512", where, 1, 1, message)
                            for message in _schema_errors(values_validator, values)]
        if not references.crd_schemas:
            continue
        for path in (f"{root}/{name}" for name in FLUX_OBJECT_FILES):
            # The C loader: hundreds of clusters make thousands of these small files.
            document = yaml.load(rendered.files[path], Loader=yaml.CSafeLoader)
            diagnostics += [diagnostic("AKM511", f"{plan.name}/{path}", 1, 1, message)
                            for message in _manifest_errors(document, references)]
    if not (references.crd_schemas and references.cilium_values_schema):
        diagnostics.append(diagnostic(
            "AKM513", f"{plan.name}/clusters", 1, 1,
            "Flux manifests and Cilium values checked for consistency, not against schemas",
            "pass --crd-schemas DIR and --cilium-values-schema FILE"))
    return diagnostics


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
    listed = {name: (peer.get("ips"), peer.get("port"))
              for name, peer in (mesh.get("config", {}).get("clusters") or {}).items()}
    planned = {p.name: ([p.ip], p.port) for p in cluster.mesh_peers}
    if listed != planned:
        yield f"mesh peers {sorted(listed)} do not match the planned {sorted(planned)}"
    annotations = mesh.get("apiserver", {}).get("service", {}).get("annotations", {})
    if annotations.get("service.beta.kubernetes.io/azure-load-balancer-ipv4") != \
            str(cluster.clustermesh_ip):
        yield f"ClusterMesh load balancer IP is not {cluster.clustermesh_ip}"


def _manifest_errors(document: dict[str, Any], references: References) -> Iterator[str]:
    group, _, version = document["apiVersion"].rpartition("/")
    name = f"{group}/{document.get('kind', '').lower()}_{version}.json"
    schema = next((d / name for d in references.crd_schemas if (d / name).is_file()), None)
    if schema is None:
        yield f"no schema {name} in --crd-schemas: {document['apiVersion']} " \
              f"{document.get('kind')} is not a served API"
        return
    yield from _schema_errors(_validator(schema), document)


@cache
def _validator(schema_path: Path) -> Any:
    import jsonschema_rs

    schema = json.loads(schema_path.read_text(encoding="utf-8"))
    # CRD and chart schemas declare no $schema; kubeconform reads them as draft 7.
    return jsonschema_rs.Draft7Validator(schema)


def _schema_errors(validator: Any, document: Any) -> Iterator[str]:
    errors = sorted(validator.iter_errors(document), key=lambda e: [str(p) for p in e.instance_path])
    for error in errors:
        where = ".".join(str(p) for p in error.instance_path) or "(root)"
        yield f"{where}: {error.message}"


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
