"""A model of what the generated README has the user run, in order, and of `flux bootstrap`.

The README's shell blocks are read and interpreted command by command against a fleet
repository on disk. Commands that change the repository (`touch`, `mkdir`, `flux bootstrap
git`) are modelled; commands that only talk to Azure or a cluster (`az`, `kubectl`,
`cilium`) are recorded; any other command fails the model, so a README step the model does
not know cannot pass unnoticed.

`flux bootstrap git` follows fluxcd/flux2 v2.9.4 (commit 889be9d6cc8afa8ed639e1e1ba4ab678e3b38d8c):
- pkg/bootstrap/bootstrap.go `Run`: ReconcileRepository, ReconcileComponents,
  ReconcileSourceSecret, ReconcileSyncConfig, in this order;
- pkg/bootstrap/bootstrap_plain_git.go `ReconcileComponents`: commits
  <path>/flux-system/gotk-components.yaml, then applies <path>/flux-system/kustomization.yaml
  when one exists (else gotk-components.yaml alone): the first build;
- `ReconcileSyncConfig`: writes gotk-sync.yaml, keeps an existing kustomization.yaml
  (pkg/manifestgen/kustomization/kustomization.go `Generate` returns it unchanged, or lists
  every manifest of the directory when there is none), commits and applies it: the second
  build;
- then kustomize-controller reconciles the flux-system Kustomization (path <path>), and each
  Kustomization that one applies builds its own spec.path: the later builds.
Each build is the real `kubectl kustomize` over the real v2.9.4 install manifests.
"""

from __future__ import annotations

import json
import re
import shlex
import shutil
import subprocess
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ruamel.yaml import YAML

from conftest import REFERENCE, bootstrap_sync
from generator import facts

INSTALL = REFERENCE / "flux" / "install-v2.9.4"
KUBECTL = shutil.which("kubectl")
CLUSTER_SCOPED = {"Namespace", "CustomResourceDefinition", "ClusterRole", "ClusterRoleBinding"}
# Programs the README may run that do not change the fleet repository.
RECORDED = {"az", "kubectl", "cilium", "kubelogin", "sops", "helm", "age-keygen"}

_yaml = YAML(typ="safe")


class StepFailed(AssertionError):
    """A README command, or an apply of bootstrap, that would fail for the user."""


@dataclass
class Build:
    step: str          # what ran the build
    directory: Path
    objects: list[dict[str, Any]]


@dataclass
class Fleet:
    """The user's clone of the fleet repository, and what happened to it; and the state of
    the user's shell the README's commands depend on."""

    root: Path
    builds: list[Build] = field(default_factory=list)
    recorded: list[list[str]] = field(default_factory=list)
    written_by_bootstrap: set[Path] = field(default_factory=set)
    logged_in: bool = False
    subscription: bool = False
    deployed: bool = False
    context: str | None = None       # the kubeconfig context in use
    entra_login: set[str] = field(default_factory=set)   # contexts kubelogin converted
    aks_contexts: set[str] = field(default_factory=set)  # contexts from az aks get-credentials
    sops_key: set[str] = field(default_factory=set)      # contexts with flux-system/sops-age
    bootstrapped: list[str] = field(default_factory=list)  # --path of each bootstrap


def load_all(text: str) -> list[dict[str, Any]]:
    return [doc for doc in _yaml.load_all(text) if doc]


def gotk_components() -> str:
    """What `flux install --export` of v2.9.4 prints: the reference install, namespaced."""
    config = _yaml.load((INSTALL / "kustomization.yaml").read_text(encoding="utf-8"))
    docs = []
    for resource in config["resources"]:
        for doc in load_all((INSTALL / resource).read_text(encoding="utf-8")):
            if doc["kind"] not in CLUSTER_SCOPED:
                doc["metadata"]["namespace"] = config["namespace"]
            docs.append(doc)
    return "".join("---\n" + json.dumps(doc, indent=1) + "\n" for doc in docs)


def kustomize(directory: Path, step: str, fleet: Fleet) -> list[dict[str, Any]]:
    assert KUBECTL is not None
    result = subprocess.run([KUBECTL, "kustomize", str(directory)], capture_output=True,
                            text=True, timeout=120)
    if result.returncode != 0:
        raise StepFailed(f"{step}: kubectl kustomize {directory.relative_to(fleet.root)} "
                         f"fails:\n{result.stderr}")
    objects = load_all(result.stdout)
    fleet.builds.append(Build(step, directory, objects))
    return objects


def shell_commands(readme: str, stop_at: str = "### Alternative") -> list[list[str]]:
    """Every command of the README's ```sh blocks, in order, continuation lines joined;
    the blocks after `stop_at` (another way of doing the same) are not part of the run."""
    text = readme.split(stop_at)[0]
    commands = []
    for block in re.findall(r"```sh\n(.*?)```", text, re.DOTALL):
        for line in block.replace("\\\n", " ").splitlines():
            line = line.strip()
            if line and not line.startswith("#"):
                commands.append(shlex.split(line))
    return commands


def run_readme(readme: str, fleet: Fleet, components: str) -> None:
    for argv in shell_commands(readme):
        program, args = argv[0], argv[1:]
        if program == "touch":
            for name in args:
                path = fleet.root / name
                if not path.parent.is_dir():
                    raise StepFailed(f"touch {name}: no directory {path.parent}")
                path.touch()
        elif program == "mkdir":
            for name in (a for a in args if not a.startswith("-")):
                (fleet.root / name).mkdir(parents="-p" in args, exist_ok="-p" in args)
        elif program == "git":
            fleet.recorded.append(argv)  # the clone is the repository: commit and push are no-ops
        elif program == "flux" and args[:2] == ["bootstrap", "git"]:
            flags = dict(_flags(args[2:]))
            _require_cluster_access(fleet, argv)
            if flags.get("--version") != f"v{facts.FLUX_VERSION}":
                raise StepFailed(f"`{' '.join(argv)}`: installs another Flux than the "
                                 f"v{facts.FLUX_VERSION} the flux-system patches are written for")
            if "--private-key-file" not in flags and "--password" not in flags:
                raise StepFailed(f"`{' '.join(argv)}`: no credentials to push to the fleet "
                                 "repository (--private-key-file, or --username/--password)")
            if fleet.context not in fleet.sops_key:
                raise StepFailed(f"`{' '.join(argv)}`: no flux-system/sops-age Secret on this "
                                 "cluster: the cilium Kustomization cannot decrypt the CA")
            flux_bootstrap_git(flags, fleet, components)
            fleet.bootstrapped.append(flags["--path"])
        elif program == "flux" and args[:1] == ["check"]:
            fleet.recorded.append(argv)
        elif program == "az":
            _az(args, fleet, argv)
        elif program == "kubelogin":
            if fleet.context is None:
                raise StepFailed("kubelogin before any cluster credentials")
            fleet.entra_login.add(fleet.context)
        elif program == "kubectl":
            if args[:2] == ["config", "use-context"]:
                fleet.context = args[2]
            else:
                _require_cluster_access(fleet, argv)
                if "secret" in args and "sops-age" in args:
                    fleet.sops_key.add(fleet.context)
            fleet.recorded.append(argv)
        elif program in RECORDED:
            fleet.recorded.append(argv)
        else:
            raise StepFailed(f"the README runs `{' '.join(argv)}`, which the model does not know")


def _az(args: list[str], fleet: Fleet, argv: list[str]) -> None:
    """The Azure CLI as far as the order of the README's commands goes."""
    fleet.recorded.append(argv)
    if args[:1] == ["login"]:
        fleet.logged_in = True
        return
    if not fleet.logged_in:
        raise StepFailed(f"`{' '.join(argv)}` before `az login`")
    if args[:2] == ["account", "set"]:
        fleet.subscription = True
        return
    if not fleet.subscription:
        raise StepFailed(f"`{' '.join(argv)}` before `az account set --subscription`")
    flags = dict(_flags(args))
    if args[:2] == ["deployment", "sub"] and args[2:3] != ["show"]:
        location = flags.get("--location", "")
        if location not in facts.AZURE_REGIONS:
            raise StepFailed(f"`{' '.join(argv)}`: --location {location!r} is not an Azure "
                             "region")
        if args[2:3] == ["create"]:
            fleet.deployed = True
    elif args[:2] == ["aks", "get-credentials"]:
        if not fleet.deployed:
            raise StepFailed(f"`{' '.join(argv)}` before the deployment that creates it")
        fleet.context = flags["--name"]
        fleet.aks_contexts.add(fleet.context)


def _require_cluster_access(fleet: Fleet, argv: list[str]) -> None:
    if fleet.context is None:
        raise StepFailed(f"`{' '.join(argv)}` before any cluster credentials")
    if fleet.context in fleet.aks_contexts and fleet.context not in fleet.entra_login:
        raise StepFailed(f"`{' '.join(argv)}`: the AKS cluster has local accounts disabled; "
                         "the kubeconfig needs `kubelogin convert-kubeconfig` first")


def _flags(args: list[str]) -> list[tuple[str, str]]:
    """`--name=value` and `--name value` alike; a flag without a value gets ""."""
    flags = []
    for index, arg in enumerate(args):
        if not arg.startswith("--"):
            continue
        name, equals, value = arg.partition("=")
        if not equals and index + 1 < len(args) and not args[index + 1].startswith("-"):
            value = args[index + 1]
        flags.append((name, value))
    return flags


def flux_bootstrap_git(flags: dict[str, str], fleet: Fleet, components: str) -> None:
    path = flags["--path"].removeprefix("./")
    flux_system = fleet.root / path / "flux-system"
    flux_system.mkdir(parents=True, exist_ok=True)
    # ReconcileComponents: commit gotk-components.yaml, apply the kustomization beside it.
    components_file = flux_system / "gotk-components.yaml"
    components_file.write_text(components, encoding="utf-8")
    fleet.written_by_bootstrap.add(components_file)
    kfile = flux_system / "kustomization.yaml"
    if kfile.exists():
        kustomize(flux_system, "flux bootstrap: ReconcileComponents", fleet)
    # ReconcileSyncConfig: write gotk-sync.yaml; keep the kustomization.yaml, else list
    # every manifest of the directory; apply it.
    sync_file = flux_system / "gotk-sync.yaml"
    sync_file.write_text(bootstrap_sync(path), encoding="utf-8")
    fleet.written_by_bootstrap.add(sync_file)
    if not kfile.exists():
        kfile.write_text("apiVersion: kustomize.config.k8s.io/v1beta1\nkind: Kustomization\n"
                         "resources:\n  - gotk-components.yaml\n  - gotk-sync.yaml\n",
                         encoding="utf-8")
        fleet.written_by_bootstrap.add(kfile)
    applied = kustomize(flux_system, "flux bootstrap: ReconcileSyncConfig", fleet)
    kinds = {(o["kind"], o["metadata"]["name"]) for o in applied}
    if not {("GitRepository", "flux-system"), ("Kustomization", "flux-system")} <= kinds:
        raise StepFailed("flux bootstrap: the sync objects were not applied")
    # kustomize-controller: the flux-system Kustomization, then each one it applies.
    pending = [(o["metadata"]["name"], o["spec"]["path"]) for o in applied
               if o["kind"] == "Kustomization" and o["apiVersion"].startswith("kustomize.toolkit")]
    seen = set()
    while pending:
        name, spec_path = pending.pop(0)
        if name in seen:
            continue
        seen.add(name)
        objects = kustomize(fleet.root / spec_path, f"kustomize-controller: Kustomization "
                            f"{name} ({path})", fleet)
        pending += [(o["metadata"]["name"], o["spec"]["path"]) for o in objects
                    if o["kind"] == "Kustomization"
                    and o["apiVersion"].startswith("kustomize.toolkit")]


# --------------------------------------------------------------------------- the examples

def example_topologies() -> dict[str, Path]:
    """The committed examples and the test topologies (four clusters; a hybrid member first)."""
    from conftest import PROJECT as project

    paths = sorted((project / "topologies").glob("*.yaml")) + \
        sorted((project / "tests" / "topologies").glob("*.yaml"))
    return {path.stem: path for path in paths}


def render_into_fleet(topology: Path, workspace: Path) -> tuple[Any, dict[str, str], Fleet]:
    """Render `topology` (with a CA: its own, else a new one) into a fresh fleet clone."""
    import pyrage

    from generator import ca, compiler, write
    from generator.inputs import shared_ca_path

    source = topology
    if not shared_ca_path(topology).exists():
        source = workspace / topology.name
        shutil.copyfile(topology, source)
        recipient = str(pyrage.x25519.Identity.generate().to_public())
        ca_path = shared_ca_path(source)
        ca_path.parent.mkdir(parents=True, exist_ok=True)
        ca_path.write_text(ca.init_ca("cilium-mesh-ca", "flux-system", [recipient]),
                           encoding="utf-8")
    result = compiler.compile_topology(source, compiler.Options())
    assert result.ok and result.plan is not None and result.files is not None, \
        [d.format_text() for d in result.diagnostics]
    fleet = Fleet(workspace / "fleet")
    write.write_tree(fleet.root / result.plan.gitops_path, result.files)  # as `render` does
    return result.plan, result.files, fleet
