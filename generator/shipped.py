"""The verification data aksmesh ships in `generator/data/`, and what it covers.

The data is derived from upstream files by `scripts/derive_data.py` (`make data`), which
records where every file came from in `data/PROVENANCE.json`. render, check and validate
verify against it unless the user gives other data (--bicep-types, --crd-schemas,
--cilium-values-schema). Only paths and a small index are known here: the files themselves
are read, parsed and cached by the checks that use them, when they use them.
"""

from __future__ import annotations

import json
import os
from functools import cache
from pathlib import Path
from typing import Any

DATA = Path(__file__).resolve().parent / "data"


@cache
def index() -> dict[str, Any]:
    """data/index.json: which data exists for which version, where under data/."""
    with open(DATA / "index.json", encoding="utf-8") as handle:
        return json.load(handle)


def is_shipped(given: Path | None) -> bool:
    """Whether data given on the command line is the shipped data: no path, or only links
    to shipped files (the JSON files of a folder)."""
    if given is None:
        return True
    files = [given] if not given.is_dir() else [
        Path(root, name) for root, _, names in os.walk(given, followlinks=True)
        for name in names if name.endswith(".json")]
    return bool(files) and all(f.resolve().is_relative_to(DATA) for f in files)


def cilium_versions() -> tuple[str, ...]:
    return tuple(index()["cilium"])


def kubernetes_versions() -> tuple[str, ...]:
    return tuple(index()["kubernetes"])


def bicep_types() -> Path:
    return DATA / index()["azure"]["types"]


def crd_schemas(cilium_version: str) -> tuple[Path, ...]:
    """The Flux CRD schemas and those of the Cilium version (when shipped), in kubeconform's
    `<group>/<kind>_<version>.json` and `<kind>_<version>.json` layouts."""
    cilium = index()["cilium"].get(cilium_version)
    return (DATA / index()["flux"]["crds"],) + ((DATA / cilium["crds"],) if cilium else ())


def cilium_values_schema(cilium_version: str) -> Path | None:
    cilium = index()["cilium"].get(cilium_version)
    return DATA / cilium["values_schema"] if cilium else None


def kubernetes_schemas(kubernetes_version: str) -> Path | None:
    """The folder of core-kind schemas (`<kind>-<version>.json`) for a `major.minor`."""
    folder = index()["kubernetes"].get(kubernetes_version)
    return DATA / folder if folder else None


def azure_source() -> str:
    return index()["azure"]["source"]


def flux_version() -> str:
    return index()["flux"]["version"]


def kubernetes_source() -> str:
    return index()["kubernetes_source"]


def described(cilium_version: str, kubernetes_version: str, *, bicep_types: bool = False,
              crd_schemas: bool = False, cilium_values_schema: bool = False) -> dict[str, str]:
    """What each check of a render is made against, in words (the generated README's
    "What was verified"); True for data the user gave instead of the shipped data."""
    return {
        "bicep": "the Azure type data given with `--bicep-types`" if bicep_types else
                 f"the Azure type data the Bicep compiler uses ({azure_source()}, shipped "
                 "with aksmesh)",
        "crds": "the CRD schemas given with `--crd-schemas`" if crd_schemas else
                f"the CRD schemas of Flux {flux_version()} and Cilium {cilium_version} "
                "(shipped with aksmesh)",
        "values_schema": "the values schema given with `--cilium-values-schema`"
                  if cilium_values_schema else
                  f"the Cilium {cilium_version} chart's values schema (shipped with aksmesh)",
        "core": f"the Kubernetes {kubernetes_version} API schemas ({kubernetes_source()}, "
                "derived from the Kubernetes OpenAPI; shipped with aksmesh)",
    }
