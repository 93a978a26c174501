"""Shared test helpers: topologies written inline, expectations written as markers.

A line of an inline topology that ends in `# !AKM305` declares that a diagnostic with that
code is expected on that line; `expected()` collects them, so each test states its
expectation next to the YAML that causes it.
"""

from __future__ import annotations

import os
import re
import textwrap
from pathlib import Path

import pytest

from generator import compiler
from generator.cache import CACHE_DIR_ENV

PROJECT = Path(__file__).resolve().parent.parent
REFERENCE = PROJECT.parent / "shared" / "reference"


@pytest.fixture(autouse=True, scope="session")
def private_cache(tmp_path_factory):
    """The suite derives its own cache (and so starts cold), away from the user's."""
    os.environ[CACHE_DIR_ENV] = str(tmp_path_factory.mktemp("aksmesh-cache"))


VALID = """\
name: mesh
kubernetesVersion: "1.36"
clusters:
  - name: ne
    id: 1
    region: northeurope
    vnetCidr: 10.10.0.0/16
    nodeSubnetCidr: 10.10.0.0/22
    podCidr: 10.110.0.0/16
    serviceCidr: 10.210.0.0/16
  - name: we
    id: 2
    region: westeurope
    vnetCidr: 10.20.0.0/16
    nodeSubnetCidr: 10.20.0.0/22
    podCidr: 10.120.0.0/16
    serviceCidr: 10.220.0.0/16
"""

def bootstrap_sync(path: str) -> str:
    """The gotk-sync.yaml that `flux bootstrap --path=<path>` commits beside our files."""
    return f"""\
---
apiVersion: source.toolkit.fluxcd.io/v1
kind: GitRepository
metadata:
  name: flux-system
  namespace: flux-system
spec:
  interval: 1m0s
  ref:
    branch: main
  secretRef:
    name: flux-system
  url: ssh://git@github.com/example/fleet
---
apiVersion: kustomize.toolkit.fluxcd.io/v1
kind: Kustomization
metadata:
  name: flux-system
  namespace: flux-system
spec:
  interval: 10m0s
  path: ./{path}
  prune: true
  sourceRef:
    kind: GitRepository
    name: flux-system
"""


def mutate(*pairs: tuple[str, str]) -> str:
    """VALID with each `old` text replaced, once, by `new`; `old` must be there."""
    text = VALID
    for old, new in pairs:
        assert old in text, old
        text = text.replace(old, new, 1)
    return text


_MARKER = re.compile(r"#\s*!(AKM\d{3})")


def expected(text: str) -> list[tuple[str, int]]:
    return sorted((code, number)
                  for number, line in enumerate(text.splitlines(), start=1)
                  for code in _MARKER.findall(line))


@pytest.fixture
def diagnose(tmp_path):
    """Validate an inline topology; return its diagnostics."""

    def run(text: str, strict: bool = False):
        path = tmp_path / "topology.yaml"
        path.write_text(textwrap.dedent(text), encoding="utf-8")
        return compiler.validate(path, compiler.Options(strict=strict)).diagnostics

    return run


@pytest.fixture
def found(diagnose):
    """(code, line) of every diagnostic, for comparison with `expected(text)`."""

    def run(text: str):
        return sorted((d.code, d.line) for d in diagnose(text))

    return run
