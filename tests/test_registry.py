"""The registry of codes is complete: every code used is registered and tested, and each
rule family declares the codes its rules yield."""

import ast
import re

import pytest

from conftest import PROJECT
from generator import rules
from generator.diagnostics import READING, codes, registry
from generator.rules import addresses, day2, mesh, names, platform, schema

CODE = re.compile(r"AKM\d{3}")
FAMILIES = (schema, names, mesh, addresses, platform, day2)


def _codes_in(paths):
    return {code for path in paths for code in CODE.findall(path.read_text())}


def test_every_code_used_in_the_generator_is_registered():
    used = _codes_in((PROJECT / "generator").rglob("*.py")) - {"AKM000"}
    assert used <= set(codes())


def test_every_registered_code_is_exercised_by_a_test():
    tested = _codes_in((PROJECT / "tests").rglob("test_*.py")) - _codes_in(
        [PROJECT / "tests" / "test_registry.py"])
    assert set(codes()) - tested == set()


def test_every_code_has_a_title_and_an_explanation():
    for code in codes().values():
        assert code.title and code.explanation.endswith("."), code.id


def test_a_code_declared_twice_is_refused():
    with pytest.raises(ValueError, match=f"duplicate diagnostic code {READING[0].id}"):
        registry(READING + READING[:1])


def test_the_registry_holds_every_family_s_codes():
    registered = codes()
    for family in FAMILIES:
        for code in family.CODES:
            assert registered[code.id] is code, code.id


def _yielded(module) -> set[str]:
    """The codes a module's source names as a whole string outside its CODES declaration
    (Finding("AKMnnn", ...)); a docstring that mentions a code names no finding."""
    tree = ast.parse(open(module.__file__, encoding="utf-8").read())
    outside = [node for node in tree.body if not (
        isinstance(node, ast.Assign) and [ast.unparse(t) for t in node.targets] == ["CODES"])]
    return {node.value for top in outside for node in ast.walk(top)
            if isinstance(node, ast.Constant) and isinstance(node.value, str)
            and CODE.fullmatch(node.value)}


@pytest.mark.parametrize("family", FAMILIES, ids=lambda m: m.__name__.rsplit(".", 1)[-1])
def test_a_family_yields_exactly_the_codes_it_declares(family):
    assert _yielded(family) == {code.id for code in family.CODES}


def test_every_rule_belongs_to_a_family():
    assert set(rules.PLAN_RULES) | set(rules.DOCUMENT_RULES) == {
        rule for family in FAMILIES for rule in
        getattr(family, "RULES", ()) + getattr(family, "DOCUMENT_RULES", ())}


def test_building_the_registry_imports_no_heavy_library_nor_the_plan():
    # The docs, the reporters and every diagnostic read the registry; it joins the rule
    # families', which must stay light to import (their planning types only annotate).
    import subprocess
    import sys

    program = ("import sys; from generator.diagnostics import codes; codes(); "
               "print(' '.join(sorted(sys.modules)))")
    loaded = set(subprocess.run([sys.executable, "-c", program], check=True, cwd=PROJECT,
                                capture_output=True, text=True).stdout.split())
    heavy = {"jinja2", "yaml", "ruamel.yaml", "jsonschema_rs", "jsonschema", "cryptography",
             "generator.plan"}
    assert loaded & heavy == set()
