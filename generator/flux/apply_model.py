"""A model of how Flux applies a cluster's tree: which Kustomization applies which objects,
in which order, and whether the API server accepts each at that moment.

It follows the sources of Flux v2.9.4 (kustomize-controller v1.9.4, commit 1324b615da01,
with fluxcd/pkg ssa v0.76.1 at commit e2cfd1a2d181), one rule each:

1. kustomize-controller `internal/controller/kustomization_controller.go` `apply`: the whole
   build goes to ssa `ResourceManager.ApplyAllStaged`; an error fails the Kustomization, and
   every Kustomization that `dependsOn` it waits (not Ready) instead of applying.
2. fluxcd/pkg `ssa/manager_apply.go` `ApplyAllStaged` with `ssa/utils/is.go`
   `IsClusterDefinition`: CustomResourceDefinitions, ClusterRoles and Namespaces are applied
   first (and waited for), then `*Class` kinds, then everything else.
3. `ssa/manager_apply.go` `ApplyAll`: each stage is dry-run object by object (server-side
   apply, `DryRunAll`) before anything of it is applied; the first dry-run error aborts the
   stage. The API server refuses an object in a namespace that does not exist, and one of a
   kind it does not serve ("no matches for kind").
4. `ssa/manager_apply.go` `shouldSkipApply`: an object annotated
   `kustomize.toolkit.fluxcd.io/ssa: IfNotPresent` is created when missing and never
   patched when it exists (so an app team's own Namespace stays theirs).
5. `kustomization_controller.go` `deleteObjects` with `ssa/manager_delete.go` `Delete`: prune
   deletes only in-cluster objects carrying this Kustomization's owner labels and not
   annotated `kustomize.toolkit.fluxcd.io/prune: disabled`.
6. `kustomization_controller.go` `apply`: a SOPS-encrypted Secret in a Kustomization without
   `spec.decryption` fails it.

The builds are read from the rendered files (kustomization.yaml `resources` and
`configMapGenerator`), not by kustomize: verify runs in `render`, kubectl stays in the tests.
Files that `flux bootstrap` owns (gotk-*.yaml) stand for what bootstrap installed.
"""

from __future__ import annotations

import posixpath
from dataclasses import dataclass, field
from typing import Any

from .. import facts

SSA_ANNOTATION = "kustomize.toolkit.fluxcd.io/ssa"
PRUNE_ANNOTATION = "kustomize.toolkit.fluxcd.io/prune"
BOOTSTRAP_FILES = ("gotk-components.yaml", "gotk-sync.yaml")
CILIUM_CHART = "cilium"


@dataclass(frozen=True)
class Placed:
    """A built object and the rendered file it comes from."""

    file: str
    object: dict[str, Any]

    @property
    def kind(self) -> str:
        return str(self.object.get("kind", ""))

    @property
    def name(self) -> str:
        return str((self.object.get("metadata") or {}).get("name", ""))

    @property
    def namespace(self) -> str | None:
        return (self.object.get("metadata") or {}).get("namespace")

    def describe(self) -> str:
        where = f"{self.namespace}/" if self.namespace else ""
        return f"{self.kind} {where}{self.name}"


@dataclass(frozen=True)
class Failure:
    """The model's answer where a Kustomization does not apply: which one, the file at
    fault, and why (verify_apply makes it an AKM520 Diagnostic)."""

    kustomization: str
    file: str
    message: str


@dataclass
class ClusterState:
    namespaces: set[str] = field(default_factory=lambda: set(facts.PRESENT_NAMESPACES))
    kinds: dict[str, bool] = field(
        default_factory=lambda: {**facts.CORE_KINDS, **facts.FLUX_KINDS,
                                 "CustomResourceDefinition": False})


class BuildError(Exception):
    def __init__(self, file: str, message: str):
        super().__init__(message)
        self.file, self.message = file, message


def build(directory: str, documents: dict[str, list[dict[str, Any]]]) -> list[Placed]:
    """The objects kustomize builds from `directory` (a path of the rendered tree)."""
    kfile = posixpath.join(directory, "kustomization.yaml")
    if kfile not in documents:
        raise BuildError(kfile, f"no kustomization.yaml in {directory}")
    (config,) = documents[kfile] or [{}]
    placed: list[Placed] = []
    for entry in config.get("resources") or ():
        path = posixpath.normpath(posixpath.join(directory, entry))
        if posixpath.basename(path) in BOOTSTRAP_FILES:
            continue  # bootstrap's: what it installs is in ClusterState
        if path in documents:
            placed += [Placed(path, doc) for doc in documents[path]]
        elif posixpath.join(path, "kustomization.yaml") in documents:
            placed += build(path, documents)
        else:
            raise BuildError(kfile, f"resource {entry} is not in the tree")
    for generator in config.get("configMapGenerator") or ():
        placed.append(Placed(kfile, {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {
            "name": generator["name"], "namespace": generator.get("namespace")}}))
    return placed


def apply_cluster(root: str, gitops_path: str, documents: dict[str, list[dict[str, Any]]]
                  ) -> list[Failure]:
    """Apply clusters/<c>/ (`root`) as its flux-system Kustomization would, then every
    Kustomization it creates once its dependencies are Ready; the problems, in order.

    Kustomizations reconcile concurrently: one sees only what was there before it (its
    creator's work) and what its `dependsOn` Kustomizations, Ready, have installed."""
    problems: list[Failure] = []
    ready: dict[str, bool] = {}
    effects: dict[str, ClusterState] = {}  # what each Kustomization added to the cluster
    visible: dict[str, set[str]] = {"flux-system": set()}  # whose effects each one sees
    queue: list[tuple[str, str, dict[str, Any]]] = [("flux-system", root, {})]
    waiting: list[tuple[str, str, dict[str, Any], str]] = []
    while queue:
        name, directory, spec = queue.pop(0)
        state = ClusterState()
        for other in visible[name]:
            state.namespaces |= effects[other].namespaces
            state.kinds.update(effects[other].kinds)
        before = ClusterState(set(state.namespaces), dict(state.kinds))
        try:
            objects = build(directory, documents)
        except BuildError as error:
            problems.append(Failure(name, error.file, error.message))
            ready[name] = False
            continue
        problem = _apply_staged(name, spec, objects, state)
        ready[name] = problem is None
        if problem:
            problems.append(problem)
            continue
        if any(p.kind == "HelmRelease" and _chart(p.object) == CILIUM_CHART for p in objects):
            state.kinds.update(facts.CILIUM_KINDS)  # once Ready (wait: true), the operator runs
        effects[name] = ClusterState(state.namespaces - before.namespaces,
                                     {k: v for k, v in state.kinds.items()
                                      if k not in before.kinds})
        for placed in objects:
            if placed.kind == "Kustomization" and \
                    str(placed.object.get("apiVersion", "")).startswith("kustomize.toolkit"):
                child = placed.object.get("spec") or {}
                path = posixpath.normpath(str(child.get("path", "")).removeprefix("./"))
                waiting.append((placed.name, path.removeprefix(gitops_path.strip("/") + "/"),
                                child, name))
        # Rule 1: a Kustomization applies once every dependency is Ready.
        for item in list(waiting):
            child_name, child_path, child_spec, parent = item
            depends = [d.get("name") for d in child_spec.get("dependsOn") or ()]
            if all(ready.get(d) for d in depends):
                waiting.remove(item)
                visible[child_name] = {parent, *visible[parent]}.union(
                    *({d, *visible[d]} for d in depends))
                queue.append((child_name, child_path, child_spec))
    for name, _, spec, _ in waiting:
        depends = ", ".join(d.get("name") for d in spec.get("dependsOn") or ())
        problems.append(Failure(name, root, f"never applied: its dependencies ({depends}) "
                                "never become Ready"))
    return problems


def _chart(helm_release: dict[str, Any]) -> str | None:
    return (((helm_release.get("spec") or {}).get("chart") or {}).get("spec") or {}).get("chart")


def _apply_staged(name: str, spec: dict[str, Any], objects: list[Placed], state: ClusterState
                  ) -> Failure | None:
    # Rule 6.
    if not spec.get("decryption"):
        for placed in objects:
            if placed.kind == "Secret" and "sops" in placed.object:
                return Failure(name, placed.file, f"{placed.describe()} is SOPS encrypted and "
                               f"the Kustomization does not decrypt")
    # Rule 2: the stages, in order.
    definitions = [p for p in objects if p.kind in ("Namespace", "CustomResourceDefinition",
                                                    "ClusterRole")]
    classes = [p for p in objects if p not in definitions and p.kind.endswith("Class")]
    rest = [p for p in objects if p not in definitions and p not in classes]
    for stage in (definitions, classes, rest):
        # Rule 3: the whole stage is dry-run first; the first refusal fails everything.
        for placed in stage:
            refusal = _dry_run(placed, state)
            if refusal:
                return Failure(name, placed.file, f"{placed.describe()}: {refusal}; the "
                               f"Kustomization {name} applies nothing")
        for placed in stage:
            if placed.kind == "Namespace":
                state.namespaces.add(placed.name)  # rule 4: created, or kept as it was
            elif placed.kind == "CustomResourceDefinition":
                # ApplyAllStaged waits for the definitions to be established (rule 2).
                names = (placed.object.get("spec") or {}).get("names") or {}
                scope = (placed.object.get("spec") or {}).get("scope")
                if names.get("kind"):
                    state.kinds[str(names["kind"])] = scope == "Namespaced"
    return None


def _dry_run(placed: Placed, state: ClusterState) -> str | None:
    if placed.kind not in state.kinds:
        return f"no matches for kind {placed.kind}: the API server does not serve it yet"
    namespaced = state.kinds[placed.kind]
    if namespaced and not placed.namespace:
        return "no namespace given"
    if namespaced and placed.namespace not in state.namespaces:
        return f'namespaces "{placed.namespace}" not found'
    return None


def prune_would_delete(placed: Placed) -> bool:
    """Rule 5: whether removing `placed` from the tree would delete it from the cluster, if
    Flux had created it (an object it only skipped has none of its owner labels)."""
    annotations = (placed.object.get("metadata") or {}).get("annotations") or {}
    return annotations.get(PRUNE_ANNOTATION) != "disabled"
