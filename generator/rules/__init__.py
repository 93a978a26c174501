"""The rules of the check stage, by family, in the manner of yamllint's `rules/`.

Each family module holds its rule functions side by side and names them in its `RULES`
tuple (the address family also in `DOCUMENT_RULES`, run on the raw document); the codes
they yield are registered once in `diagnostics.py`. A new rule is a function in its family
module, its entry in that module's tuple, and its test.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

from ..diagnostics import Finding
from ..plan_records import Plan
from . import addresses, day2, mesh, names, platform

# Run on the document once the schema passes: planning needs the addresses parsed.
DOCUMENT_RULES: tuple[Callable[[dict[str, Any]], Iterable[Finding]], ...] = \
    addresses.DOCUMENT_RULES
# Run on the plan: what needs derived values, or the whole mesh at once. Findings are
# sorted by position afterwards, so the order here decides nothing.
PLAN_RULES: tuple[Callable[[Plan], Iterable[Finding]], ...] = (
    names.RULES + addresses.RULES + platform.RULES + mesh.RULES + day2.RULES
)
