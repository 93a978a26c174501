"""The generated README's commands, run in order against a model of the fleet repository and
of `flux bootstrap` v2.9.4 (tests/bootstrap_model.py): every build of every step succeeds.

Before the fix the first bootstrap failed on every cluster: ReconcileComponents applies the
committed flux-system/kustomization.yaml, which lists gotk-sync.yaml, before
ReconcileSyncConfig has written it.
"""

from __future__ import annotations

import shutil

import pytest

from bootstrap_model import (Fleet, StepFailed, example_topologies, flux_bootstrap_git,
                             gotk_components, render_into_fleet, run_readme, shell_commands)
from generator import facts, write

pytestmark = pytest.mark.skipif(shutil.which("kubectl") is None,
                                reason="kubectl not found on PATH: the model builds with it")

EXAMPLES = example_topologies()


@pytest.fixture(scope="module")
def components() -> str:
    return gotk_components()


@pytest.fixture(scope="module", params=sorted(EXAMPLES))
def deployed(request, tmp_path_factory, components):
    """An example rendered into a fleet clone, then the README run on it."""
    workspace = tmp_path_factory.mktemp(request.param)
    plan, files, fleet = render_into_fleet(EXAMPLES[request.param], workspace)
    readme = (fleet.root / plan.gitops_path / "README.md").read_text(encoding="utf-8")
    run_readme(readme, fleet, components)
    return plan, files, fleet, readme


def test_the_readme_bootstraps_every_cluster_and_every_build_succeeds(deployed):
    plan, _, fleet, _ = deployed
    bootstrapped = [b.step for b in fleet.builds if b.step.endswith("ReconcileSyncConfig")]
    assert len(bootstrapped) == len(plan.clusters)
    # Per cluster: flux-system twice (bootstrap), then the flux-system, cilium and (when
    # there are mesh apps) mesh-apps Kustomizations.
    for cluster in plan.clusters:
        root = fleet.root / plan.gitops_path / "clusters" / cluster.name
        built = {b.directory for b in fleet.builds}
        assert {root, root / "flux-system", root / "cilium"} <= built


def test_bootstrap_installs_the_patched_controllers_from_the_first_apply(deployed):
    _, _, fleet, _ = deployed
    first = [b for b in fleet.builds if b.step.endswith("ReconcileComponents")]
    assert first
    for build in first:
        deployments = [o for o in build.objects if o["kind"] == "Deployment"]
        assert len(deployments) == 4
        assert all(d["spec"]["template"]["spec"].get("hostNetwork") is True for d in deployments)


def test_the_readme_pins_the_flux_version_the_patches_target(deployed):
    _, _, _, readme = deployed
    bootstraps = [argv for argv in shell_commands(readme) if argv[:3] == ["flux", "bootstrap", "git"]]
    assert bootstraps
    for argv in bootstraps:
        assert f"--version=v{facts.FLUX_VERSION}" in argv


def test_aksmesh_and_bootstrap_never_write_each_others_files(deployed):
    plan, files, fleet, _ = deployed
    tree = fleet.root / plan.gitops_path
    ours = {tree / path for path in files}
    assert not ours & fleet.written_by_bootstrap
    before = {path: path.read_bytes() for path in fleet.written_by_bootstrap}
    changes = write.write_tree(tree, files)  # a later render over the bootstrapped tree
    assert all(c.status == "unchanged" for c in changes), changes
    assert {path: path.read_bytes() for path in fleet.written_by_bootstrap} == before


def test_verify_refuses_to_render_a_bootstrap_file():
    from generator import compiler
    from generator.flux.verify_apply import verify_apply_order

    result = compiler.compile_topology(EXAMPLES["seed-demo"])
    files = dict(result.files)
    files["clusters/ne/flux-system/gotk-sync.yaml"] = ""
    assert [d.code for d in verify_apply_order(result.plan, files)] == ["AKM523"]


def test_without_the_readme_step_the_first_apply_fails(tmp_path, components):
    """The model is able to fail: the rendered tree alone, bootstrapped, fails as it did."""
    plan, _, fleet = render_into_fleet(EXAMPLES["seed-demo"], tmp_path)
    with pytest.raises(StepFailed, match="(?s)ReconcileComponents.*gotk-sync.yaml"):
        flux_bootstrap_git({"--path": f"{plan.gitops_path}/clusters/ne"}, fleet, components)


def test_an_unknown_readme_command_fails_the_model(tmp_path, components):
    fleet = Fleet(tmp_path)
    with pytest.raises(StepFailed, match="does not know"):
        run_readme("```sh\nterraform apply\n```\n", fleet, components)


@pytest.mark.parametrize("step, message", [
    ("az login\n", "before `az login`"),
    ("az account set", "before `az account set"),
    ("kubelogin convert-kubeconfig --login azurecli\n", "kubelogin convert-kubeconfig"),
    ("kubectl --namespace flux-system create secret generic sops-age", "sops-age"),
])
def test_the_model_refuses_a_readme_missing_a_step(tmp_path, components, step, message):
    plan, _, fleet = render_into_fleet(EXAMPLES["seed-demo"], tmp_path)
    readme = (fleet.root / plan.gitops_path / "README.md").read_text(encoding="utf-8")
    assert step in readme
    with pytest.raises(StepFailed, match=message):
        run_readme(readme.replace(step, "# " + step, 1), fleet, components)


@pytest.mark.parametrize("flag, message", [
    (" --private-key-file=<deploy-key-file>", "no credentials"),
    (f" --version=v{facts.FLUX_VERSION}", "another Flux"),
])
def test_the_model_refuses_a_bootstrap_without_a_flag(tmp_path, components, flag, message):
    plan, _, fleet = render_into_fleet(EXAMPLES["seed-demo"], tmp_path)
    readme = (fleet.root / plan.gitops_path / "README.md").read_text(encoding="utf-8")
    with pytest.raises(StepFailed, match=message):
        run_readme(readme.replace(flag, ""), fleet, components)


def test_the_model_refuses_a_location_that_is_not_an_azure_region(tmp_path, components):
    plan, _, fleet = render_into_fleet(EXAMPLES["hybrid-first"], tmp_path)
    readme = (fleet.root / plan.gitops_path / "README.md").read_text(encoding="utf-8")
    with pytest.raises(StepFailed, match="not an Azure region"):
        run_readme(readme.replace("--location westeurope", "--location 'Paris datacenter'"),
                   fleet, components)
