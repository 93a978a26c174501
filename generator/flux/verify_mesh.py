"""Verify, the mesh apps: the reachability model reads the rendered policies and global
services back and its answer is held against the plan's intent (AKM540-AKM543)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from . import manifests
from ..diagnostics import Diagnostic, diagnostic
from ..plan_records import Plan
from .render import GLOBAL_SERVICES_FILE, SEGMENTATION_FILE

if TYPE_CHECKING:
    from .cilium_policy import Policy
    from .rendered_objects import MeshObjects


MESH_OBJECT_FILES = (GLOBAL_SERVICES_FILE, SEGMENTATION_FILE)


def mesh_objects(plan: Plan, files: dict[str, str]) -> MeshObjects:
    """The reachability model's reading of every cluster's rendered mesh apps."""
    from .rendered_objects import read_objects

    objects = {}
    for cluster in plan.clusters:
        objects[cluster.name] = [
            d for name in MESH_OBJECT_FILES
            if (text := files.get(f"clusters/{cluster.name}/{name}")) is not None
            for d in manifests.documents(text) if isinstance(d, dict)]
    return read_objects(objects)


def probe_policies(plan: Plan, namespaces: tuple[str, ...]) -> dict[str, tuple[Policy, ...]]:
    """A user's own policy in every namespace of every cluster, admitting its own namespace
    only: segmentation must leave it exactly as restrictive as it was."""
    from .cilium_policy import parse_policy

    return {c.name: tuple(parse_policy({
        "kind": "CiliumNetworkPolicy",
        "metadata": {"name": "only-my-namespace", "namespace": n},
        "spec": {"endpointSelector": {}, "ingress": [{"fromEndpoints": [{}]}]}}, c.name)
        for n in namespaces) for c in plan.clusters}


def verify_mesh_intent(plan: Plan, files: dict[str, str]) -> list[Diagnostic]:
    """The reachability model's answer for the rendered objects, against the plan's intent:
    cross-cluster reachability is exactly the declared flows (AKM540); nothing inside a
    cluster or from outside the mesh changes, with or without a user's own policies
    (AKM541); every global service load-balances to its backends, in its affinity's order
    (AKM542)."""
    from .cilium_policy import ModelError
    from .rendered_objects import namespaces_named

    where = f"{plan.name}/clusters"
    if not plan.global_services and plan.segmentation is None:
        return []  # no mesh apps rendered: every pod admits what it did, nothing to prove
    try:
        mesh = mesh_objects(plan, files)
    except ModelError as error:
        return [diagnostic("AKM543", where, 1, 1, f"a rendered mesh object the reachability "
                                                   f"model does not cover: {error}")]
    namespaces = namespaces_named(mesh, plan.named_namespaces)

    found = _policy_mismatches(plan, mesh, namespaces)
    diagnostics = []
    for (code, cluster, verb), cases in sorted(found.items()):
        diagnostics.append(diagnostic(
            code, f"{where}/{cluster}/{SEGMENTATION_FILE}", 1, 1,
            f"reachability model: in {cluster}, {cases[0]}"
            + (f", and {len(cases) - 1} more" if len(cases) > 1 else "")
            + (", not what the topology declares" if code == "AKM540"
               else ", which it did without aksmesh's policies"
               if verb == "refuses" else ", which it did not without aksmesh's policies")))
    return diagnostics + _backend_mismatches(plan, mesh, where)


def _policy_mismatches(plan: Plan, mesh: MeshObjects, namespaces: tuple[str, ...]
                       ) -> dict[tuple[str, str, str], list[str]]:
    """(code, destination cluster, verb) -> each case in which the rendered policies admit
    or refuse otherwise than declared (AKM540) or than without them (AKM541)."""
    from ..mesh_intent import Endpoints
    from .reachability import evaluate

    declared: dict[tuple[str, str], set[tuple[str, str]]] = {}
    for flow in plan.segmentation or ():
        declared.setdefault((flow.destination.cluster, flow.source.cluster), set()).add(
            (flow.source.namespace or "", flow.destination.namespace or ""))
    intents = {pair: tuple(sorted(flows)) for pair, flows in declared.items()}

    def intent(destination: str, source: str) -> tuple:
        """What the plan declares from `source` into `destination`: source clusters that
        differ here are evaluated apart."""
        return intents.get((destination, source), ())

    found: dict[tuple[str, str, str], list[str]] = {}
    for user, label in ((None, "no user policy"), (probe_policies(plan, namespaces),
                                                   "a same-namespace-only user policy")):
        for local in (True, False):
            setting = f"policy-default-local-cluster {str(local).lower()}, {label}"
            before = evaluate(mesh, namespaces, user, local, with_mesh_policies=False,
                              group=intent)
            after = evaluate(mesh, namespaces, user, local, group=intent)
            for old, new in zip(before, after):
                source, destination = new.source, new.destination
                cross = source.cluster is not None and source.cluster != destination.cluster
                expected = old.admitted and (not cross or plan.declares(
                    Endpoints(source.cluster or "", source.namespace),
                    Endpoints(destination.cluster or "", destination.namespace)))
                if new.admitted != expected:
                    what = (f"{source.cluster}/{source.namespace}" if source.cluster
                            else source.name)
                    if len(new.members) > 1:
                        what += f" (and the same from {len(new.members) - 1} other clusters)"
                    verb = "admits" if new.admitted else "refuses"
                    code = "AKM540" if cross else "AKM541"
                    found.setdefault((code, destination.cluster or "", verb), []).append(
                        f"{destination.namespace} {verb} {what} ({setting})")
    return found


def _backend_mismatches(plan: Plan, mesh: MeshObjects, where: str) -> list[Diagnostic]:
    """AKM542: a global service whose model backends differ from its plan preference."""
    from .reachability import backend_preference

    diagnostics = []
    for service in plan.global_services:
        model = backend_preference(mesh, service.namespace, service.name)
        for cluster in plan.clusters:
            expected = service.preference(cluster.name)
            actual = model.get(cluster.name, ())
            if actual != expected:
                diagnostics.append(diagnostic(
                    "AKM542", f"{where}/{cluster.name}/{GLOBAL_SERVICES_FILE}", 1, 1,
                    f"reachability model: in {cluster.name}, {service.namespace}/"
                    f"{service.name} load-balances to {_groups(actual)} instead of "
                    f"{_groups(expected)}"))
    return diagnostics


def _groups(groups: tuple[tuple[str, ...], ...]) -> str:
    from ..mesh_intent import preference_text

    return preference_text(groups)
