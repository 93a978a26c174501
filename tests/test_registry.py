"""The registry of codes is complete: every code used is registered and tested."""

import re

from conftest import PROJECT
from generator.diagnostics import CODES

CODE = re.compile(r"AKM\d{3}")


def _codes_in(paths):
    return {code for path in paths for code in CODE.findall(path.read_text())}


def test_every_code_used_in_the_generator_is_registered():
    used = _codes_in((PROJECT / "generator").glob("*.py")) - {"AKM000"}
    assert used <= set(CODES)


def test_every_registered_code_is_exercised_by_a_test():
    tested = _codes_in((PROJECT / "tests").glob("test_*.py")) - _codes_in(
        [PROJECT / "tests" / "test_registry.py"])
    assert set(CODES) - tested == set()


def test_every_code_has_a_title_and_an_explanation():
    for code in CODES.values():
        assert code.title and code.explanation.endswith("."), code.id
