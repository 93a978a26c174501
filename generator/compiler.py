"""The pipeline, wired: load → check → plan → render → verify. No printing, no exiting.

The CLI calls these functions and decides what to show and which exit code to return.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from .check import check_document, check_plan
from .diagnostics import Diagnostic, has_errors, strict as strictly
from .load import Document, LoadError, load_schema, load_topology
from .plan import Plan, plan_topology
from .verify import References


@dataclass(frozen=True)
class Options:
    strict: bool = False
    references: References = References()


@dataclass
class Result:
    """What compiling one topology produced: findings, and the plan and files if it got there."""

    file: str
    diagnostics: list[Diagnostic] = field(default_factory=list)
    plan: Plan | None = None
    files: dict[str, str] | None = None

    @property
    def ok(self) -> bool:
        return not has_errors(self.diagnostics)


def validate(path: Path, options: Options = Options(), display: str | None = None) -> Result:
    """Load, check and plan one topology."""
    result = Result(display or str(path))
    try:
        document = load_topology(path, result.file)
    except LoadError as error:
        result.diagnostics = [error.diagnostic]
        return result
    schema = load_schema()
    findings = check_document(document.data, schema)
    if not findings:
        plan = plan_topology(document.data, schema)
        findings = check_plan(plan)
        result.plan = plan
    result.diagnostics = _finish(document, findings, options)
    return result


def compile_topology(path: Path, options: Options = Options(), display: str | None = None
                     ) -> Result:
    """Validate, then render and verify the output tree in memory."""
    from .render import render
    from .verify import verify

    result = validate(path, options, display)
    if result.ok and result.plan is not None:
        files = render(result.plan)
        findings = verify(result.plan, files, options.references)
        result.diagnostics += strictly(findings) if options.strict else findings
        if result.ok:
            result.files = files
    return result


def _finish(document: Document, findings: list, options: Options) -> list[Diagnostic]:
    diagnostics = sorted(document.locate(f) for f in findings)
    return strictly(diagnostics) if options.strict else diagnostics
