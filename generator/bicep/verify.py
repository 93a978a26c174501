"""The Bicep backend's checks: every rendered .bicep file parsed and its resource bodies
checked against the Azure type data (AKM44x, AKM50x), and the .bicepparam file against its
template."""

from __future__ import annotations

from pathlib import Path

from .. import facts
from ..diagnostics import Diagnostic, diagnostic
from ..plan_records import Plan


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
        syntax, bodies, gaps = bicep_findings(text, library, where)
        for type_name, (line, col) in gaps.items():
            unchecked.setdefault(type_name, (where, line, col))
        diagnostics += syntax + bodies
        if not syntax:
            diagnostics += unused_parameters(text, where) + \
                shadowed_functions(text, facts.BICEP_FUNCTIONS, where)
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
        diagnostics += bicepparam_findings(files[params], "main.bicep", files["bicep/main.bicep"],
                                           f"{plan.name}/{params}")
    return diagnostics
