"""Stage 5, verify: every rendered file checked offline before anything is written.

A finding here means aksmesh rendered something wrong: it is reported against the
rendered file and stops the write. What cannot be checked is said, as a note.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from .diagnostics import Diagnostic, diagnostic
from .plan import Plan


@dataclass(frozen=True)
class References:
    """Schema data the user passes in; None where it was not given."""

    bicep_types: Path | None = None


def verify(plan: Plan, files: dict[str, str], references: References) -> list[Diagnostic]:
    return verify_bicep_files(plan, files, references.bicep_types)


def verify_bicep_files(plan: Plan, files: dict[str, str], types_dir: Path | None
                       ) -> list[Diagnostic]:
    from .bicep_verify import TypeLibrary, check_body, resource_declarations, syntax_errors

    library = TypeLibrary.from_directory(types_dir) if types_dir else None
    diagnostics = []
    for path, text in files.items():
        if not path.endswith(".bicep"):
            continue
        where = f"{plan.name}/{path}"
        findings = [("AKM501", f) for f in syntax_errors(text)]
        if library is not None and not findings:
            findings = [("AKM502", f) for declaration in resource_declarations(text)
                        for f in check_body(library, declaration)]
        diagnostics += [diagnostic(code, where, f.line, f.col, f.message, f.hint)
                        for code, f in findings]
    if library is None:
        diagnostics.append(diagnostic("AKM503", f"{plan.name}/bicep/main.bicep", 1, 1,
                                      "Bicep syntax checked; resource bodies not checked",
                                      "pass --bicep-types DIR to check them against the "
                                      "Azure type data"))
    return diagnostics
