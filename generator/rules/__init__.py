"""Stage 2, the rules: the schema, then the rules of Azure, AKS and Cilium, by family, in
the manner of yamllint's `rules/`.

Rules are small pure functions that yield `Finding`s naming a topology path; they never
compute positions (the `Document` does). Two passes, because planning needs parseable input:
`document_findings` (the schema, then address syntax) runs on the raw data, `plan_findings`
(everything that needs derived values, or the whole mesh at once) runs on the `Plan`. The
schema translation is `schema.py`; each family module holds its rule functions side by side,
names them in its `RULES` tuple (the address family also in `DOCUMENT_RULES`) and declares
the codes they yield in its `CODES` tuple, which `diagnostics.codes()` joins into the
registry. A new rule is a function in its family module, its entry in that module's
tuples, and its test. (`aksmesh check` is the drift gate, not this stage.)
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING, Any

from ..diagnostics import Finding
from . import addresses, day2, mesh, names, platform
from .schema import check_schema

if TYPE_CHECKING:  # the registry imports the families: keep them light
    from ..plan_records import Plan

# Run on the document once the schema passes: planning needs the addresses parsed.
DOCUMENT_RULES: tuple[Callable[[dict[str, Any]], Iterable[Finding]], ...] = \
    addresses.DOCUMENT_RULES
# Run on the plan: what needs derived values, or the whole mesh at once. Findings are
# sorted by position afterwards, so the order here decides nothing.
PLAN_RULES: tuple[Callable[[Plan], Iterable[Finding]], ...] = (
    names.RULES + addresses.RULES + platform.RULES + mesh.RULES + day2.RULES
)


def document_findings(data: Any, schema: dict[str, Any]) -> list[Finding]:
    findings = list(check_schema(data, schema))
    if not findings:
        findings = [finding for rule in DOCUMENT_RULES for finding in rule(data)]
    return findings


def plan_findings(plan: Plan) -> list[Finding]:
    return [finding for rule in PLAN_RULES for finding in rule(plan)]
