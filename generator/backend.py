"""The seam between the pipeline and a backend: what each backend declares.

A backend turns the plan into the files one consumer reads (Bicep for Azure Resource
Manager; Flux manifests and Cilium values for the clusters), names the checks verify runs
on them, and may carry the mesh's shared CA to the clusters. render and verify iterate
`backends.BACKENDS`; a new backend (Argo CD beside Flux, OpenTofu beside Bicep) is one
package with its declaration, its templates under templates/<name>/, and its tests.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .ca import SharedCa
    from .diagnostics import Diagnostic
    from .plan_records import Plan
    from .render import CaContext, Rendered
    from .templating import Templates
    from .verify import Sources

    RenderFiles = Callable[[Plan, Templates, SharedCa | None, CaContext], "Output"]
    Check = Callable[[Plan, Rendered, Sources], list[Diagnostic]]


@dataclass(frozen=True)
class CaWiring:
    """How a backend brings the shared CA to the clusters."""

    secret_namespace: str  # the CA Secret's namespace: its consumer reads it there only
    directory: str  # where the tree keeps the encrypted CA file


@dataclass(frozen=True)
class Output:
    """A backend's share of the tree, and the data its files were written from."""

    files: dict[str, str]
    data: Any = None  # what its checks read besides the text (Flux: the Cilium values)


@dataclass(frozen=True)
class Backend:
    name: str
    render: RenderFiles
    # What verify runs on the rendered tree, in this order (an explicit tuple, no discovery).
    checks: tuple[Check, ...]
    # What its templates call besides the pipeline's own filters (render.template_env).
    template_filters: Mapping[str, Callable[..., Any]] = field(default_factory=dict)
    template_globals: Mapping[str, Callable[..., Any]] = field(default_factory=dict)
    ca: CaWiring | None = None  # None: the backend does not carry the shared CA
