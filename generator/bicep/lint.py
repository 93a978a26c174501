"""Linter rules over a whole Bicep file."""

from __future__ import annotations

import functools
import re
from collections.abc import Iterator

import tree_sitter
import tree_sitter_bicep

from ..diagnostics import Diagnostic, diagnostic
from .read import named_parts, parse, node_pos, node_text


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
            parts = named_parts(node)
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
                named_parts(parent) and named_parts(parent)[0] == node:
            continue
        found.add(match.group(1).decode())
    return found


def unused_parameters(text: str, file: str = "") -> list[Diagnostic]:
    """no-unused-params: every `param` is referenced somewhere in its file."""
    tree, src = parse(text)
    declared = [named_parts(node)[0] for node in tree.root_node.named_children
                if node.type == "parameter_declaration"]
    used = _referenced(tree.root_node, src, [node_text(src, name) for name in declared])
    return [diagnostic("AKM441", file, *node_pos(src, name),
                       f"parameter `{node_text(src, name)}` is never used (no-unused-params)",
                       "leave the parameter out where nothing needs it")
            for name in declared if node_text(src, name) not in used]


def shadowed_functions(text: str, functions: frozenset[str], file: str = ""
                       ) -> list[Diagnostic]:
    """No declared name hides a Bicep function of the same name."""
    tree, src = parse(text)
    return sorted((diagnostic("AKM442", file, *node_pos(src, node),
                              f"`{node_text(src, node)}` hides the Bicep function "
                              f"{node_text(src, node)}() in this file",
                              "give the symbol a name of its own")
                   for node in _symbol_nodes(tree.root_node)
                   if node_text(src, node) in functions),
                  key=lambda f: (f.line, f.col))
