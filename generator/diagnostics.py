"""Diagnostics are data: one frozen record per finding, one registry of codes.

Checks never compute line numbers: they yield a `Finding` that names a topology path, and
`locate` (in `load`) turns the path into a position. The registry below is the single
source of codes, severities and explanations; docs are generated from it.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, field, replace
from typing import Iterable


class Severity(enum.IntEnum):
    NOTE = 0  # says what was not checked; never fails a run, not even under --strict
    WARNING = 1
    ERROR = 2

    def __str__(self) -> str:
        return self.name.lower()


@dataclass(frozen=True)
class Code:
    id: str
    severity: Severity
    title: str
    explanation: str


@dataclass(frozen=True, order=True)
class Diagnostic:
    """A finding placed in a file. Ordering sorts by position, then code."""

    file: str
    line: int
    col: int
    code: str
    message: str = field(compare=False)
    hint: str = field(default="", compare=False)
    severity: Severity = field(default=Severity.ERROR, compare=False)
    path: tuple[str | int, ...] = field(default=(), compare=False)

    def format_text(self) -> str:
        label = "" if self.severity is Severity.ERROR else f"{self.severity}: "
        text = f"{self.file}:{self.line}:{self.col}: {self.code} {label}{self.message}"
        if self.hint:
            text += f"\n  hint: {self.hint}"
        return text

    def as_error(self) -> Diagnostic:
        if self.severity is Severity.WARNING:
            return replace(self, severity=Severity.ERROR)
        return self


@dataclass(frozen=True)
class Finding:
    """What a check yields: a code, where in the topology, what and how to fix it."""

    code: str
    path: tuple[str | int, ...]
    message: str
    hint: str = ""
    # Point at the key of a mapping entry rather than its value (unknown keys, names).
    at_key: bool = False


def _registry(codes: Iterable[Code]) -> dict[str, Code]:
    registry: dict[str, Code] = {}
    for code in codes:
        if code.id in registry:
            raise ValueError(f"duplicate diagnostic code {code.id}")
        registry[code.id] = code
    return registry


E, W, N = Severity.ERROR, Severity.WARNING, Severity.NOTE

CODES = _registry(
    [
        # 0xx: reading the file
        Code("AKM001", E, "file cannot be read",
             "The topology path does not exist, is a directory, or is not UTF-8 text."),
        Code("AKM002", E, "YAML syntax error",
             "The file is not valid YAML 1.2 (this includes tab indentation)."),
        Code("AKM003", E, "duplicate key",
             "A mapping names the same key twice; YAML parsers disagree on which value wins, "
             "so aksmesh refuses the file."),
        Code("AKM004", E, "not a topology document",
             "The file is empty, holds several YAML documents, or its root is not a mapping."),
        Code("AKM005", E, "file too large or too deeply nested",
             "The file exceeds aksmesh's size, depth or alias-expansion limits; a topology "
             "is a few kilobytes even for hundreds of clusters."),
        # 1xx: the schema (topology.schema.json)
        Code("AKM101", E, "unknown key",
             "The key is not part of the topology format; it is usually a typo."),
        Code("AKM102", E, "missing required key",
             "The topology format requires this key."),
        Code("AKM103", E, "wrong type",
             "The value has the wrong YAML type (for example a number where a string is "
             "expected: quote versions such as \"1.36\")."),
        Code("AKM104", E, "value not allowed",
             "The value does not match the allowed values or the pattern of this key."),
        Code("AKM105", E, "value out of range",
             "The value, its length or its number of items is outside the allowed range."),
        # 2xx: names and ids
        Code("AKM201", E, "duplicate cluster name",
             "Cluster names name Azure resources and Cilium clusters: they must be unique."),
        Code("AKM202", E, "duplicate cluster id",
             "Cilium identifies each cluster of a mesh by its id: ids must be unique."),
        Code("AKM203", E, "cluster id above the mesh limit",
             "A cluster id must not exceed cilium.maxConnectedClusters (255 or 511)."),
        Code("AKM204", E, "derived Azure name too long",
             "A resource or deployment name derived from the topology and cluster names "
             "exceeds Azure's limit for it; shorten the topology or cluster name."),
        Code("AKM205", E, "reserved cluster name",
             "Cilium rejects the cluster name `default` for any cluster id other than 0."),
        Code("AKM206", E, "too many clusters for the mesh",
             "Cilium connects at most cilium.maxConnectedClusters clusters (255, or 511)."),
        # 3xx: addresses
        Code("AKM301", E, "invalid CIDR or address",
             "The value is not an IPv4 CIDR (a.b.c.d/n) or IPv4 address."),
        Code("AKM302", E, "CIDR has host bits set",
             "The address of a CIDR must be its network address (10.1.0.0/16, not 10.1.2.3/16)."),
        Code("AKM303", E, "node subnet outside its VNet",
             "nodeSubnetCidr must lie inside the cluster's vnetCidr."),
        Code("AKM304", E, "range too small",
             "The node subnet must be at least a /29 (Azure keeps five addresses of it)."),
        Code("AKM305", E, "overlapping ranges",
             "VNets and pod ranges of the whole mesh must be disjoint (peering and tunnel "
             "routing need it), and no service range may overlap a VNet or a pod range."),
        Code("AKM306", E, "range reserved by AKS",
             "AKS refuses ranges that touch 169.254.0.0/16, 172.30.0.0/16, 172.31.0.0/16 "
             "or 192.0.2.0/24."),
        Code("AKM307", E, "service range too large",
             "AKS requires serviceCidr to be smaller than a /12."),
        Code("AKM308", W, "public address range",
             "The range is not private address space (RFC 1918 or RFC 6598); traffic to "
             "the real owners of those addresses would be captured."),
        Code("AKM309", E, "DNS service IP not usable",
             "dnsServiceIP must lie inside serviceCidr and be neither its network address "
             "nor its first address (kubernetes.default takes that one)."),
        Code("AKM310", E, "ClusterMesh IP not usable",
             "clustermeshIP must lie inside nodeSubnetCidr and must not be one of the five "
             "addresses Azure reserves in every subnet (network, .1, .2, .3, broadcast)."),
        # 4xx: platform support
        Code("AKM401", E, "Kubernetes version not supported by AKS",
             "kubernetesVersion must be a minor version inside the AKS support window."),
        Code("AKM402", E, "unknown Azure region",
             "region must be the programmatic name of an Azure public-cloud region "
             "(`az account list-locations -o table`, column Name)."),
        Code("AKM403", E, "too many VNet peerings",
             "A full mesh peers every VNet with every other; Azure allows 500 peerings "
             "per VNet."),
        Code("AKM404", E, "Cilium version not supported",
             "aksmesh renders values for the Cilium chart versions it knows."),
        Code("AKM405", E, "too many resources for one ARM template",
             "main.bicep deploys three resources per cluster (resource group, cluster "
             "module, peerings module); ARM allows 800 per template."),
        # 5xx: verification of the rendered tree (a failure here is a bug in aksmesh)
        Code("AKM501", E, "generated Bicep does not parse",
             "tree-sitter-bicep found a syntax error in a generated Bicep file."),
        Code("AKM502", E, "generated Bicep violates the Azure type data",
             "A resource body does not match the Bicep type data (unknown, read-only or "
             "missing properties, wrong types, patterns or ranges)."),
        Code("AKM503", N, "Bicep resource bodies not checked",
             "Without --bicep-types DIR (a copy of Azure/bicep-types-az `generated/` data), "
             "render checks Bicep syntax only."),
        Code("AKM511", E, "generated manifest violates its schema",
             "A rendered Flux object does not validate strictly against its CRD schema "
             "(from --crd-schemas), or no schema exists for its API version."),
        Code("AKM512", E, "generated Cilium values violate the chart's schema",
             "A rendered values.yaml does not validate against the Cilium chart's "
             "values.schema.json (from --cilium-values-schema)."),
        Code("AKM513", N, "manifests not checked against schemas",
             "Without --crd-schemas and --cilium-values-schema, render checks the YAML "
             "syntax and the mesh consistency of the Flux tree only."),
        Code("AKM514", E, "generated Cilium values disagree with the plan",
             "A cluster's values.yaml does not carry its planned name, id, pod range, "
             "ClusterMesh IP or exactly its planned mesh peers."),
        Code("AKM515", E, "secret in clear in the output",
             "A rendered file holds a private key or an unencrypted Secret value."),
        # 6xx: inputs besides the topology
        Code("AKM601", W, "no shared Cilium CA",
             "Without the CA file that `aksmesh ca init` creates, every cluster generates "
             "its own CA and the clusters cannot authenticate each other. render still "
             "writes everything else."),
        Code("AKM602", E, "CA file not usable",
             "The CA file beside the topology must be the sops-encrypted Secret in "
             "flux-system that `aksmesh ca init` writes; aksmesh never copies a CA in clear."),
        # 9xx: the output tree
        Code("AKM901", E, "output tree out of date",
             "`aksmesh check` found a file that differs from what `aksmesh render` writes, "
             "one it would create, or one it would remove."),
    ]
)


def diagnostic(code: str, file: str, line: int, col: int, message: str, hint: str = "",
               path: tuple[str | int, ...] = ()) -> Diagnostic:
    return Diagnostic(file=file, line=line, col=col, code=code, message=message, hint=hint,
                      severity=CODES[code].severity, path=path)


def has_errors(diagnostics: Iterable[Diagnostic]) -> bool:
    return any(d.severity is Severity.ERROR for d in diagnostics)


def strict(diagnostics: Iterable[Diagnostic]) -> list[Diagnostic]:
    """--strict: every warning becomes an error."""
    return [d.as_error() for d in diagnostics]
