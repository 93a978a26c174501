"""Reporters: a name → a pure function from diagnostics to text. No logic beyond layout."""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence

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


def summary(diagnostics: Sequence[Diagnostic]) -> str:
    counts = [(sum(d.severity is severity for d in diagnostics), str(severity))
              for severity in (Severity.ERROR, Severity.WARNING, Severity.NOTE)]
    return ", ".join(f"{n} {name}{'s' * (n != 1)}" for n, name in counts if n or name != "note")


FORMATS: dict[str, Callable[[Sequence[Diagnostic]], str]] = {
    "text": render_text,
    "json": render_json,
}
