"""The Bicep backend's checks: every rendered .bicep file parsed and its resource bodies
checked against the Azure type data (AKM44x, AKM50x), and the .bicepparam file against its
template."""

from __future__ import annotations

from pathlib import Path

from .. import facts
from ..diagnostics import Diagnostic, diagnostic
from ..plan import Plan


def verify_bicep_files(plan: Plan, files: dict[str, str], types_dir: Path | None
                       ) -> list[Diagnostic]:
    """Syntax, and with type data (always, but in unit tests) every resource body."""
    # tree-sitter is imported only by the commands that verify.
    from .lint import shadowed_functions, unused_parameters
    from .params import bicepparam_findings
    from .type_data import TypeLibrary
    from .typecheck import bicep_findings

    library = TypeLibrary.from_directory(types_dir) if types_dir else None
    diagnostics = []
    unchecked: dict[str, tuple[str, int, int]] = {}  # type without type data -> first use
    for path, text in files.items():
        if not path.endswith(".bicep"):
            continue
        where = f"{plan.name}/{path}"
        syntax, bodies = bicep_findings(text, library)
        gaps = [f for f in bodies if f.missing_type in facts.TYPES_WITHOUT_REFERENCE_DATA]
        for finding in gaps:
            unchecked.setdefault(finding.missing_type, (where, finding.line, finding.col))
        diagnostics += [diagnostic(code, where, f.line, f.col, f.message, f.hint)
                        for code, found in (("AKM501", syntax),
                                            ("AKM502", [f for f in bodies if f not in gaps]))
                        for f in found]
        if not syntax:
            diagnostics += [diagnostic(code, where, f.line, f.col, f.message, f.hint)
                            for code, found in (
                                ("AKM441", unused_parameters(text)),
                                ("AKM442", shadowed_functions(text, facts.BICEP_FUNCTIONS)))
                            for f in found]
    # Said once per type, where it is first declared: the gap is the data's, not the file's.
    for type_name, (where, line, col) in sorted(unchecked.items()):
        diagnostics.append(diagnostic(
            "AKM440", where, line, col,
            f"no type data for {type_name}@{facts.API_VERSIONS[type_name]}: "
            "its bodies are checked for syntax only",
            "derive its types.json (Azure/bicep-types-az generated/) with `make data`, "
            "then drop it from facts.TYPES_WITHOUT_REFERENCE_DATA"))
    params = "bicep/main.bicepparam"
    if params in files:
        diagnostics += [diagnostic("AKM443", f"{plan.name}/{params}", f.line, f.col,
                                   f.message, f.hint)
                        for f in bicepparam_findings(files[params], "main.bicep",
                                                     files["bicep/main.bicep"])]
    return diagnostics
