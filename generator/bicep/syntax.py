"""Syntax findings of a Bicep text: tree-sitter's ERROR and missing nodes, located."""

from __future__ import annotations

import tree_sitter

from ..diagnostics import Diagnostic, diagnostic
from .read import parse, node_pos, node_text

SYNTAX_CODE = "AKM501"
_CLOSER = {"{": "}", "[": "]", "(": ")"}


def syntax_errors(text: str, file: str = "") -> list[Diagnostic]:
    """The syntax errors of a Bicep text, placed in `file` (the caller's name for it)."""
    tree, src = parse(text)
    return syntax_findings(tree.root_node, src, file)


def syntax_findings(root: tree_sitter.Node, src: bytes, file: str = "",
                    code: str = SYNTAX_CODE) -> list[Diagnostic]:
    """`code`: a .bicepparam file's syntax errors are findings of its own check."""
    findings: list[Diagnostic] = []
    stack = [root] if root.has_error else []
    while stack:
        node = stack.pop()
        if node.is_missing:
            findings.append(diagnostic(code, file, *node_pos(src, node),
                                       f"missing `{node.type}`"))
        elif node.is_error:
            # Nested ERROR nodes repeat the outer one; report the outermost only.
            findings.append(_error_finding(node, src, file, code))
        else:
            stack.extend(c for c in node.children if c.has_error or c.is_missing)
    return sorted(findings, key=lambda f: (f.line, f.col))


def _error_finding(node: tree_sitter.Node, src: bytes, file: str, code: str) -> Diagnostic:
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
        return diagnostic(
            code, file, *node_pos(src, opener),
            f"missing `{_CLOSER[opener.type]}`",
            f"the `{opener.type}` here is never closed",
        )
    snippet = node_text(src, node).strip().split("\n", 1)[0].strip()
    if len(snippet) > 40:
        snippet = snippet[:37] + "..."
    return diagnostic(code, file, *node_pos(src, node), f"syntax error near `{snippet}`")
