#!/usr/bin/env python3
"""Derive the verification data aksmesh ships, from upstream files given as paths.

    scripts/derive_data.py --reference REFERENCE --kubernetes KUBERNETES_JSON_SCHEMA \
        --bicep-types-az BICEP_TYPES_AZ

writes `generator/data/` (shipped in the package: what render, check and validate verify
against), `tests/reference/` (upstream files only the tests read: the Flux install
manifests, the Cilium chart's default values), their PROVENANCE.json (repository, version
or commit, path, sha256 and licence of every input; sha256 of every output) and NOTICE.
`make data` runs it. The same inputs give byte-identical outputs (a test re-derives them).

Inputs:
- `--reference`: the folder of upstream files, laid out as `bicep-types/`
  (Azure/bicep-types-az `generated/*/<namespace>/<api-version>/types.json`), `flux/`
  (Flux CRD JSON schemas, `<group>/<kind>_<version>.json`, and `install-v<version>/`),
  `cilium/` (the chart's `values.schema.json` and `values.yaml`, `crds/`).
- `--kubernetes`: the `kubernetes-json-schema/` folder of the kubernetes-validate wheel
  (`pip download --no-deps kubernetes-validate==1.37.0`, unzip): JSON schemas that
  kubernetes-validate derives from kubernetes/kubernetes `api/openapi-spec/`. Without it,
  the Kubernetes schemas already in generator/data are kept as they are.
- `--bicep-types-az`: a checkout or git directory (a bare clone will do) of
  Azure/bicep-types-az holding commit BICEP_TYPES_COMMIT, the commit `--reference`'s
  bicep-types/ is a copy of. The files are read at that commit (`git cat-file`), whatever is
  checked out. It supplies the types.json files that `--reference` lacks; without it, the
  extracts already derived from it are kept as they are (while they still hold exactly the
  resource types asked for).

What is kept is decided by the tables below, one row per item: the Azure resource types
and API versions are the rows of AZURE_TYPES, which hold every type of
`generator.facts.API_VERSIONS` (what the Bicep declares). Adding a kind, a version or a
resource type is one row; an input that is missing stops the script with a message that
says where upstream to get it.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import re
import shutil
import subprocess
import sys
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

PROJECT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(PROJECT))

from generator import facts  # noqa: E402  (the table of resource types the Bicep uses)
from generator.bicep.type_data import reached_types  # noqa: E402  (one reachability walk)

DATA = PROJECT / "generator" / "data"
TEST_DATA = PROJECT / "tests" / "reference"

MIT, APACHE = "MIT", "Apache-2.0"


@dataclass(frozen=True)
class Upstream:
    repository: str
    version: str  # tag and/or commit the files come from
    licence: str
    copyright: str


BICEP_TYPES_COMMIT = "1f896de2db966ad91e8f7d7d981e11d32e4f5d8d"
BICEP_TYPES = Upstream("github.com/Azure/bicep-types-az", f"commit {BICEP_TYPES_COMMIT}", MIT,
                       "Copyright (c) Microsoft Corporation")
FLUX_CRDS = Upstream("github.com/datreeio/CRDs-catalog (JSON schemas of the Flux v2.9.4 CRDs: "
                     "fluxcd/source-controller v1.9.1, kustomize-controller v1.9.4, "
                     "helm-controller v1.6.3)",
                     "commit 7b1e26ef9deea49293714d204c1a2270aab1178f", APACHE,
                     "Copyright The Flux authors")
FLUX_INSTALL = Upstream("github.com/controlplaneio-fluxcd/flux-operator (Flux v2.9.4 manifests)",
                        "commit 17c6aeaddd8dacd5fbd4dd9e1bfe23a0a59df1fb", APACHE,
                        "Copyright The Flux authors")
CILIUM_CHART = Upstream("github.com/cilium/charts (chart cilium-1.20.0.tgz, from cilium/cilium "
                        "install/kubernetes/cilium at v1.20.0)",
                        "commit d5f3d1c (chart 1.20.0; cilium/cilium "
                        "450c53145dc0a872ae20dfb05598c94ef55a71e2)", APACHE,
                        "Copyright Authors of Cilium")
CILIUM_CRDS = Upstream("github.com/datreeio/CRDs-catalog (JSON schemas of the cilium.io/v2 CRDs)",
                       "commit 7b1e26ef9deea49293714d204c1a2270aab1178f", APACHE,
                       "Copyright Authors of Cilium")
KUBERNETES = Upstream("PyPI kubernetes-validate 1.37.0 (github.com/willthames/kubernetes-validate; "
                      "JSON schemas derived from kubernetes/kubernetes api/openapi-spec)",
                      "kubernetes-validate 1.37.0, wheel sha256 "
                      "85136d018a27b50ec7fc049d902bfa5193f5976807e6c0f408e3ab6fe078cad9",
                      APACHE, "Copyright The Kubernetes Authors")

# ---------------------------------------------------------------- the tables

# Every Azure resource type shipped, one row each: `Type@api-version` -> the folder of
# Azure/bicep-types-az (at BICEP_TYPES_COMMIT) whose `<namespace>/<api-version>/types.json`
# holds it. Each type of facts.API_VERSIONS needs its row; a row may come before the Bicep
# uses it (the fleets types, for issue 18). The file is read from --reference when it is
# there (bicep-types/<namespace>/<api-version>/types.json), else from --bicep-types-az.
AZURE_TYPES = {
    "Microsoft.Authorization/roleAssignments@2022-04-01": "generated/authorization",
    "Microsoft.ContainerService/fleets@2026-06-01": "generated/containerservice_3",
    "Microsoft.ContainerService/fleets/members@2026-06-01": "generated/containerservice_3",
    "Microsoft.ContainerService/fleets/updateStrategies@2026-06-01":
        "generated/containerservice_3",
    "Microsoft.ContainerService/managedClusters@2026-05-01": "generated/containerservice_1",
    "Microsoft.Insights/diagnosticSettings@2021-05-01-preview": "generated/monitor_1",
    "Microsoft.ManagedIdentity/userAssignedIdentities@2024-11-30": "generated/msi",
    "Microsoft.Network/networkManagers@2025-09-01": "generated/network",
    "Microsoft.Network/networkManagers/commits@2025-09-01": "generated/network",
    "Microsoft.Network/networkManagers/connectivityConfigurations@2025-09-01":
        "generated/network",
    "Microsoft.Network/networkManagers/networkGroups@2025-09-01": "generated/network",
    "Microsoft.Network/networkManagers/networkGroups/staticMembers@2025-09-01":
        "generated/network",
    "Microsoft.Network/networkSecurityGroups@2025-09-01": "generated/network",
    "Microsoft.Network/virtualNetworks@2025-09-01": "generated/network",
    "Microsoft.Network/virtualNetworks/subnets@2025-09-01": "generated/network",
    "Microsoft.Network/virtualNetworks/virtualNetworkPeerings@2025-09-01": "generated/network",
    "Microsoft.OperationalInsights/workspaces@2026-03-01": "generated/operationalinsights",
    "Microsoft.Resources/resourceGroups@2025-04-01": "generated/resources_11",
}

# Resource types that aksmesh does not emit but the Bicep checker's unit tests use (a closed
# enum, a read-only resource type, upstream's odd casing...): extracted, beside the shipped
# ones, into tests/reference/bicep-types-tests/ only; rows as in AZURE_TYPES.
# deploymentScripts: the checker's discriminated-object (`kind`) tests.
AZURE_TEST_TYPES = {
    "Microsoft.ContainerService/managedClusters/agentPools@2026-05-01":
        "generated/containerservice_1",
    "Microsoft.ContainerService/managedClusters/upgradeProfiles@2026-05-01":
        "generated/containerservice_1",
    "Microsoft.Network/ExpressRoutePorts@2025-09-01": "generated/network",
    "Microsoft.Network/expressRouteLags@2025-09-01": "generated/network",
    "Microsoft.Network/publicIPAddresses@2025-09-01": "generated/network",
    "Microsoft.Resources/deploymentScripts@2023-08-01": "generated/resources_8",
}

# Resource types of API_VERSIONS known to have no upstream types.json (type name -> why),
# e.g. one newer than BICEP_TYPES_COMMIT: while no input has their file they are left out
# (and recorded as such in PROVENANCE.json), not an error; render then finds no type data
# for them, and facts.TYPES_WITHOUT_REFERENCE_DATA must name them (note AKM440). Once the
# file is there (and a row in AZURE_TYPES), it is used. None today.
AZURE_WITHOUT_UPSTREAM: dict[str, str] = {}

FLUX_VERSION = "v2.9.4"
# (group, kind, version) of every Flux object the tree holds, GitRepository included: the
# flux-system Kustomization builds the gotk-sync.yaml that `flux bootstrap` commits.
FLUX_KINDS = [
    ("helm.toolkit.fluxcd.io", "HelmRelease", "v2"),
    ("kustomize.toolkit.fluxcd.io", "Kustomization", "v1"),
    ("source.toolkit.fluxcd.io", "GitRepository", "v1"),
    ("source.toolkit.fluxcd.io", "HelmRepository", "v1"),
]

# Cilium chart versions aksmesh renders values for, and the folder each one's data goes to.
CILIUM_VERSIONS = {"1.20.0": "cilium"}
# cilium.io kinds the tree may hold (CiliumLoadBalancerIPPool: no upstream schema here yet).
CILIUM_KINDS = [
    ("CiliumClusterwideNetworkPolicy", "v2"),
    ("CiliumNetworkPolicy", "v2"),
]

# Kubernetes core kinds (group "") the tree may hold, for every AKS-supported minor.
KUBERNETES_KINDS = [
    ("ConfigMap", "v1"),
    ("Namespace", "v1"),
    ("Secret", "v1"),
    ("Service", "v1"),
]

# The two files of install-v2.9.4/ that assemble the others as `flux install` lays them out
# (this project's shared/reference, not Flux's).
ASSEMBLED = Upstream("this project's shared/reference/flux/install-v2.9.4 (assembled like "
                     "`flux install` output)", "-", APACHE, "Copyright The Flux authors")
ASSEMBLY_FILES = ("kustomization.yaml", "namespace.yaml")

# Upstream files that only the tests read (copied as they are, never shipped).
TEST_ONLY = [
    (FLUX_INSTALL, f"flux/install-{FLUX_VERSION}", "config/data/flux/v2.9.4"),
    (CILIUM_CHART, "cilium/values.yaml", "cilium-1.20.0.tgz:cilium/values.yaml"),
]


class MissingInput(Exception):
    pass


# ---------------------------------------------------------------- transformations

_VALUE_KEYWORDS = frozenset({"enum", "const", "default", "examples", "example"})


def without_descriptions(node: Any) -> Any:
    """A JSON Schema without its prose: every `description` string is dropped. A property
    named `description` is a schema (a dict) and stays; values (enum, default...) stay."""
    if isinstance(node, list):
        return [without_descriptions(item) for item in node]
    if not isinstance(node, dict):
        return node
    return {key: value if key in _VALUE_KEYWORDS else without_descriptions(value)
            for key, value in node.items()
            if not (key == "description" and isinstance(value, str))}


_SHORT_UNICODE_CLASS = re.compile(r"(?<!\\)\\([pP])([A-Z])")


def braced_unicode_classes(node: Any) -> Any:
    """`\\PC` written `\\P{C}` in every `pattern`: the same class in Go's RE2, which the
    Kubernetes API server matches CRD patterns with; jsonschema-rs knows only the braced
    form, and would otherwise refuse the whole schema."""
    if isinstance(node, list):
        return [braced_unicode_classes(item) for item in node]
    if not isinstance(node, dict):
        return node
    return {key: _SHORT_UNICODE_CLASS.sub(r"\\\1{\2}", value)
            if key == "pattern" and isinstance(value, str) else
            value if key in _VALUE_KEYWORDS else braced_unicode_classes(value)
            for key, value in node.items()}


def compact(data: Any) -> bytes:
    return (json.dumps(data, separators=(",", ":"), ensure_ascii=True) + "\n").encode()


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def azure_extract(types: list[dict[str, Any]], names: Iterable[str]) -> list[dict[str, Any]]:
    """A types.json holding only the ResourceTypes `names` and the types they reach,
    renumbered in their upstream order; descriptions and list*() functions dropped (the
    body checks read neither)."""
    by_index = dict(enumerate(types))
    wanted: dict[int, dict[str, Any]] = {}
    for name in names:
        index = next((i for i, t in by_index.items() if t.get("$type") == "ResourceType"
                      and str(t.get("name")).lower() == name.lower()), None)
        if index is None:
            raise MissingInput(f"{name}: no ResourceType of that name in the file")
        resource = {k: v for k, v in types[index].items() if k != "functions"}
        wanted[index] = resource
        wanted.update(reached_types(by_index, resource))
    order = sorted(wanted)
    renumber = {f"#/{old}": f"#/{new}" for new, old in enumerate(order)}

    def rewrite(node: Any) -> Any:
        if isinstance(node, list):
            return [rewrite(item) for item in node]
        if isinstance(node, dict):
            return {key: renumber[value] if key == "$ref" else rewrite(value)
                    for key, value in node.items()
                    if not (key == "description" and isinstance(value, str))}
        return node

    return [rewrite({k: v for k, v in wanted[i].items() if k != "functions"}) for i in order]


def kubernetes_schema(kind_schema: dict[str, Any], definitions: dict[str, Any]) -> dict[str, Any]:
    """One self-contained draft 2020-12 schema: the kind's schema with the definitions it
    reaches as `$defs`, references made local."""
    prefix = "/api/_definitions.json#/$defs/"
    defs = definitions["$defs"]
    reached: dict[str, Any] = {}

    def rewrite(node: Any) -> Any:
        if isinstance(node, list):
            return [rewrite(item) for item in node]
        if not isinstance(node, dict):
            return node
        out = {}
        for key, value in node.items():
            if key == "description" and isinstance(value, str) or key == "$id":
                continue
            if key == "$ref" and isinstance(value, str):
                # The kind points into _definitions.json; definitions point at each other.
                name = next((value[len(p):] for p in (prefix, "#/$defs/")
                             if value.startswith(p)), None)
                if name not in defs:
                    raise MissingInput(f"unexpected reference {value}")
                if name not in reached:
                    reached[name] = None  # placeholder against cycles
                    reached[name] = rewrite(defs[name])
                out[key] = f"#/$defs/{name}"
            elif key in _VALUE_KEYWORDS:
                out[key] = value
            else:
                out[key] = rewrite(value)
        return out

    schema = rewrite(kind_schema)
    schema["$defs"] = {name: reached[name] for name in sorted(reached)}
    return schema


# ---------------------------------------------------------------- deriving


class GitTree:
    """The files of a git repository at one commit: `path` is its git directory (a bare
    clone) or a checkout; what is checked out there does not matter."""

    def __init__(self, path: Path, commit: str) -> None:
        self.path, self.commit = path, commit
        found = self.git("rev-parse", "--absolute-git-dir", cwd=path)
        top = self.git("rev-parse", "--show-toplevel", cwd=path)  # None when bare
        git_dir = Path(found.decode().strip()) if found is not None else None
        # The repository must be `path` itself, not one that merely encloses it.
        if git_dir is None or path.resolve() not in {
                git_dir.resolve(), *([Path(top.decode().strip()).resolve()] if top else [])}:
            raise MissingInput(f"{path}: not a git directory or checkout of "
                               f"Azure/bicep-types-az (it must hold commit {commit})")
        self.git_dir = git_dir
        if self.git("cat-file", "-e", f"{commit}^{{commit}}") is None:
            raise MissingInput(f"{path}: has no commit {commit}; fetch it there "
                               f"(git fetch origin {commit})")

    def git(self, *args: str, cwd: Path | None = None) -> bytes | None:
        command = ["git", *args] if cwd else ["git", "--git-dir", str(self.git_dir), *args]
        try:
            done = subprocess.run(command, cwd=cwd, capture_output=True, check=False)
        except OSError as error:
            raise MissingInput(f"git is needed to read {self.path}: {error}") from None
        return done.stdout if done.returncode == 0 else None

    def read(self, relative: str) -> bytes | None:
        """The bytes of `relative` at the commit; None if it has no such file."""
        return self.git("cat-file", "blob", f"{self.commit}:{relative}")


class Deriver:
    def __init__(self, reference: Path, kubernetes: Path | None,
                 bicep_types_az: GitTree | None = None) -> None:
        self.reference = reference
        self.kubernetes = kubernetes
        self.bicep_types_az = bicep_types_az
        self.outputs: dict[str, dict[str, bytes]] = {"data": {}, "tests": {}}
        self.inputs: list[dict[str, str]] = []
        self.made_from: dict[tuple[str, str], dict[str, Any]] = {}
        self.missing: list[str] = []
        self.not_shipped: list[dict[str, str]] = []
        self.previous = {where: json.loads((root / "PROVENANCE.json").read_text())
                         if (root / "PROVENANCE.json").is_file() else {}
                         for where, root in (("data", DATA), ("tests", TEST_DATA))}

    def read(self, path: Path, upstream: Upstream, upstream_path: str, hint: str) -> bytes:
        try:
            data = path.read_bytes()
        except OSError:
            raise MissingInput(f"{path}: missing; {hint}") from None
        self.record(self.label(path), upstream, upstream_path, data)
        return data

    def record(self, label: str, upstream: Upstream, upstream_path: str, data: bytes) -> None:
        record = {"file": label, "repository": upstream.repository,
                  "version": upstream.version, "path": upstream_path,
                  "sha256": sha256(data), "licence": upstream.licence}
        if record not in self.inputs:
            self.inputs.append(record)

    def label(self, path: Path) -> str:
        """An input's name in the records: its path inside --reference, or inside
        kubernetes-json-schema/ for --kubernetes (and `bicep-types-az:<path at the commit>`
        for --bicep-types-az)."""
        if self.kubernetes is not None and path.is_relative_to(self.kubernetes):
            return "kubernetes-json-schema/" + path.relative_to(self.kubernetes).as_posix()
        return path.relative_to(self.reference).as_posix()

    def emit(self, where: str, relative: str, data: bytes, sources: list[str], how: str) -> None:
        self.outputs[where][relative] = data
        self.made_from[(where, relative)] = {"sha256": sha256(data), "from": sources,
                                             "transform": how}

    def attempt(self, job: Any, *args: Any) -> None:
        try:
            job(*args)
        except MissingInput as error:
            self.missing.append(str(error))

    # Each kind of data.

    def azure(self, where: str = "data", folder: str = "bicep-types",
              extra: dict[str, str] | None = None) -> None:
        rows = {**AZURE_TYPES, **(extra or {})}
        script = Path(__file__).name
        for type_name, version in sorted(facts.API_VERSIONS.items()):
            name = f"{type_name}@{version}"
            if where == "data" and name not in AZURE_TYPES and type_name not in AZURE_WITHOUT_UPSTREAM:
                self.missing.append(
                    f"{name}: in generator/facts.py API_VERSIONS, but no row in AZURE_TYPES "
                    f"in {script}: add `\"{name}\": \"generated/<folder>\"`, the folder of "
                    f"Azure/bicep-types-az that holds its "
                    f"{type_name.split('/', 1)[0].lower()}/{version}/types.json")
        gaps = [f"{t}@{v}" for t, v in sorted(facts.API_VERSIONS.items())
                if t in AZURE_WITHOUT_UPSTREAM and f"{t}@{v}" not in AZURE_TYPES]
        by_file: dict[tuple[str, str], list[str]] = {}
        for name in [*sorted(AZURE_TYPES, key=lambda n: n.partition("@")[::2]), *gaps,
                     *(extra or {})]:
            version = name.rpartition("@")[2]
            namespace = name.split("/", 1)[0].lower()
            by_file.setdefault((namespace, version), []).append(name)
        for (namespace, version), names in sorted(by_file.items()):
            groups = {rows[n] for n in names if n in rows}
            if len(groups) > 1:
                self.missing.append(f"{', '.join(names)}: one types.json, but AZURE_TYPES rows "
                                    f"name different folders ({', '.join(sorted(groups))})")
                continue
            self.attempt(self.azure_file, namespace, version, names, where, folder,
                         next(iter(groups), None))

    def azure_file(self, namespace: str, version: str, names: list[str], where: str,
                   folder_out: str, group: str | None) -> None:
        relative = f"bicep-types/{namespace}/{version}/types.json"
        output = f"{folder_out}/{namespace}/{version}/types.json"
        upstream_path = f"{group or 'generated/<folder>'}/{namespace}/{version}/types.json"
        local = self.reference / relative
        hint = (f"give --bicep-types-az (make data BICEP_TYPES_AZ=...), a git directory or "
                f"checkout of Azure/bicep-types-az that has commit {BICEP_TYPES_COMMIT}, or "
                f"copy {upstream_path} at that commit to {local} (for {', '.join(names)})")
        if group is None and not all(n.rpartition("@")[0] in AZURE_WITHOUT_UPSTREAM
                                     for n in names):
            raise MissingInput(f"{', '.join(names)}: no row of AZURE_TYPES names the folder "
                               f"of {relative} in Azure/bicep-types-az")
        data, source = None, relative
        if local.is_file():
            data = self.read(local, BICEP_TYPES, upstream_path, hint)
        elif self.bicep_types_az is not None and group is not None:
            data = self.bicep_types_az.read(upstream_path)
            source = f"bicep-types-az:{upstream_path}"
            if data is not None:
                self.record(source, BICEP_TYPES, upstream_path, data)
            elif not all(n.rpartition("@")[0] in AZURE_WITHOUT_UPSTREAM for n in names):
                raise MissingInput(f"{self.bicep_types_az.path}: no {upstream_path} at commit "
                                   f"{BICEP_TYPES_COMMIT} (for {', '.join(names)}); is "
                                   f"{group} the folder that holds it?")
        if data is None:
            if all(n.rpartition("@")[0] in AZURE_WITHOUT_UPSTREAM for n in names):
                self.not_shipped += [gap for gap in (
                    {"type": n, "reason": AZURE_WITHOUT_UPSTREAM[n.rpartition("@")[0]]}
                    for n in names) if gap not in self.not_shipped]
                return
            if self.bicep_types_az is None and self.kept_azure(where, output, names):
                return
            raise MissingInput(f"{local}: missing; {hint}")
        try:
            extract = azure_extract(json.loads(data), names)
        except MissingInput as error:
            raise MissingInput(f"{source}: {error}; is {version} the API version "
                               f"bicep-types-az has for it?") from None
        self.emit(where, output, compact(extract), [source],
                  f"only {', '.join(names)} and the types they reach, renumbered; "
                  "descriptions and list functions dropped")

    def kept_azure(self, where: str, relative: str, names: list[str]) -> bool:
        """Without --bicep-types-az: keep an extract derived from it before, with its records,
        if it is unchanged and holds exactly the resource types `names`."""
        record = self.previous[where].get("outputs", {}).get(relative)
        path = (DATA if where == "data" else TEST_DATA) / relative
        if not record or not record["from"] or not path.is_file() or \
                not all(f.startswith("bicep-types-az:") for f in record["from"]):
            return False
        data = path.read_bytes()
        held = {t.get("name", "").lower() for t in json.loads(data)
                if t.get("$type") == "ResourceType"}
        if sha256(data) != record["sha256"] or held != {n.lower() for n in names}:
            return False
        self.outputs[where][relative] = data
        self.made_from[(where, relative)] = record
        self.inputs += [i for i in self.previous[where].get("inputs", [])
                        if i["file"] in record["from"] and i not in self.inputs]
        return True

    def flux(self) -> None:
        for group, kind, version in FLUX_KINDS:
            relative = f"flux/{group}/{kind.lower()}_{version}.json"
            self.attempt(self.schema_file, relative, relative, FLUX_CRDS, relative,
                         f"copy it from datreeio/CRDs-catalog {group}/{kind.lower()}_{version}.json")

    def cilium(self) -> None:
        for chart, folder in CILIUM_VERSIONS.items():
            self.attempt(self.schema_file, "cilium/values.schema.json",
                         f"{folder}/values.schema.json", CILIUM_CHART,
                         f"cilium-{chart}.tgz:cilium/values.schema.json",
                         f"take cilium/values.schema.json from cilium-{chart}.tgz "
                         "(https://helm.cilium.io/)")
            for kind, version in CILIUM_KINDS:
                name = f"{kind.lower()}_{version}.json"
                self.attempt(self.schema_file, f"cilium/crds/{name}", f"{folder}/crds/{name}",
                             CILIUM_CRDS, f"cilium.io/{name}",
                             f"copy it from datreeio/CRDs-catalog cilium.io/{name}",
                             braced_unicode_classes, "; `\\PC` in patterns written `\\P{C}`")

    def schema_file(self, source: str, relative: str, upstream: Upstream, upstream_path: str,
                    hint: str, also: Any = None, also_said: str = "") -> None:
        data = self.read(self.reference / source, upstream, upstream_path, hint)
        schema = without_descriptions(json.loads(data))
        self.emit("data", relative, compact(also(schema) if also else schema), [source],
                  "descriptions dropped, compact JSON" + also_said)

    def kubernetes_schemas(self) -> None:
        if self.kubernetes is None:
            return
        for minor in facts.AKS_SUPPORTED_MINORS:
            folder = self.kubernetes / f"v{minor}.0-local-strict"
            hint = (f"the kubernetes-json-schema/ folder of a kubernetes-validate wheel that "
                    f"has Kubernetes {minor}")
            try:
                definitions_bytes = self.read(folder / "_definitions.json", KUBERNETES,
                                              f"kubernetes_validate/kubernetes-json-schema/"
                                              f"{folder.name}/_definitions.json", hint)
            except MissingInput as error:
                self.missing.append(str(error))
                continue
            definitions = json.loads(definitions_bytes)
            for kind, version in KUBERNETES_KINDS:
                name = f"{kind.lower()}-{version}.json"
                upstream_path = f"kubernetes_validate/kubernetes-json-schema/{folder.name}/{name}"
                try:
                    data = self.read(folder / name, KUBERNETES, upstream_path, hint)
                except MissingInput as error:
                    self.missing.append(str(error))
                    continue
                schema = kubernetes_schema(json.loads(data), definitions)
                sources = [self.label(folder / name), self.label(folder / "_definitions.json")]
                self.emit("data", f"kubernetes/v{minor}/{name}", compact(schema), sources,
                          "the definitions it reaches inlined as $defs; descriptions and "
                          "$id dropped, compact JSON")

    def test_only(self) -> None:
        for upstream, relative, upstream_path in TEST_ONLY:
            source = self.reference / relative
            files = sorted(p for p in source.rglob("*") if p.is_file()) if source.is_dir() \
                else [source]
            for path in files:
                inner = path.relative_to(self.reference).as_posix()
                origin, origin_path = (ASSEMBLED, relative) if source.is_dir() and \
                    path.name in ASSEMBLY_FILES else (upstream, upstream_path)
                try:
                    data = self.read(path, origin, origin_path + inner[len(relative):],
                                     f"{origin.repository} {origin_path}")
                except MissingInput as error:
                    self.missing.append(str(error))
                    continue
                self.emit("tests", inner, data, [inner], "copied as it is")

    def kept_kubernetes(self, previous: dict[str, Any]) -> None:
        """Without --kubernetes: keep the shipped Kubernetes schemas and their records."""
        for relative, record in previous.get("outputs", {}).items():
            if relative.startswith("kubernetes/"):
                self.outputs["data"][relative] = (DATA / relative).read_bytes()
                self.made_from[("data", relative)] = record
        files = {f for r, rec in previous.get("outputs", {}).items()
                 if r.startswith("kubernetes/") for f in rec["from"]}
        self.inputs += [i for i in previous.get("inputs", []) if i["file"] in files
                        and i not in self.inputs]


def index(outputs: dict[str, bytes]) -> dict[str, Any]:
    """What verify reads at run time: which data exists for which version."""
    kubernetes = sorted({rel.split("/")[1][1:] for rel in outputs if rel.startswith("kubernetes/")})
    return {
        "azure": {"types": "bicep-types", "source": f"bicep-types-az {BICEP_TYPES.version.split()[-1][:8]}"},
        "flux": {"version": FLUX_VERSION, "crds": "flux"},
        "cilium": {chart: {"values_schema": f"{folder}/values.schema.json",
                           "crds": f"{folder}/crds"} for chart, folder in CILIUM_VERSIONS.items()},
        "kubernetes": {minor: f"kubernetes/v{minor}" for minor in kubernetes},
        "kubernetes_source": KUBERNETES.version.split(",")[0],
    }


def notice(upstreams: Iterable[Upstream]) -> bytes:
    lines = ["aksmesh ships verification data derived from the following upstream projects",
             "(generator/data/; the tests also read tests/reference/). PROVENANCE.json beside",
             "the data names the repository, version, path and sha256 of every input file.",
             ""]
    for upstream in upstreams:
        lines += [f"- {upstream.repository}", f"  {upstream.version}",
                  f"  {upstream.copyright}. Licensed under {upstream.licence}.", ""]
    lines += ["Apache-2.0: https://www.apache.org/licenses/LICENSE-2.0", "",
              "MIT licence of Azure/bicep-types-az:", "",
              "    MIT License", "",
              "    Copyright (c) Microsoft Corporation.", "",
              "    Permission is hereby granted, free of charge, to any person obtaining a copy",
              "    of this software and associated documentation files (the \"Software\"), to deal",
              "    in the Software without restriction, including without limitation the rights",
              "    to use, copy, modify, merge, publish, distribute, sublicense, and/or sell",
              "    copies of the Software, and to permit persons to whom the Software is",
              "    furnished to do so, subject to the following conditions:", "",
              "    The above copyright notice and this permission notice shall be included in all",
              "    copies or substantial portions of the Software.", "",
              "    THE SOFTWARE IS PROVIDED \"AS IS\", WITHOUT WARRANTY OF ANY KIND, EXPRESS OR",
              "    IMPLIED, INCLUDING BUT NOT LIMITED TO THE WARRANTIES OF MERCHANTABILITY,",
              "    FITNESS FOR A PARTICULAR PURPOSE AND NONINFRINGEMENT. IN NO EVENT SHALL THE",
              "    AUTHORS OR COPYRIGHT HOLDERS BE LIABLE FOR ANY CLAIM, DAMAGES OR OTHER",
              "    LIABILITY, WHETHER IN AN ACTION OF CONTRACT, TORT OR OTHERWISE, ARISING FROM,",
              "    OUT OF OR IN CONNECTION WITH THE SOFTWARE OR THE USE OR OTHER DEALINGS IN THE",
              "    SOFTWARE.", ""]
    return "\n".join(lines).encode()


def derive(reference: Path, kubernetes: Path | None, bicep_types_az: Path | None = None
           ) -> dict[str, dict[str, bytes]]:
    """Every output file's bytes, by tree ("data": generator/data, "tests":
    tests/reference) and relative path; MissingInput lists every input that is missing."""
    deriver = Deriver(reference.resolve(), kubernetes.resolve() if kubernetes else None,
                      GitTree(bicep_types_az, BICEP_TYPES_COMMIT) if bicep_types_az else None)
    deriver.azure()
    deriver.azure("tests", "bicep-types-tests", AZURE_TEST_TYPES)
    deriver.flux()
    deriver.cilium()
    if kubernetes is None:
        previous = DATA / "PROVENANCE.json"
        deriver.kept_kubernetes(json.loads(previous.read_text()) if previous.is_file() else {})
    else:
        deriver.kubernetes_schemas()
    deriver.test_only()
    if deriver.missing:
        raise MissingInput("\n".join(dict.fromkeys(deriver.missing)))
    for where in ("data", "tests"):
        files = deriver.outputs[where]
        used = {f for (w, _), record in deriver.made_from.items() if w == where
                for f in record["from"]}
        provenance = {
            "generated_by": "scripts/derive_data.py (make data)",
            "inputs": sorted((i for i in deriver.inputs if i["file"] in used),
                             key=lambda i: i["file"]),
            "outputs": {rel: deriver.made_from[(where, rel)] for rel in sorted(files)},
        }
        if where == "data" and deriver.not_shipped:
            provenance["not_shipped"] = sorted(deriver.not_shipped, key=lambda n: n["type"])
        if where == "data":
            files["index.json"] = (json.dumps(index(files), indent=1, sort_keys=True) + "\n").encode()
            files["NOTICE"] = notice([BICEP_TYPES, FLUX_CRDS, CILIUM_CHART, CILIUM_CRDS,
                                      KUBERNETES])
        files["PROVENANCE.json"] = (json.dumps(provenance, indent=1) + "\n").encode()
    return deriver.outputs


def write(outputs: dict[str, dict[str, bytes]]) -> None:
    """Replace the derived files; remove derived files no longer derived. In tests/reference
    only the test-only folders are derived: the rest are links to generator/data."""
    stale = [p for p in DATA.rglob("*") if p.is_file() and p.name != "README.md"]
    stale += [TEST_DATA / "PROVENANCE.json"] + [
        p for relative in [r for _, r, _ in TEST_ONLY] + ["bicep-types-tests"]
        for p in (TEST_DATA / relative).rglob("*") if p.is_file()]
    for path in stale:
        where, root = ("data", DATA) if path.is_relative_to(DATA) else ("tests", TEST_DATA)
        if path.relative_to(root).as_posix() not in outputs[where]:
            path.unlink()
    for where, root in (("data", DATA), ("tests", TEST_DATA)):
        for relative, data in outputs[where].items():
            target = root / relative
            target.parent.mkdir(parents=True, exist_ok=True)
            if not target.is_file() or target.read_bytes() != data:
                target.write_bytes(data)
    shutil.copyfile(DATA / "NOTICE", PROJECT / "NOTICE")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--reference", type=Path, required=True,
                        help="folder of upstream files (bicep-types/, flux/, cilium/)")
    parser.add_argument("--kubernetes", type=Path,
                        help="kubernetes-validate's kubernetes-json-schema/ folder")
    parser.add_argument("--bicep-types-az", type=Path,
                        help="git directory or checkout of Azure/bicep-types-az that has commit "
                             f"{BICEP_TYPES_COMMIT[:12]}, for the types --reference lacks")
    args = parser.parse_args(argv)
    try:
        outputs = derive(args.reference, args.kubernetes, args.bicep_types_az)
    except MissingInput as error:
        print(f"derive_data: missing inputs, nothing written:\n{error}", file=sys.stderr)
        return 1
    write(outputs)
    for gap in json.loads(outputs["data"]["PROVENANCE.json"]).get("not_shipped", []):
        print(f"derive_data: not shipped: {gap['type']}: {gap['reason']}", file=sys.stderr)
    size = sum(len(d) for d in outputs["data"].values())
    print(f"generator/data: {len(outputs['data'])} files, {size / 1024:.0f} KiB; "
          f"tests/reference: {len(outputs['tests'])} files", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
