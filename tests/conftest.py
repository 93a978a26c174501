"""Shared test helpers: topologies written inline, expectations written as markers.

A line of an inline topology that ends in `# !AKM305` declares that a diagnostic with that
code is expected on that line; `expected()` collects them, so each test states its
expectation next to the YAML that causes it.
"""

from __future__ import annotations

import contextlib
import io
import os
import re
import textwrap
from dataclasses import dataclass
from pathlib import Path

import pytest
from hypothesis import settings

from generator import compiler
from generator.cli import main
from generator.cache import CACHE_DIR_ENV

PROJECT = Path(__file__).resolve().parent.parent
# The upstream data the tests check against, laid out as the folder `make data` reads:
# links to the data aksmesh ships (generator/data), and the upstream files only the tests
# read. scripts/derive_data.py derives both; nothing outside the repository is needed.
REFERENCE = PROJECT / "tests" / "reference"


@pytest.fixture(autouse=True, scope="session")
def private_cache(tmp_path_factory):
    """The suite derives its own cache (and so starts cold), away from the user's."""
    os.environ[CACHE_DIR_ENV] = str(tmp_path_factory.mktemp("aksmesh-cache"))


# Hypothesis profiles. CI (`.ci/run` exports HYPOTHESIS_PROFILE=ci) runs derandomized: the
# same examples on every run, so that a landing cannot turn red by chance, and no example
# database. Local runs (`dev`, the default) keep exploring with fresh random examples and
# replay what they found from .hypothesis/. An example a local run finds is pinned as a
# regular test with `@example(...)` on the property, so CI checks it from then on. The
# profile is loaded here, before the test modules build their `settings(...)`, which
# inherit from it.
settings.register_profile("ci", derandomize=True, database=None, print_blob=True)
# Explicitly random: Hypothesis loads a derandomized profile of its own where the CI
# environment variable is set, and a profile registered then would inherit it.
settings.register_profile("dev", derandomize=False, print_blob=True)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "dev"))


@dataclass
class CliRun:
    exit_code: int
    stdout: str
    stderr: str

    @property
    def output(self) -> str:
        return self.stdout + self.stderr


def run_cli(*args: object) -> CliRun:
    """The command line in process (cli.main, which the console script ends in): arguments
    in; exit code, stdout and stderr out."""
    stdout, stderr = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(stdout), contextlib.redirect_stderr(stderr):
        try:
            main([str(a) for a in args])
            code = 0
        except SystemExit as exit_:
            code = exit_.code if isinstance(exit_.code, int) else 1
    return CliRun(code, stdout.getvalue(), stderr.getvalue())


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
aks:
  adminGroupObjectIds: [00000000-0000-0000-0000-000000000000]
  authorizedIpRanges: [203.0.113.0/24]
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


def large_mesh(count: int, extra: str = "") -> str:
    """`count` clusters in one region, each with ranges of its own: a mesh at Azure's and
    Cilium's limits, with `extra` top-level keys."""
    lines = ["name: big", 'kubernetesVersion: "1.36"', extra, "clusters:"]
    for i in range(count):
        lines += [f"  - name: c{i}", f"    id: {i + 1}", "    region: westeurope",
                  f"    vnetCidr: 10.{i // 64}.{(i % 64) * 4}.0/22",
                  f"    nodeSubnetCidr: 10.{i // 64}.{(i % 64) * 4}.0/24",
                  f"    podCidr: 100.{64 + i // 256}.{i % 256}.0/24",
                  "    serviceCidr: 192.168.0.0/16"]
    lines += ["aks:", "  adminGroupObjectIds: [00000000-0000-0000-0000-000000000000]",
              "  authorizedIpRanges: [203.0.113.0/24]"]
    return "\n".join(lines) + "\n"


# A third cluster for VALID, in the clusters' list.
FC = """\
  - name: fc
    id: 3
    region: francecentral
    vnetCidr: 10.30.0.0/16
    nodeSubnetCidr: 10.30.0.0/22
    podCidr: 10.130.0.0/16
    serviceCidr: 10.230.0.0/16
"""
# VALID with fc last, and rollout waves over the three (the day-2 tests).
THREE = VALID.replace("aks:\n", FC + "aks:\n", 1)
WAVES = THREE + """\
rollout:
  waves:
    - name: canary
      clusters: [fc]
      afterWaitSeconds: 3600
    - name: rest
      clusters: [ne, we]
"""


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


@pytest.fixture
def cilium_patch_release_data(monkeypatch):
    """Day-2 tests need a second Cilium version with verification data, and aksmesh ships
    data for 1.20.0 only: 1.20.1 is given 1.20.0's schemas (a patch release keeps the chart's
    values and the CRDs), as `make data` would ship them once derived."""
    import copy

    from generator import shipped

    index = copy.deepcopy(shipped.index())
    index["cilium"]["1.20.1"] = index["cilium"]["1.20.0"]
    monkeypatch.setattr(shipped, "index", lambda: index)
