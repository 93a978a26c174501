"""Stage 2, check: the schema, then the rules of Azure, AKS and Cilium.

Checks are small pure functions that yield `Finding`s naming a topology path; they never
compute positions (the `Document` does). Two passes, because planning needs parseable input:
`check_document` (schema and address syntax) runs on the raw data, `check_plan` (everything
that needs derived values, or the whole mesh at once) runs on the `Plan`. The schema
translation is `rules/schema.py`; the rules live by family in `rules/`.
"""

from __future__ import annotations

from typing import Any

from .diagnostics import Finding
from .plan_records import Plan
from .rules import DOCUMENT_RULES, PLAN_RULES
from .rules.schema import check_schema


def check_document(data: Any, schema: dict[str, Any]) -> list[Finding]:
    findings = list(check_schema(data, schema))
    if not findings:
        findings = [finding for rule in DOCUMENT_RULES for finding in rule(data)]
    return findings


def check_plan(plan: Plan) -> list[Finding]:
    return [finding for rule in PLAN_RULES for finding in rule(plan)]
