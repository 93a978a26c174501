"""The backends by name: what render and verify iterate, as check-jsonschema keeps its
reporters in REPORTER_BY_NAME. Each declares itself in its package (backend.Backend)."""

from __future__ import annotations

from .backend import Backend, CaWiring
from .bicep import BICEP
from .flux import FLUX

BACKENDS: dict[str, Backend] = {backend.name: backend for backend in (BICEP, FLUX)}


def ca_wiring() -> CaWiring:
    """The wiring of the one backend that carries the shared CA to the clusters."""
    [wiring] = [backend.ca for backend in BACKENDS.values() if backend.ca is not None]
    return wiring
