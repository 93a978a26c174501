"""A model of the Kubernetes API server's validation of the core objects aksmesh renders.

A JSON schema checks types; the API server also checks names, uniqueness and formats, and
refuses the object (so kustomize-controller's dry-run fails the whole Kustomization). The
rules follow kubernetes/kubernetes at commit 000f26050b9be6fb3d79fae95e06b47fc96128cd:
- pkg/apis/core/validation/validation.go `ValidateService`: metadata (name a DNS-1035
  label), ports required, each port by `validateServicePort`, selector by
  `ValidateLabels`, type and sessionAffinity supported, (port, protocol) pairs unique;
- `validateServicePort`: a name required when there are several ports, a DNS-1123 label,
  unique; port 1..65535; protocol TCP, UDP or SCTP; targetPort by `ValidatePortNumOrName`
  (a number 1..65535, or an IANA_SVC_NAME);
- `ValidateNamespace` via `ValidateObjectMeta` with `ValidateNamespaceName` (a DNS-1123
  label);
- staging/src/k8s.io/apimachinery/pkg/util/validation/validation.go for the formats
  (IsDNS1123Label, IsDNS1035Label, IsQualifiedName, IsValidLabelValue, IsValidPortName,
  IsValidPortNum), and pkg/apis/meta/v1/validation `ValidateLabels` (keys qualified names,
  values label values) and apimachinery `ValidateAnnotations` (keys qualified names).

The same functions serve `check` (the topology's services, before anything is rendered) and
`verify` (the rendered objects).
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

DNS1123_LABEL = re.compile(r"[a-z0-9]([-a-z0-9]*[a-z0-9])?")
DNS1035_LABEL = re.compile(r"[a-z]([-a-z0-9]*[a-z0-9])?")
DNS1123_SUBDOMAIN = re.compile(r"[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*")
QUALIFIED_NAME_PART = re.compile(r"([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]")
LABEL_VALUE = re.compile(r"(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?")
IANA_SVC_NAME = re.compile(r"[-a-z0-9]+")
PORT_PROTOCOLS = ("SCTP", "TCP", "UDP")
SERVICE_TYPES = ("ClusterIP", "ExternalName", "LoadBalancer", "NodePort")
SESSION_AFFINITIES = ("ClientIP", "None")

Problem = tuple[tuple[str | int, ...], str]  # (field path in the object, message)


def dns1123_label(value: str) -> list[str]:
    if len(value) > 63:
        return ["must be no more than 63 characters"]
    if not DNS1123_LABEL.fullmatch(value):
        return ["must be a DNS-1123 label: lower case letters, digits and '-', starting and "
                "ending with a letter or digit"]
    return []


def dns1035_label(value: str) -> list[str]:
    if len(value) > 63:
        return ["must be no more than 63 characters"]
    if not DNS1035_LABEL.fullmatch(value):
        return ["must be a DNS-1035 label: lower case letters, digits and '-', starting with "
                "a letter and ending with a letter or digit"]
    return []


def qualified_name(value: str) -> list[str]:
    prefix, slash, name = value.rpartition("/")
    problems = []
    if slash:
        if not prefix:
            problems.append("prefix part must be non-empty")
        elif len(prefix) > 253 or not DNS1123_SUBDOMAIN.fullmatch(prefix):
            problems.append("prefix part must be a DNS-1123 subdomain")
        if "/" in prefix:
            return ["a qualified name has at most one '/'"]
    if not name:
        problems.append("name part must be non-empty")
    elif len(name) > 63:
        problems.append("name part must be no more than 63 characters")
    elif not QUALIFIED_NAME_PART.fullmatch(name):
        problems.append("name part must consist of alphanumeric characters, '-', '_' or '.', "
                        "and must start and end with an alphanumeric character")
    return problems


def label_value(value: str) -> list[str]:
    if len(value) > 63:
        return ["must be no more than 63 characters"]
    if not LABEL_VALUE.fullmatch(value):
        return ["a label value must be empty or consist of alphanumeric characters, '-', '_' "
                "or '.', and must start and end with an alphanumeric character"]
    return []


def port_name(value: str) -> list[str]:
    """IANA_SVC_NAME (RFC 6335): what a named targetPort must be."""
    problems = []
    if not 1 <= len(value) <= 15:
        problems.append("must be no more than 15 characters")
    if not IANA_SVC_NAME.fullmatch(value):
        problems.append("must contain only lower case letters, digits and '-'")
    if "--" in value:
        problems.append("must not contain consecutive hyphens")
    if not re.search("[a-z]", value):
        problems.append("must contain at least one letter")
    if value.startswith("-") or value.endswith("-"):
        problems.append("must not begin or end with a hyphen")
    return problems


def port_number(value: Any) -> list[str]:
    if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= 65535:
        return ["must be between 1 and 65535, inclusive"]
    return []


def labels(mapping: Any) -> Iterator[Problem]:
    for key, value in (mapping or {}).items():
        for message in qualified_name(str(key)):
            yield (key,), f"key {key!r}: {message}"
        if not isinstance(value, str):
            yield (key,), f"value of {key!r} must be a string"
        else:
            for message in label_value(value):
                yield (key,), f"value {value!r}: {message}"


def service_ports(ports: list[dict[str, Any]]) -> Iterator[Problem]:
    """validateServicePort for each port, then ValidateService's (port, protocol) rule."""
    names: set[str] = set()
    pairs: set[tuple[Any, Any]] = set()
    for index, port in enumerate(ports):
        name = port.get("name") or ""
        if len(ports) > 1 and not name:
            yield (index, "name"), "Required value: every port needs a name when there are " \
                                   "several"
        elif name:
            for message in dns1123_label(name):
                yield (index, "name"), f"{name!r}: {message}"
            if name in names:
                yield (index, "name"), f"Duplicate value: {name!r}"
            names.add(name)
        for message in port_number(port.get("port")):
            yield (index, "port"), f"{port.get('port')!r}: {message}"
        protocol = port.get("protocol")
        if protocol not in PORT_PROTOCOLS:
            yield (index, "protocol"), f"{protocol!r}: must be one of {', '.join(PORT_PROTOCOLS)}"
        target = port.get("targetPort", port.get("port"))
        checks = port_name(target) if isinstance(target, str) else port_number(target)
        for message in checks:
            yield (index, "targetPort"), f"{target!r}: {message}"
        pair = (port.get("port"), protocol)
        if pair in pairs:
            yield (index,), f"Duplicate value: port {pair[0]}/{pair[1]} is already listed"
        pairs.add(pair)


def validate_object(document: dict[str, Any]) -> Iterator[Problem]:
    """The API server's validation of a core object (Service, Namespace); other kinds are
    left to their schemas."""
    kind = document.get("kind")
    metadata = document.get("metadata") or {}
    name = str(metadata.get("name", ""))
    if kind == "Service":
        for message in dns1035_label(name):
            yield ("metadata", "name"), f"{name!r}: {message}"
    elif kind == "Namespace":
        for message in dns1123_label(name):
            yield ("metadata", "name"), f"{name!r}: {message}"
    else:
        return
    if kind == "Service" and metadata.get("namespace") is not None:
        for message in dns1123_label(str(metadata["namespace"])):
            yield ("metadata", "namespace"), f"{metadata['namespace']!r}: {message}"
    for path, message in labels(metadata.get("labels")):
        yield ("metadata", "labels", *path), message
    for key in metadata.get("annotations") or {}:
        for message in qualified_name(str(key)):
            yield ("metadata", "annotations", key), f"key {key!r}: {message}"
    if kind != "Service":
        return
    spec = document.get("spec") or {}
    ports = spec.get("ports") or []
    if not ports and spec.get("type") != "ExternalName":
        yield ("spec", "ports"), "Required value"
    # The API server defaults these before validating.
    defaulted = [{"protocol": "TCP", **p} for p in ports]
    for path, message in service_ports(defaulted):
        yield ("spec", "ports", *path), message
    for path, message in labels(spec.get("selector")):
        yield ("spec", "selector", *path), message
    if spec.get("type", "ClusterIP") not in SERVICE_TYPES:
        yield ("spec", "type"), f"{spec.get('type')!r}: must be one of {', '.join(SERVICE_TYPES)}"
    if spec.get("sessionAffinity", "None") not in SESSION_AFFINITIES:
        yield ("spec", "sessionAffinity"), f"{spec.get('sessionAffinity')!r}: not supported"
