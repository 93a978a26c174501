"""The backend seam: render and verify iterate backends.BACKENDS, so a backend added there
is rendered and checked with no other module changed; the backends' files never overlap."""

from __future__ import annotations

import pytest

from conftest import PROJECT
from generator import compiler
from generator.backend import Backend, Output
from generator.backends import BACKENDS, ca_wiring
from generator.diagnostics import diagnostic
from generator.inputs import load_shared_ca
from generator.render import CaContext, render, template_env
from generator.state import STATE_FILE

SEED_DEMO = PROJECT / "topologies" / "seed-demo.yaml"


@pytest.fixture(scope="module")
def demo():
    plan = compiler.validate(SEED_DEMO).plan
    return plan, load_shared_ca(SEED_DEMO)


def test_each_file_of_the_tree_comes_from_one_backend_or_the_pipeline(demo):
    plan, ca = demo
    context = CaContext(True, ca.secret_name, ca.file_name, ca.recipients)
    by_backend = {name: set(backend.render(plan, template_env(), ca, context).files)
                  for name, backend in BACKENDS.items()}
    assert sorted(by_backend) == ["bicep", "flux"]
    bicep, flux = by_backend["bicep"], by_backend["flux"]
    assert all(path.startswith("bicep/") for path in bicep)
    assert not bicep & flux and f"cilium-ca/{ca.file_name}" in flux
    # The mesh-wide pages and the state record are the pipeline's own.
    assert set(render(plan, ca).files) - bicep - flux == {"README.md", "TOPOLOGY.md", STATE_FILE}


def test_a_backend_added_to_the_registry_is_rendered_and_checked(demo, monkeypatch):
    plan, ca = demo
    checked = []

    def toy_check(plan, rendered, sources):
        checked.append(rendered.data["toy"])
        return [diagnostic("AKM511", f"{plan.name}/toy/apps.txt", 1, 1, "toy finding")]

    toy = Backend("toy", render=lambda plan, env, ca, context: Output(
        {"toy/apps.txt": f"{len(plan.clusters)} clusters\n"}, data="toy data"),
        checks=(toy_check,))
    monkeypatch.setitem(BACKENDS, "toy", toy)
    result = compiler.compile_topology(SEED_DEMO)
    assert checked == ["toy data"]
    assert [d.message for d in result.diagnostics] == ["toy finding"]
    assert render(plan, ca).files["toy/apps.txt"] == f"{len(plan.clusters)} clusters\n"


def test_the_ca_secret_lives_where_the_flux_backend_reads_it(demo):
    _, ca = demo
    assert ca_wiring() == BACKENDS["flux"].ca
    assert ca.namespace == ca_wiring().secret_namespace == "flux-system"
