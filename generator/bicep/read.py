"""Reading Bicep with tree-sitter-bicep: resource bodies, top-level declarations and
decorators as Python data, each with its position.

Values that are only known at deployment time (parameters, function calls, interpolated
strings, ...) become `Expression`.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from typing import Union

import tree_sitter
import tree_sitter_bicep


@dataclass(frozen=True)
class Expression:
    """A value that is not known offline; `text` is its Bicep source."""

    text: str

    def __str__(self) -> str:  # as a path or a message names it: its source
        return self.text


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
def parse(text: str) -> tuple[tree_sitter.Tree, bytes]:
    # Cached: verify reads each file for syntax, bodies and the linter rules, and the
    # parameters file check reads main.bicep again; trees are only read, never edited.
    src = text.encode("utf-8")
    return _parser().parse(src), src


def node_pos(src: bytes, node: tree_sitter.Node) -> tuple[int, int]:
    # tree-sitter columns are byte offsets; findings use characters.
    row, byte_col = node.start_point
    line_start = node.start_byte - byte_col
    return row + 1, len(src[line_start : node.start_byte].decode("utf-8", "replace")) + 1


def node_text(src: bytes, node: tree_sitter.Node) -> str:
    return src[node.start_byte : node.end_byte].decode("utf-8", "replace")


def named_parts(node: tree_sitter.Node) -> list[tree_sitter.Node]:
    return [c for c in node.named_children if c.type != "comment"]


# --------------------------------------------------------------------------- declarations

_ESCAPE = re.compile(r"\\(u\{[0-9A-Fa-f]+\}|.)", re.DOTALL)
_SIMPLE_ESCAPES = {"n": "\n", "r": "\r", "t": "\t", "\\": "\\", "'": "'", "$": "$"}


def _unescape(match: re.Match[str]) -> str:
    esc = match.group(1)
    if esc.startswith("u{"):
        return chr(int(esc[2:-1], 16))
    return _SIMPLE_ESCAPES.get(esc, match.group(0))


def string_value(node: tree_sitter.Node, src: bytes) -> str | Expression:
    raw = node_text(src, node)
    if node.has_error or any(c.type == "interpolation" for c in node.children):
        return Expression(raw)
    if raw.startswith("'''"):
        # Multi-line strings are verbatim; Bicep drops a newline right after the opener.
        body = raw[3:-3]
        return body[2:] if body.startswith("\r\n") else body[1:] if body.startswith("\n") else body
    return _ESCAPE.sub(_unescape, raw[1:-1])


class BodyReader:
    """Converts one resource body to Python data, recording positions by path."""

    def __init__(self, src: bytes) -> None:
        self.src = src
        self.positions: dict[BodyPath, tuple[int, int]] = {}

    def value(self, node: tree_sitter.Node, path: BodyPath) -> Value:
        kind = node.type
        if kind == "object":
            obj: dict[str | Expression, Value] = {}
            for prop in node.named_children:
                parts = named_parts(prop)
                if prop.type != "object_property" or len(parts) < 2:
                    continue  # comments, nested resource declarations, error recovery
                key_node, value_node = parts[0], parts[-1]
                key: str | Expression = (
                    string_value(key_node, self.src) if key_node.type == "string" else node_text(self.src, key_node)
                )
                self.positions[path + (key,)] = node_pos(self.src, key_node)
                obj[key] = self.value(value_node, path + (key,))
            return obj
        if kind == "array":
            items: list[Value] = []
            for i, item in enumerate(named_parts(node)):
                self.positions[path + (i,)] = node_pos(self.src, item)
                items.append(self.value(item, path + (i,)))
            return items
        if kind == "string":
            return string_value(node, self.src)
        if kind == "number":
            try:
                return int(node_text(self.src, node))
            except ValueError:
                pass
        elif kind == "boolean":
            return node_text(self.src, node) == "true"
        elif kind == "null":
            return None
        return Expression(node_text(self.src, node))


def resource_declarations(text: str) -> list[ResourceDeclaration]:
    tree, src = parse(text)
    return list(declarations(tree.root_node, src, None))


def declarations(
    node: tree_sitter.Node, src: bytes, parent: ResourceDeclaration | None
) -> Iterator[ResourceDeclaration]:
    for child in node.named_children:
        if child.type == "resource_declaration":
            decl, body_node = _declaration(child, src, parent)
            yield decl
            if body_node is not None:
                yield from declarations(body_node, src, decl)
        elif child.type == "object_property" and parent is not None:
            yield from declarations(child, src, parent)  # nested `resource` inside a body


def _unwrap_body(node: tree_sitter.Node | None) -> tree_sitter.Node | None:
    # `[for ...: if (c) {...}]` and `if (c) {...}`: the object is the last named child.
    while node is not None and node.type in ("for_statement", "if_statement"):
        body = node.child_by_field_name("body") if node.type == "for_statement" else None
        node = body if body is not None else (named_parts(node) or [None])[-1]
    return node


def _declaration(
    node: tree_sitter.Node, src: bytes, parent: ResourceDeclaration | None
) -> tuple[ResourceDeclaration, tree_sitter.Node | None]:
    parts = named_parts(node)
    symbol = node_text(src, parts[0]) if parts else ""
    type_node = next((p for p in parts if p.type == "string"), None)
    type_string = string_value(type_node, src) if type_node is not None else ""
    type_text = type_string if isinstance(type_string, str) else type_string.text
    type_name, _, api_version = type_text.partition("@")
    if parent is not None and "/" not in type_name:
        # A nested declaration names only the child segment and may omit the version.
        type_name = f"{parent.type}/{type_name}"
        api_version = api_version or parent.api_version
    value_node = parts[-1] if len(parts) >= 3 else None
    body_node = _unwrap_body(value_node)
    reader = BodyReader(src)
    body: dict[str | Expression, Value] | Expression
    if body_node is not None and body_node.type == "object":
        value = reader.value(body_node, ())
        assert isinstance(value, dict)
        body = value
    else:
        body = Expression(node_text(src, value_node) if value_node is not None else "")
        body_node = None
    line, col = node_pos(src, node)
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
    tree, src = parse(text)
    found = []
    for node in tree.root_node.named_children:
        if not node.type.endswith("_declaration"):
            continue
        parts = named_parts(node)
        value_node = parts[-1] if parts else None
        loop_over = condition = None
        if value_node is not None and value_node.type == "for_statement":
            loop_parts = named_parts(value_node)
            loop_over = node_text(src, loop_parts[1])
            value_node = value_node.child_by_field_name("body")
        if value_node is not None and value_node.type == "if_statement":
            condition_node, value_node = named_parts(value_node)[0], named_parts(value_node)[-1]
            condition = node_text(src, condition_node).removeprefix("(").removesuffix(")").strip()
        value = BodyReader(src).value(value_node, ()) if value_node is not None else None
        found.append(Declaration(node.type.removesuffix("_declaration"),
                                 node_text(src, parts[0]) if parts else "", value, loop_over,
                                 condition, node_pos(src, node)[0]))
    return found


def declaration_decorators(text: str) -> dict[str, dict[str, Value]]:
    """Top-level declaration name -> its decorators (`@batchSize(1)`: {"batchSize": 1}),
    each with its first argument read as data."""
    tree, src = parse(text)
    return {name: decorators for name, _, decorators in decorated(tree.root_node, src)}


def decorated(root: tree_sitter.Node, src: bytes
               ) -> Iterator[tuple[str, tree_sitter.Node, dict[str, Value]]]:
    decorators: dict[str, Value] = {}
    for node in root.named_children:
        if node.type == "decorators":
            for decorator in named_parts(node):
                call = named_parts(decorator)[0] if named_parts(decorator) else None
                if call is None or call.type != "call_expression":
                    continue
                name_node, *rest = named_parts(call)
                arguments = named_parts(rest[0]) if rest else []
                decorators[node_text(src, name_node)] = (
                    BodyReader(src).value(arguments[0], ()) if arguments else None)
            continue
        if node.type.endswith("_declaration"):
            parts = named_parts(node)
            if parts:
                yield node_text(src, parts[0]), node, decorators
        decorators = {}
