"""Stage 5, verify: every rendered file checked offline before anything is written.

A finding here means aksmesh rendered something wrong: it is reported against the
rendered file and stops the write. Everything is checked against the data aksmesh ships
(`shipped`: Azure type data, Flux and Cilium CRD schemas, the Cilium chart's values
schema, Kubernetes core schemas); the user may give other data instead (`--bicep-types`,
`--crd-schemas`, `--cilium-values-schema`), the way kubeconform takes a schema location.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from . import shipped
from .diagnostics import Diagnostic, diagnostic
from .load import LoadError
from .plan_records import Plan

if TYPE_CHECKING:  # render is imported only by the commands that render
    from .render import Rendered


@dataclass(frozen=True)
class References:
    """Schema data the user passes in instead of the shipped data; empty where not given."""

    bicep_types: Path | None = None
    crd_schemas: tuple[Path, ...] = ()  # <group>/<kind>_<version>.json, as kubeconform reads
    cilium_values_schema: Path | None = None

    def resolved(self, plan: Plan) -> Sources:
        """What a render of `plan` is checked against: what the user gave, else the data
        aksmesh ships for the plan's Cilium and Kubernetes versions."""
        return Sources(
            self.bicep_types or shipped.bicep_types(),
            self.crd_schemas or shipped.crd_schemas(plan.cilium_version),
            self.cilium_values_schema or shipped.cilium_values_schema(plan.cilium_version),
            shipped.kubernetes_schemas(plan.kubernetes_version),
            # A rollout wave may pin another Cilium version: its clusters' values are
            # checked against that chart's schema.
            {c.cilium_version: self.cilium_values_schema
             or shipped.cilium_values_schema(c.cilium_version) for c in plan.clusters})

    def described(self, plan: Plan) -> dict[str, str]:
        """What each check is made against, in words, for the generated README. Data given
        that is the shipped data itself (links to its files) is described as such."""
        return shipped.described(
            plan.cilium_version, plan.kubernetes_version,
            bicep_types=not shipped.is_shipped(self.bicep_types),
            crd_schemas=not all(map(shipped.is_shipped, self.crd_schemas)),
            cilium_values_schema=not shipped.is_shipped(self.cilium_values_schema))


@dataclass(frozen=True)
class Sources:
    bicep_types: Path
    crd_schemas: tuple[Path, ...]
    cilium_values_schema: Path | None  # None: no data for the version (check refuses it)
    kubernetes_schemas: Path | None  # <kind>-<version>.json of the core kinds, or None
    values_schemas: Mapping[str, Path | None] = field(default_factory=dict)  # by Cilium version


def verify(plan: Plan, rendered: "Rendered", references: References) -> list[Diagnostic]:
    """Every backend's checks (backends.BACKENDS), then the whole tree's scan for secrets."""
    from .backends import BACKENDS

    sources = references.resolved(plan)
    diagnostics = []
    for backend in BACKENDS.values():
        for check in backend.checks:
            try:
                diagnostics += check(plan, rendered, sources)
            except LoadError as error:  # a schema that cannot be read: that check cannot run
                diagnostics.append(_damaged_if_shipped(error.diagnostic))
    return diagnostics + scan_for_secrets(plan, rendered.files)


def _damaged_if_shipped(unusable: Diagnostic) -> Diagnostic:
    """A shipped file that cannot be used is not the user's to fix: the install is damaged."""
    if not Path(unusable.file).resolve().is_relative_to(shipped.DATA.resolve()):
        return unusable
    return diagnostic("AKM604", unusable.file, unusable.line, unusable.col,
                      f"the verification data aksmesh ships is damaged: {unusable.message}",
                      "reinstall aksmesh (pip install --force-reinstall aksmesh); in a "
                      "checkout, `git checkout generator/data` or `make data`")


# ---------------------------------------------------------------- secrets

_CLEAR_SECRET = re.compile(r"PRIVATE KEY-----|AGE-SECRET-KEY-1")


def scan_for_secrets(plan: Plan, files: dict[str, str]) -> list[Diagnostic]:
    """No private key in clear in any file, and every Secret's data encrypted by sops."""
    from .ca import is_encrypted_secret

    diagnostics = []
    for path, text in files.items():
        where = f"{plan.name}/{path}"
        match = _CLEAR_SECRET.search(text)
        if match:
            line = text.count("\n", 0, match.start()) + 1
            diagnostics.append(diagnostic("AKM515", where, line, 1,
                                          "a private key in clear"))
        elif re.search(r"^kind:\s*Secret\s*$", text, re.MULTILINE) and \
                not is_encrypted_secret(text):
            diagnostics.append(diagnostic("AKM515", where, 1, 1,
                                          "a Secret whose values are not sops-encrypted"))
    return diagnostics
