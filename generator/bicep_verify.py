"""Offline verification of generated Bicep: syntax via tree-sitter-bicep, bodies via bicep-types-az.

The type checks mirror what the Bicep compiler does with the same `types.json` data
(see /work/shared/reference/bicep-types/SOURCE.md), but every problem is an error here:
Bicep downgrades most of them to warnings, a generator should not emit them at all.
Values that are only known at deployment time (parameters, function calls, interpolated
strings, ...) become `Expression` and are accepted by every type.
"""

from __future__ import annotations

import functools
import hashlib
import json
import os
import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Union

import tree_sitter
import tree_sitter_bicep

from . import cache
from .diagnostics import did_you_mean
from .load import load_reference_json, unusable_reference

__all__ = [
    "BicepFinding",
    "Expression",
    "ResourceDeclaration",
    "TypeLibrary",
    "check_body",
    "resource_declarations",
    "syntax_errors",
    "bicep_findings",
    "verify_bicep",
]


@dataclass(frozen=True)
class BicepFinding:
    """One problem, at a 1-based line and column (in characters) of the Bicep text."""

    line: int
    col: int
    message: str
    hint: str = ""
    missing_type: str = ""  # the resource type, when the finding is that it has no type data


@dataclass(frozen=True)
class Expression:
    """A value that is not known offline; `text` is its Bicep source."""

    text: str


Value = Union[dict["str | Expression", "Value"], list["Value"], str, int, bool, None, Expression]
PathKey = Union[str, int, Expression]
BodyPath = tuple[PathKey, ...]


@dataclass(frozen=True)
class ResourceDeclaration:
    symbol: str
    type: str  # full type, also for nested child declarations ('.../virtualNetworks/subnets')
    api_version: str  # "" when the type string has no '@'
    existing: bool
    line: int
    col: int
    body: dict[str | Expression, Value] | Expression
    # Position of every key (object entries) and item (array elements) of the body.
    body_positions: Mapping[BodyPath, tuple[int, int]] = field(default_factory=dict, repr=False)


# --------------------------------------------------------------------------- parsing


@functools.cache
def _parser() -> tree_sitter.Parser:
    return tree_sitter.Parser(tree_sitter.Language(tree_sitter_bicep.language()))


@functools.lru_cache(maxsize=8)
def _parse(text: str) -> tuple[tree_sitter.Tree, bytes]:
    # Cached: verify reads each file for syntax, bodies and the linter rules, and the
    # parameters file check reads main.bicep again; trees are only read, never edited.
    src = text.encode("utf-8")
    return _parser().parse(src), src


def _pos(src: bytes, node: tree_sitter.Node) -> tuple[int, int]:
    # tree-sitter columns are byte offsets; findings use characters.
    row, byte_col = node.start_point
    line_start = node.start_byte - byte_col
    return row + 1, len(src[line_start : node.start_byte].decode("utf-8", "replace")) + 1


def _text(src: bytes, node: tree_sitter.Node) -> str:
    return src[node.start_byte : node.end_byte].decode("utf-8", "replace")


def _named(node: tree_sitter.Node) -> list[tree_sitter.Node]:
    return [c for c in node.named_children if c.type != "comment"]


# --------------------------------------------------------------------------- syntax

_CLOSER = {"{": "}", "[": "]", "(": ")"}


def syntax_errors(text: str) -> list[BicepFinding]:
    tree, src = _parse(text)
    return _syntax_findings(tree.root_node, src)


def _syntax_findings(root: tree_sitter.Node, src: bytes) -> list[BicepFinding]:
    findings: list[BicepFinding] = []
    stack = [root] if root.has_error else []
    while stack:
        node = stack.pop()
        if node.is_missing:
            findings.append(BicepFinding(*_pos(src, node), f"missing `{node.type}`"))
        elif node.is_error:
            # Nested ERROR nodes repeat the outer one; report the outermost only.
            findings.append(_error_finding(node, src))
        else:
            stack.extend(c for c in node.children if c.has_error or c.is_missing)
    return sorted(findings, key=lambda f: (f.line, f.col))


def _error_finding(node: tree_sitter.Node, src: bytes) -> BicepFinding:
    # An unclosed bracket makes tree-sitter wrap the whole declaration into one ERROR
    # starting at its first token; the unmatched opener is the useful location.
    open_brackets: list[tree_sitter.Node] = []
    for child in node.children:
        if child.type in _CLOSER:
            open_brackets.append(child)
        elif open_brackets and child.type == _CLOSER[open_brackets[-1].type]:
            open_brackets.pop()
    if open_brackets:
        opener = open_brackets[0]
        return BicepFinding(
            *_pos(src, opener),
            f"missing `{_CLOSER[opener.type]}`",
            f"the `{opener.type}` here is never closed",
        )
    snippet = _text(src, node).strip().split("\n", 1)[0].strip()
    if len(snippet) > 40:
        snippet = snippet[:37] + "..."
    return BicepFinding(*_pos(src, node), f"syntax error near `{snippet}`")


# --------------------------------------------------------------------------- declarations

_ESCAPE = re.compile(r"\\(u\{[0-9A-Fa-f]+\}|.)", re.DOTALL)
_SIMPLE_ESCAPES = {"n": "\n", "r": "\r", "t": "\t", "\\": "\\", "'": "'", "$": "$"}


def _unescape(match: re.Match[str]) -> str:
    esc = match.group(1)
    if esc.startswith("u{"):
        return chr(int(esc[2:-1], 16))
    return _SIMPLE_ESCAPES.get(esc, match.group(0))


def _string_value(node: tree_sitter.Node, src: bytes) -> str | Expression:
    raw = _text(src, node)
    if node.has_error or any(c.type == "interpolation" for c in node.children):
        return Expression(raw)
    if raw.startswith("'''"):
        # Multi-line strings are verbatim; Bicep drops a newline right after the opener.
        body = raw[3:-3]
        return body[2:] if body.startswith("\r\n") else body[1:] if body.startswith("\n") else body
    return _ESCAPE.sub(_unescape, raw[1:-1])


class _BodyReader:
    """Converts one resource body to Python data, recording positions by path."""

    def __init__(self, src: bytes) -> None:
        self.src = src
        self.positions: dict[BodyPath, tuple[int, int]] = {}

    def value(self, node: tree_sitter.Node, path: BodyPath) -> Value:
        kind = node.type
        if kind == "object":
            obj: dict[str | Expression, Value] = {}
            for prop in node.named_children:
                parts = _named(prop)
                if prop.type != "object_property" or len(parts) < 2:
                    continue  # comments, nested resource declarations, error recovery
                key_node, value_node = parts[0], parts[-1]
                key: str | Expression = (
                    _string_value(key_node, self.src) if key_node.type == "string" else _text(self.src, key_node)
                )
                self.positions[path + (key,)] = _pos(self.src, key_node)
                obj[key] = self.value(value_node, path + (key,))
            return obj
        if kind == "array":
            items: list[Value] = []
            for i, item in enumerate(_named(node)):
                self.positions[path + (i,)] = _pos(self.src, item)
                items.append(self.value(item, path + (i,)))
            return items
        if kind == "string":
            return _string_value(node, self.src)
        if kind == "number":
            try:
                return int(_text(self.src, node))
            except ValueError:
                pass
        elif kind == "boolean":
            return _text(self.src, node) == "true"
        elif kind == "null":
            return None
        return Expression(_text(self.src, node))


def resource_declarations(text: str) -> list[ResourceDeclaration]:
    tree, src = _parse(text)
    return list(_declarations(tree.root_node, src, None))


def _declarations(
    node: tree_sitter.Node, src: bytes, parent: ResourceDeclaration | None
) -> Iterator[ResourceDeclaration]:
    for child in node.named_children:
        if child.type == "resource_declaration":
            decl, body_node = _declaration(child, src, parent)
            yield decl
            if body_node is not None:
                yield from _declarations(body_node, src, decl)
        elif child.type == "object_property" and parent is not None:
            yield from _declarations(child, src, parent)  # nested `resource` inside a body


def _unwrap_body(node: tree_sitter.Node | None) -> tree_sitter.Node | None:
    # `[for ...: if (c) {...}]` and `if (c) {...}`: the object is the last named child.
    while node is not None and node.type in ("for_statement", "if_statement"):
        body = node.child_by_field_name("body") if node.type == "for_statement" else None
        node = body if body is not None else (_named(node) or [None])[-1]
    return node


def _declaration(
    node: tree_sitter.Node, src: bytes, parent: ResourceDeclaration | None
) -> tuple[ResourceDeclaration, tree_sitter.Node | None]:
    parts = _named(node)
    symbol = _text(src, parts[0]) if parts else ""
    type_node = next((p for p in parts if p.type == "string"), None)
    type_string = _string_value(type_node, src) if type_node is not None else ""
    type_text = type_string if isinstance(type_string, str) else type_string.text
    type_name, _, api_version = type_text.partition("@")
    if parent is not None and "/" not in type_name:
        # A nested declaration names only the child segment and may omit the version.
        type_name = f"{parent.type}/{type_name}"
        api_version = api_version or parent.api_version
    value_node = parts[-1] if len(parts) >= 3 else None
    body_node = _unwrap_body(value_node)
    reader = _BodyReader(src)
    body: dict[str | Expression, Value] | Expression
    if body_node is not None and body_node.type == "object":
        value = reader.value(body_node, ())
        assert isinstance(value, dict)
        body = value
    else:
        body = Expression(_text(src, value_node) if value_node is not None else "")
        body_node = None
    line, col = _pos(src, node)
    decl = ResourceDeclaration(
        symbol=symbol,
        type=type_name,
        api_version=api_version,
        existing=any(c.type == "existing" for c in node.children),
        line=line,
        col=col,
        body=body,
        body_positions=reader.positions,
    )
    return decl, body_node


# --------------------------------------------------------------------------- type data


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
        reached = _reached_types(type_file.types, resource)
    except LookupError as error:
        raise unusable_reference(path, f"{name}: `$ref` {error} points at none of the "
                                 f"file's {len(type_file.types)} types") from None
    problem = _shape_problem(resource, reached)
    if problem:
        raise unusable_reference(path, f"{name}: {problem}")
    cache.write_entry("bicep-types", entry, json.dumps([resource, reached]).encode())
    return _TypeFile(reached, {name: resource})


def _reached_types(types: Mapping[int, dict[str, Any]], start: dict[str, Any]
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


# --------------------------------------------------------------------------- body checks

_REQUIRED, _READ_ONLY = 1, 2
_LANGUAGE_KEYS = frozenset({"parent", "scope", "dependsOn", "asserts"})


@dataclass(frozen=True)
class _Issue:
    path: BodyPath  # the offending key/item; for a missing property: the object lacking it
    message: str
    hint: str = ""
    missing: bool = False


@functools.cache
def _regex(pattern: str) -> re.Pattern[str] | None:
    try:
        return re.compile(pattern)
    except re.error:
        return None  # .NET-only syntax (one network pattern); not checkable with `re`


def _dotted(path: BodyPath) -> str:
    out = ""
    for part in path:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            name = part.text if isinstance(part, Expression) else part
            out += f".{name}" if out else name
    return out


# Python kind of value each type accepts; types not listed accept anything.
_KIND = {
    "StringType": "string",
    "StringLiteralType": "string",
    "IntegerType": "int",
    "BooleanType": "bool",
    "NullType": "null",
    "ArrayType": "array",
    "ObjectType": "object",
    "DiscriminatedObjectType": "object",
}


def _kind_of(value: Value) -> str:
    if isinstance(value, bool):
        return "bool"
    if isinstance(value, int):
        return "int"
    if isinstance(value, str):
        return "string"
    if isinstance(value, dict):
        return "object"
    if isinstance(value, list):
        return "array"
    return "null"


def _property_hint(key: str, names: list[str]) -> str:
    """did_you_mean, saying so when only the case differs: Bicep's names are case-sensitive."""
    hint = did_you_mean(key, names)
    if hint and key.lower() in {name.lower() for name in names}:
        hint += " (property names are case-sensitive)"
    return hint


def _in(path: BodyPath) -> str:
    return f" in `{_dotted(path)}`" if path else ""


class _Checker:
    def __init__(self, types: Mapping[int, dict[str, Any]]) -> None:
        self.types = types

    def resolve(self, ref: dict[str, str]) -> dict[str, Any]:
        return self.types[int(ref["$ref"][2:])]

    def describe(self, t: dict[str, Any]) -> str:
        kind = t["$type"]
        if kind == "StringLiteralType":
            return repr(t["value"])
        if kind == "UnionType":
            names = dict.fromkeys(self.describe(self.resolve(e)) for e in t["elements"])
            return " | ".join(names)
        return _KIND.get(kind, "any")

    def same_kind(self, t: dict[str, Any], value: Value) -> bool:
        if t["$type"] == "UnionType":
            return any(self.same_kind(self.resolve(e), value) for e in t["elements"])
        expected = _KIND.get(t["$type"])
        return expected is None or expected == _kind_of(value)

    def check(self, value: Value, t: dict[str, Any], path: BodyPath) -> list[_Issue]:
        if isinstance(value, Expression):
            return []
        kind = t["$type"]
        if kind == "UnionType":
            return self.union(value, t, path)
        if not self.same_kind(t, value):
            return [_Issue(path, f"`{_dotted(path)}`: expected {self.describe(t)}, got {_kind_of(value)}")]
        if kind == "StringLiteralType" and value != t["value"]:
            return [_Issue(path, f"`{_dotted(path)}`: expected {t['value']!r}, got {value!r}")]
        if kind == "StringType":
            assert isinstance(value, str)
            return self.string(value, t, path)
        if kind == "IntegerType":
            assert isinstance(value, int)
            if "minValue" in t and value < t["minValue"]:
                return [_Issue(path, f"`{_dotted(path)}`: {value} is below the minimum {t['minValue']}")]
            if "maxValue" in t and value > t["maxValue"]:
                return [_Issue(path, f"`{_dotted(path)}`: {value} is above the maximum {t['maxValue']}")]
        if kind == "ArrayType":
            assert isinstance(value, list)
            return self.array(value, t, path)
        if kind == "ObjectType":
            assert isinstance(value, dict)
            return self.check_object(value, t.get("properties", {}), t.get("additionalProperties"), path)
        if kind == "DiscriminatedObjectType":
            assert isinstance(value, dict)
            return self.discriminated(value, t, path)
        return []

    def string(self, value: str, t: dict[str, Any], path: BodyPath) -> list[_Issue]:
        problem = ""
        if len(value) < t.get("minLength", 0):
            problem = f"is shorter than {t['minLength']} characters"
        elif "maxLength" in t and len(value) > t["maxLength"]:
            problem = f"is longer than {t['maxLength']} characters"
        elif "pattern" in t and (pattern := _regex(t["pattern"])) is not None and not pattern.search(value):
            problem = f"does not match the pattern `{t['pattern']}`"
        return [_Issue(path, f"`{_dotted(path)}`: {value!r} {problem}")] if problem else []

    def array(self, value: list[Value], t: dict[str, Any], path: BodyPath) -> list[_Issue]:
        if len(value) < t.get("minLength", 0):
            return [_Issue(path, f"`{_dotted(path)}` has {len(value)} items, fewer than {t['minLength']}")]
        if "maxLength" in t and len(value) > t["maxLength"]:
            return [_Issue(path, f"`{_dotted(path)}` has {len(value)} items, more than {t['maxLength']}")]
        item_type = self.resolve(t["itemType"])
        return [issue for i, item in enumerate(value) for issue in self.check(item, item_type, path + (i,))]

    def union(self, value: Value, t: dict[str, Any], path: BodyPath) -> list[_Issue]:
        members = [self.resolve(e) for e in t["elements"]]
        if isinstance(value, str) and any(m.get("value") == value for m in members):
            return []  # the common enum hit, without building a failure per literal
        results = []
        for member in members:
            result = self.check(value, member, path)
            if not result:
                return []
            results.append(result)
        literals = [m["value"] for m in members if m["$type"] == "StringLiteralType"]
        if isinstance(value, str) and len(literals) == len(members):
            hint = did_you_mean(value, literals)
            allowed = ", ".join(repr(v) for v in literals)
            return [_Issue(path, f"`{_dotted(path)}`: {value!r} is not one of {allowed}", hint)]
        # Prefer the diagnosis of a member of the right kind: its issues are the specific ones.
        fitting = [r for m, r in zip(members, results) if self.same_kind(m, value)]
        if not fitting:
            return [_Issue(path, f"`{_dotted(path)}`: expected {self.describe(t)}, got {_kind_of(value)}")]
        return min(fitting, key=len)

    def check_object(
        self,
        value: dict[str | Expression, Value],
        properties: dict[str, dict[str, Any]],
        additional: dict[str, str] | None,
        path: BodyPath,
    ) -> list[_Issue]:
        issues: list[_Issue] = []
        for key, item in value.items():
            key_path = path + (key,)
            if isinstance(key, Expression):
                # The key is unknown offline: only the shape of extra keys can be checked.
                if additional is not None:
                    issues += self.check(item, self.resolve(additional), key_path)
                continue
            if not path and key in _LANGUAGE_KEYS:
                continue
            prop = properties.get(key)
            if prop is None:
                if additional is not None:
                    issues += self.check(item, self.resolve(additional), key_path)
                else:
                    issues.append(_Issue(key_path, f"unknown property `{key}`{_in(path)}", _property_hint(key, list(properties))))
            elif prop["flags"] & _READ_ONLY:
                issues.append(_Issue(key_path, f"`{_dotted(key_path)}` is read-only and cannot be set"))
            elif item is None and not prop["flags"] & _REQUIRED:
                continue  # Bicep lets optional properties be null
            else:
                issues += self.check(item, self.resolve(prop["type"]), key_path)
        if not any(isinstance(k, Expression) for k in value):
            for name, prop in properties.items():
                if prop["flags"] & (_REQUIRED | _READ_ONLY) == _REQUIRED and name not in value:
                    issues.append(_Issue(path, f"missing required property `{name}`{_in(path)}", missing=True))
        return issues

    def discriminated(self, value: dict[str | Expression, Value], t: dict[str, Any], path: BodyPath) -> list[_Issue]:
        key = t["discriminator"]
        if key not in value:
            return [_Issue(path, f"missing required property `{key}`{_in(path)}", missing=True)]
        chosen = value[key]
        if isinstance(chosen, Expression):
            return []
        elements: dict[str, dict[str, str]] = t["elements"]
        if not isinstance(chosen, str) or chosen not in elements:
            allowed = ", ".join(repr(v) for v in elements)
            hint = did_you_mean(str(chosen), list(elements))
            return [_Issue(path + (key,), f"`{_dotted(path + (key,))}`: {chosen!r} is not one of {allowed}", hint)]
        branch = self.resolve(elements[chosen])
        merged = {**t.get("baseProperties", {}), **branch.get("properties", {})}
        return self.check_object(value, merged, branch.get("additionalProperties"), path)


def check_body(library: TypeLibrary, declaration: ResourceDeclaration) -> list[BicepFinding]:
    """Type-data findings for one declaration, sorted by position."""
    decl = declaration
    at_decl = (decl.line, decl.col)
    found = library.resource_type(decl.type, decl.api_version)
    if found is None:
        full = f"{decl.type}@{decl.api_version}" if decl.api_version else decl.type
        return [
            BicepFinding(
                *at_decl,
                f"no type data for {full}: the Bicep compiler would not check this body (BCP081)",
                "use a type and api version present in bicep-types-az",
                missing_type=decl.type,
            )
        ]
    type_file, resource = found
    if decl.existing or isinstance(decl.body, Expression):
        return []
    findings: list[BicepFinding] = []
    if resource.get("writableScopes") == 0:
        findings.append(
            BicepFinding(*at_decl, f"{decl.type}@{decl.api_version} is read-only", "declare it `existing`")
        )
    body = decl.body
    name = body.get("name")
    if decl.type.count("/") >= 2 and isinstance(name, str) and "/" in name:
        # A child declared without `parent:` carries 'parent/child'; the type data
        # constrains only the last segment.
        body = {**body, "name": name.rsplit("/", 1)[1]}
    checker = _Checker(type_file.types)
    for issue in checker.check(body, checker.resolve(resource["body"]), ()):
        if issue.missing and not issue.path:
            position = at_decl
        else:
            position = decl.body_positions.get(issue.path, at_decl)
        findings.append(BicepFinding(*position, issue.message, issue.hint))
    return sorted(findings, key=lambda f: (f.line, f.col))


def verify_bicep(text: str, library: TypeLibrary | None) -> list[BicepFinding]:
    """Syntax errors; when there are none and a library is given, body findings of every resource."""
    syntax, bodies = bicep_findings(text, library)
    return syntax or bodies


def bicep_findings(text: str, library: TypeLibrary | None
                   ) -> tuple[list[BicepFinding], list[BicepFinding]]:
    """(syntax errors, body findings) from one parse; body findings only when the syntax
    is clean and a library is given."""
    tree, src = _parse(text)
    syntax = _syntax_findings(tree.root_node, src)
    if syntax or library is None:
        return syntax, []
    bodies = [f for decl in _declarations(tree.root_node, src, None)
              for f in check_body(library, decl)]
    return [], sorted(bodies, key=lambda f: (f.line, f.col))


# --------------------------------------------------------------------------- reading back


@dataclass(frozen=True)
class Declaration:
    """A top-level `param`, `var`, `resource`, `module` or `output`, read back as data."""

    kind: str  # parameter, variable, resource, module, output
    name: str
    value: Value  # the body (inside any loop or condition), as for resource bodies
    loop_over: str | None  # source of the collection of a `[for ...]`, else None
    condition: str | None  # source of the `if (...)` condition, else None
    line: int


def top_level_declarations(text: str) -> list[Declaration]:
    tree, src = _parse(text)
    found = []
    for node in tree.root_node.named_children:
        if not node.type.endswith("_declaration"):
            continue
        parts = _named(node)
        value_node = parts[-1] if parts else None
        loop_over = condition = None
        if value_node is not None and value_node.type == "for_statement":
            loop_parts = _named(value_node)
            loop_over = _text(src, loop_parts[1])
            value_node = value_node.child_by_field_name("body")
        if value_node is not None and value_node.type == "if_statement":
            condition_node, value_node = _named(value_node)[0], _named(value_node)[-1]
            condition = _text(src, condition_node).removeprefix("(").removesuffix(")").strip()
        value = _BodyReader(src).value(value_node, ()) if value_node is not None else None
        found.append(Declaration(node.type.removesuffix("_declaration"),
                                 _text(src, parts[0]) if parts else "", value, loop_over,
                                 condition, _pos(src, node)[0]))
    return found


# --------------------------------------------------------------------------- linter rules
#
# The rules the review of the Bicep named: the linter's no-unused-params (Azure/bicep,
# src/Bicep.Core/Analyzers/Linter/Rules/NoUnusedParametersRule.cs at ff0a3dc9) and no
# symbol named like a function: a name declared in the file is bound before the `az` and
# `sys` namespaces' functions (src/Bicep.Core/Semantics/Namespaces/AzNamespaceType.cs at
# 027bef66 declares resourceGroup() and its kin), so `resourceGroup()` then fails.


# Names a file declares or refers to, found by tree-sitter queries that run in C and
# return only the identifiers asked about: a mesh of hundreds of clusters makes main.bicep
# thousands of identifiers long. An identifier that opens a declaration, an object
# property or a call is a name, not a reference.
_NAME_OPENERS = ("object_property", "call_expression", "parameter_declaration",
                 "variable_declaration", "resource_declaration", "module_declaration",
                 "output_declaration", "type_declaration")
_LOOP_SYMBOLS = "(loop_variable) @name (loop_enumerator) @name"


@functools.cache
def _query(source: str) -> tree_sitter.Query:
    return tree_sitter.Query(tree_sitter.Language(tree_sitter_bicep.language()), source)


def _captured(source: str, root: tree_sitter.Node) -> list[tree_sitter.Node]:
    return tree_sitter.QueryCursor(_query(source)).captures(root).get("name", [])


def _symbol_nodes(root: tree_sitter.Node) -> Iterator[tree_sitter.Node]:
    """The nodes that declare a name in the file: top-level declarations (outputs have a
    namespace of their own) and loop variables."""
    for node in root.named_children:
        if node.type.endswith("_declaration") and node.type != "output_declaration":
            parts = _named(node)
            if parts and parts[0].type == "identifier":
                yield parts[0]
    yield from _captured(_LOOP_SYMBOLS, root)


def _referenced(root: tree_sitter.Node, src: bytes, names: list[str]) -> set[str]:
    """Those of `names` the file refers to somewhere: each place the text spells one is
    looked up in the tree, and counts if it is an identifier that refers (not one inside a
    string or a comment, nor one that names a declaration, a property or a function)."""
    if not names:
        return set()
    spelled = re.compile(rb"(?<![A-Za-z0-9_])(%s)(?![A-Za-z0-9_])"
                         % b"|".join(re.escape(name.encode()) for name in names))
    found = set()
    for match in spelled.finditer(src):
        node = root.descendant_for_byte_range(match.start(), match.end())
        if node is None or node.type != "identifier":
            continue
        parent = node.parent
        if parent is not None and parent.type in _NAME_OPENERS and \
                _named(parent) and _named(parent)[0] == node:
            continue
        found.add(match.group(1).decode())
    return found


def unused_parameters(text: str) -> list[BicepFinding]:
    """no-unused-params: every `param` is referenced somewhere in its file."""
    tree, src = _parse(text)
    declared = [_named(node)[0] for node in tree.root_node.named_children
                if node.type == "parameter_declaration"]
    used = _referenced(tree.root_node, src, [_text(src, name) for name in declared])
    return [BicepFinding(*_pos(src, name),
                         f"parameter `{_text(src, name)}` is never used (no-unused-params)",
                         "leave the parameter out where nothing needs it")
            for name in declared if _text(src, name) not in used]


def shadowed_functions(text: str, functions: frozenset[str]) -> list[BicepFinding]:
    """No declared name hides a Bicep function of the same name."""
    tree, src = _parse(text)
    return sorted((BicepFinding(*_pos(src, node),
                                f"`{_text(src, node)}` hides the Bicep function "
                                f"{_text(src, node)}() in this file",
                                "give the symbol a name of its own")
                   for node in _symbol_nodes(tree.root_node)
                   if _text(src, node) in functions),
                  key=lambda f: (f.line, f.col))


# --------------------------------------------------------------------------- parameters file


@dataclass(frozen=True)
class ParameterSignature:
    """A `param` of a Bicep file: its declared type, default and constraint decorators."""

    name: str
    type: str  # as written: string, string[], int, object, ...
    has_default: bool
    decorators: dict[str, Value]  # minLength, maxLength, minValue, maxValue -> argument
    line: int


def declaration_decorators(text: str) -> dict[str, dict[str, Value]]:
    """Top-level declaration name -> its decorators (`@batchSize(1)`: {"batchSize": 1}),
    each with its first argument read as data."""
    tree, src = _parse(text)
    return {name: decorators for name, _, decorators in _decorated(tree.root_node, src)}


def _decorated(root: tree_sitter.Node, src: bytes
               ) -> Iterator[tuple[str, tree_sitter.Node, dict[str, Value]]]:
    decorators: dict[str, Value] = {}
    for node in root.named_children:
        if node.type == "decorators":
            for decorator in _named(node):
                call = _named(decorator)[0] if _named(decorator) else None
                if call is None or call.type != "call_expression":
                    continue
                name_node, *rest = _named(call)
                arguments = _named(rest[0]) if rest else []
                decorators[_text(src, name_node)] = (
                    _BodyReader(src).value(arguments[0], ()) if arguments else None)
            continue
        if node.type.endswith("_declaration"):
            parts = _named(node)
            if parts:
                yield _text(src, parts[0]), node, decorators
        decorators = {}


def parameter_signatures(text: str) -> dict[str, ParameterSignature]:
    tree, src = _parse(text)
    signatures: dict[str, ParameterSignature] = {}
    for name, node, decorators in _decorated(tree.root_node, src):
        if node.type == "parameter_declaration":
            type_node = next((p for p in _named(node) if p.type == "type"), None)
            signatures[name] = ParameterSignature(
                name, _text(src, type_node) if type_node else "",
                any(c.type == "=" for c in node.children), decorators, _pos(src, node)[0])
    return signatures


_PARAM_ASSIGNMENT = re.compile(r"^param(\s+[A-Za-z_][A-Za-z0-9_]*\s*=)", re.MULTILINE)
_KIND_OF_TYPE = {"string": "string", "int": "int", "bool": "bool", "object": "object",
                 "array": "array"}


def bicepparam_findings(params_text: str, template_name: str, template_text: str
                        ) -> list[BicepFinding]:
    """What the Bicep compiler checks of a `.bicepparam` file against its template
    (its diagnostics BCP258, a required parameter not assigned, and BCP259, an assignment
    to an undeclared parameter; then the type check of each value): `using` names the
    template, every parameter without a default is assigned, no other is, and each value
    fits the declared type and its @minLength/@maxLength/@minValue/@maxValue.

    tree-sitter-bicep parses `using`, not `param <name> = <value>` (the bicepparam
    grammar): each assignment is read as the `var` it is shaped like, so its value is
    parsed by the same grammar as a template's.
    """
    as_template = _PARAM_ASSIGNMENT.sub(r"var\1", params_text)
    tree, src = _parse(as_template)
    syntax = _syntax_findings(tree.root_node, src)
    if syntax:
        return syntax
    findings: list[BicepFinding] = []
    using = [n for n in tree.root_node.named_children if n.type == "using_statement"]
    if len(using) != 1 or _string_value(_named(using[0])[0], src) != template_name:
        findings.append(BicepFinding(1, 1, f"the file must start with `using '{template_name}'`"))
    signatures = parameter_signatures(template_text)
    assigned: dict[str, tuple[Value, int, int]] = {}
    for node in tree.root_node.named_children:
        if node.type != "variable_declaration":
            continue
        parts = _named(node)
        name = _text(src, parts[0])
        assigned[name] = (_BodyReader(src).value(parts[-1], ()), *_pos(src, node))
    for name, (value, line, col) in assigned.items():
        signature = signatures.get(name)
        if signature is None:
            findings.append(BicepFinding(line, col, f"`{name}` is not a parameter of "
                                         f"{template_name} (BCP259)",
                                         did_you_mean(name, sorted(signatures))))
            continue
        problem = _parameter_value_problem(signature, value)
        if problem:
            findings.append(BicepFinding(line, col, f"`{name}` {problem}"))
    for name, signature in signatures.items():
        if not signature.has_default and name not in assigned:
            findings.append(BicepFinding(1, 1, f"required parameter `{name}` of {template_name} "
                                         "is not assigned (BCP258)"))
    return sorted(findings, key=lambda f: (f.line, f.col))


def _parameter_value_problem(signature: ParameterSignature, value: Value) -> str:
    if isinstance(value, Expression):
        return ""
    declared = signature.type
    expected = "array" if declared.endswith("[]") else _KIND_OF_TYPE.get(declared)
    if expected and _kind_of(value) != expected:
        return f"is {_kind_of(value)}, but main.bicep declares {declared}"
    if declared.endswith("[]") and isinstance(value, list):
        item_kind = _KIND_OF_TYPE.get(declared[:-2])
        if item_kind and any(_kind_of(v) != item_kind for v in value
                             if not isinstance(v, Expression)):
            return f"holds items that are not {declared[:-2]}"
    limits = signature.decorators
    size = len(value) if isinstance(value, (list, str, dict)) else None
    if size is not None and isinstance(limits.get("minLength"), int) and size < limits["minLength"]:
        return f"has length {size}, below its @minLength({limits['minLength']})"
    if size is not None and isinstance(limits.get("maxLength"), int) and size > limits["maxLength"]:
        return f"has length {size}, above its @maxLength({limits['maxLength']})"
    if isinstance(value, int) and not isinstance(value, bool):
        if isinstance(limits.get("minValue"), int) and value < limits["minValue"]:
            return f"is {value}, below its @minValue({limits['minValue']})"
        if isinstance(limits.get("maxValue"), int) and value > limits["maxValue"]:
            return f"is {value}, above its @maxValue({limits['maxValue']})"
    return ""
