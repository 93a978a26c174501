"""The package stays readable in parts: no module over 400 lines, no function over 60
(issue 11). The generated compiled_templates.py is the one exception: it is the templates,
not code anyone reads or edits."""

from __future__ import annotations

import ast

import pytest

from conftest import PROJECT

MODULES = sorted(p for p in (PROJECT / "generator").rglob("*.py")
                 if p.name != "compiled_templates.py")
MAX_MODULE_LINES, MAX_FUNCTION_LINES = 400, 60


@pytest.mark.parametrize("module", MODULES, ids=lambda p: str(p.relative_to(PROJECT)))
def test_modules_and_functions_stay_small(module):
    text = module.read_text(encoding="utf-8")
    assert text.count("\n") <= MAX_MODULE_LINES, "split the module along a seam"
    long = [f"{node.name} ({node.end_lineno - node.lineno + 1} lines)"
            for node in ast.walk(ast.parse(text))
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef))
            and node.end_lineno - node.lineno + 1 > MAX_FUNCTION_LINES]
    assert not long, long
