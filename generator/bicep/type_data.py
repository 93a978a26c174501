"""The bicep-types-az type data: one ResourceType and the types it reaches, loaded once
per process and kept in the on-disk cache keyed by the file's content."""

from __future__ import annotations

import functools
import hashlib
import json
import os
import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .. import cache
from ..inputs import load_reference_json, unusable_reference


@dataclass(frozen=True)
class _TypeFile:
    types: Mapping[int, dict[str, Any]]  # by index; "$ref": "#/<index>" points into it
    resources: dict[str, dict[str, Any]]  # lower-case "Type@version" -> ResourceType


@functools.cache
def _load_type_file(path: str) -> _TypeFile | None:
    try:
        types = load_reference_json(path)
    except OSError:
        return None
    if not (isinstance(types, list) and all(isinstance(t, dict) for t in types)):
        raise unusable_reference(path, "not a list of types, as bicep-types-az writes")
    resources = {str(t.get("name")).lower(): t for t in types
                 if t.get("$type") == "ResourceType"}
    return _TypeFile(dict(enumerate(types)), resources)


@functools.cache  # once per file: a render checks several resource types of each
def _file_digest(path: str) -> str | None:
    try:
        with open(path, "rb") as handle:
            return hashlib.file_digest(handle, "sha256").hexdigest()
    except OSError:
        return None


# Bump when what is cached for a resource changes shape.
_CACHE_FORMAT = 1


@functools.cache
def _load_resource_type(path: str, name: str) -> _TypeFile | None:
    """The ResourceType `name` of one types.json, with only the types it reaches.

    A render checks about ten resource types, but the network file is 1.3 MB of JSON:
    parsing it all is most of a small render's Bicep check. So each resource's types are
    kept in the cache, keyed by the file's content: hashing it costs a tenth of parsing
    it, and a fresh checkout of the same data (a CI job) still finds its entries.
    """
    digest = _file_digest(path)
    if digest is None:
        return None
    entry = cache.entry_name(_CACHE_FORMAT, digest, name)
    cached = cache.read_entry("bicep-types", entry)
    if cached is not None:
        try:
            resource, types = json.loads(cached)
            return _TypeFile({int(i): t for i, t in types.items()}, {name: resource})
        except (ValueError, TypeError, AttributeError):
            pass  # damaged: derive it again
    type_file = _load_type_file(path)
    resource = type_file.resources.get(name) if type_file else None
    if resource is None:
        return None
    try:
        reached = reached_types(type_file.types, resource)
    except LookupError as error:
        raise unusable_reference(path, f"{name}: `$ref` {error} points at none of the "
                                 f"file's {len(type_file.types)} types") from None
    problem = _shape_problem(resource, reached)
    if problem:
        raise unusable_reference(path, f"{name}: {problem}")
    cache.write_entry("bicep-types", entry, json.dumps([resource, reached]).encode())
    return _TypeFile(reached, {name: resource})


def reached_types(types: Mapping[int, dict[str, Any]], start: dict[str, Any]
                   ) -> dict[int, dict[str, Any]]:
    """Every type `start` refers to, directly or through others, by index; LookupError
    names a reference that points at no type."""
    reached: dict[int, dict[str, Any]] = {}
    pending = [start]
    while pending:
        node = pending.pop()
        if isinstance(node, dict):
            ref = node.get("$ref")
            if isinstance(ref, str) and ref.startswith("#/"):
                index = int(ref[2:]) if ref[2:].isdigit() else -1
                if index not in types:
                    raise LookupError(ref)
                if index not in reached:
                    reached[index] = types[index]
                    pending.append(types[index])
            pending.extend(v for v in node.values() if isinstance(v, (dict, list)))
        elif isinstance(node, list):
            pending.extend(v for v in node if isinstance(v, (dict, list)))
    return reached


_REF = {"type": "object", "required": ["$ref"],
        "properties": {"$ref": {"type": "string", "pattern": "^#/[0-9]+$"}}}
_PROPERTIES = {"type": "object", "additionalProperties": {
    "type": "object", "required": ["type", "flags"],
    "properties": {"type": _REF, "flags": {"type": "integer"}}}}


def _of_kind(kind: str, then: dict[str, Any]) -> dict[str, Any]:
    return {"if": {"properties": {"$type": {"const": kind}}}, "then": then}


# What the body checks read of a type, in the shape bicep-types-az writes it: data that
# passes cannot crash them.
_TYPE_SHAPE = {
    "type": "object",
    "required": ["$type"],
    "properties": {
        "$type": {"type": "string"},
        "minLength": {"type": "integer"}, "maxLength": {"type": "integer"},
        "minValue": {"type": "number"}, "maxValue": {"type": "number"},
        "pattern": {"type": "string"},
        "itemType": _REF, "additionalProperties": _REF, "body": _REF,
        "properties": _PROPERTIES, "baseProperties": _PROPERTIES,
        "discriminator": {"type": "string"},
    },
    "allOf": [
        _of_kind("ResourceType", {"required": ["body"]}),
        _of_kind("StringLiteralType", {"required": ["value"],
                                       "properties": {"value": {"type": "string"}}}),
        _of_kind("ArrayType", {"required": ["itemType"]}),
        _of_kind("UnionType", {"required": ["elements"],
                               "properties": {"elements": {"type": "array", "items": _REF}}}),
        _of_kind("DiscriminatedObjectType", {
            "required": ["discriminator", "elements"],
            "properties": {"elements": {"type": "object", "additionalProperties": _REF}}}),
    ],
}


def _shape_problem(resource: dict[str, Any], reached: Mapping[int, dict[str, Any]]) -> str:
    """The first way the resource or a type it reaches is not what the checks read."""
    validator = _shape_validator()
    for label, node in [("the resource", resource),
                        *((f"type #{index}", t) for index, t in sorted(reached.items()))]:
        for error in validator.iter_errors(node):
            where = ".".join(map(str, error.instance_path))
            return f"{label}{f' at `{where}`' if where else ''}: {error.message}"
    return ""


@functools.cache
def _shape_validator() -> Any:
    import jsonschema_rs

    return jsonschema_rs.Draft7Validator(_TYPE_SHAPE)


_NAMESPACE = re.compile(r"[a-z][a-z0-9]*(\.[a-z0-9]+)*")
_API_VERSION = re.compile(r"\d{4}-\d{2}-\d{2}(-[A-Za-z0-9]+)?")


class TypeLibrary:
    """bicep-types-az data laid out as `<dir>/<namespace lower-case>/<api-version>/types.json`."""

    def __init__(self, root: Path) -> None:
        self.root = root

    @classmethod
    def from_directory(cls, path: str | os.PathLike[str]) -> TypeLibrary:
        return cls(Path(path))

    def resource_type(self, type_name: str, api_version: str) -> tuple[_TypeFile, dict[str, Any]] | None:
        """The types file and its ResourceType entry for `type_name@api_version`, if known."""
        namespace = type_name.split("/", 1)[0].lower()
        if not (_NAMESPACE.fullmatch(namespace) and _API_VERSION.fullmatch(api_version)):
            return None  # also keeps odd type strings from reaching outside the directory
        name = f"{type_name}@{api_version}".lower()
        path = self.root / namespace / api_version.lower() / "types.json"
        type_file = _load_resource_type(str(path), name)
        return (type_file, type_file.resources[name]) if type_file is not None else None
