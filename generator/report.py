"""Reporters: a name → a pure function from diagnostics to text. No logic beyond layout."""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from typing import Any

from .diagnostics import CODES, Diagnostic, Severity


def render_text(diagnostics: Sequence[Diagnostic]) -> str:
    return "".join(d.format_text() + "\n" for d in diagnostics)


def render_json(diagnostics: Sequence[Diagnostic]) -> str:
    records = [
        {
            "file": d.file,
            "line": d.line,
            "col": d.col,
            "code": d.code,
            "severity": str(d.severity),
            "title": CODES[d.code].title,
            "message": d.message,
            "hint": d.hint,
            "path": list(d.path),
        }
        for d in diagnostics
    ]
    return json.dumps(records, indent=2, sort_keys=True) + "\n"


SARIF_SCHEMA = "https://docs.oasis-open.org/sarif/sarif/v2.1.0/errata01/os/schemas/sarif-schema-2.1.0.json"
_SARIF_LEVEL = {Severity.ERROR: "error", Severity.WARNING: "warning", Severity.NOTE: "note"}


def render_sarif(diagnostics: Sequence[Diagnostic]) -> str:
    """SARIF 2.1.0, as GitHub code scanning loads it: one run, every code as a rule."""
    from importlib.metadata import PackageNotFoundError, version

    try:
        tool_version = version("aksmesh")
    except PackageNotFoundError:  # running from a checkout that is not installed
        tool_version = "0.0.0"
    index = {code: i for i, code in enumerate(CODES)}
    rules = [
        {
            "id": code.id,
            "name": "".join(word.capitalize() for word in code.title.split()),
            "shortDescription": {"text": code.title},
            "fullDescription": {"text": code.explanation},
            "defaultConfiguration": {"level": _SARIF_LEVEL[code.severity]},
            "help": {"text": f"{code.explanation}\n\nExample:\n{code.example}"},
        }
        for code in CODES.values()
    ]
    results = [
        {
            "ruleId": d.code,
            "ruleIndex": index[d.code],
            "level": _SARIF_LEVEL[d.severity],
            "message": {"text": f"{d.message}. Hint: {d.hint}" if d.hint else d.message},
            "locations": [{"physicalLocation": {
                "artifactLocation": {"uri": d.file.replace("\\", "/")},
                "region": {"startLine": d.line, "startColumn": d.col},
            }}],
        }
        for d in diagnostics
    ]
    log = {
        "$schema": SARIF_SCHEMA,
        "version": "2.1.0",
        "runs": [{
            "tool": {"driver": {"name": "aksmesh", "version": tool_version,
                                "informationUri": "https://github.com/aksmesh/aksmesh",
                                "rules": rules}},
            "results": results,
        }],
    }
    return json.dumps(log, indent=2, sort_keys=True) + "\n"


def summary(diagnostics: Sequence[Diagnostic]) -> str:
    counts = [(sum(d.severity is severity for d in diagnostics), str(severity))
              for severity in (Severity.ERROR, Severity.WARNING, Severity.NOTE)]
    return ", ".join(f"{n} {name}{'s' * (n != 1)}" for n, name in counts if n or name != "note")


FORMATS: dict[str, Callable[[Sequence[Diagnostic]], str]] = {
    "text": render_text,
    "json": render_json,
    "sarif": render_sarif,
}


# ---------------------------------------------------------------- changes (plan --diff)


def render_changes(name: str, tree: object, changes: Sequence[Any] | None) -> str:
    """Each change against the committed state record: class, key, what and its effect."""
    if changes is None:
        return f"{name}: no state record in {tree}: a first render, nothing runs yet"
    if not changes:
        return f"{name}: no change against {tree}"
    lines = [f"{name}: {len(changes)} change{'s' * (len(changes) != 1)} against {tree}"]
    for change in changes:
        code = f" ({change.code})" if change.code else ""
        lines.append(f"  {change.klass:<10}  {change.key}: {change.summary}{code}")
        lines.append(f"              {change.effect}")
    return "\n".join(lines)


def changes_json(changes: Sequence[Any] | None) -> dict[str, Any]:
    return {"formatVersion": 1, "recorded": changes is not None,
            "changes": [c.to_json() for c in changes or ()]}
