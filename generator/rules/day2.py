"""AKM7xx: day 2: rollout waves and the Cilium versions they pin, extra Helm values."""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING

from .. import facts
from ..diagnostics import Code, Finding, Severity, did_you_mean
from .common import repeats
from .platform import unsupported_cilium

if TYPE_CHECKING:  # the registry imports the families: keep them light
    from ..plan_records import Plan

# The codes this family's rules yield, registered by diagnostics.codes().
CODES = (
    Code("AKM720", Severity.ERROR, "unknown cluster in a rollout wave",
         "A rollout wave names a cluster the topology does not define.",
         "rollout:\n  waves:\n    - {name: canary, clusters: [wee]}"),
    Code("AKM721", Severity.ERROR, "cluster in no wave or in several",
         "With rollout waves, every cluster is in exactly one wave: a Fleet update run "
         "upgrades only the members of its stages' groups.",
         "rollout:\n  waves:\n    - {name: canary, clusters: [ne]}  # we, fc in no wave"),
    Code("AKM722", Severity.ERROR, "Cilium versions too far apart across waves",
         "Clusters of one mesh may differ by at most one Cilium minor version while an "
         "upgrade rolls out (Cilium's upgrade guide).",
         'rollout:\n  waves:\n    - {name: canary, clusters: [ne], cilium: {version: "1.22.0"}}'),
    Code("AKM723", Severity.ERROR, "duplicate wave name",
         "Each wave becomes a Fleet update group and stage: names are unique.",
         "rollout:\n  waves:\n    - {name: canary, ...}\n    - {name: canary, ...}"),
    Code("AKM724", Severity.ERROR, "auto-upgrade channel conflicts with rollout waves",
         "aks.upgradeChannel `stable` or `rapid` makes AKS upgrade minor versions by "
         "itself, outside the waves' Fleet update runs and behind the Bicep's "
         "kubernetesVersion.",
         "aks:\n  upgradeChannel: stable\nrollout:\n  waves: [...]"),
    Code("AKM730", Severity.ERROR, "extra Cilium value conflicts with aksmesh's",
         "A cluster's ciliumValues may add Helm values, never set one that aksmesh sets "
         "from the topology (the cluster's name and id, IPAM, the mesh, encryption, "
         "Hubble, ...): that would silently undo the plan.",
         "clusters:\n  - name: ne\n    ciliumValues:\n      cluster:\n        id: 9  # aksmesh sets cluster.id"),
)


def check_rollout(plan: Plan) -> Iterator[Finding]:
    """Waves name every cluster once, and the Cilium versions they pin can share a mesh."""
    if not plan.rollout:
        return
    names = sorted(c.name for c in plan.clusters)
    seen: dict[str, str] = {}
    for wave, earlier in repeats(plan.rollout, lambda w: w.name):
        yield Finding("AKM723", ("rollout", "waves", wave.index, "name"),
                      f"wave `{wave.name}` is declared twice (first as waves[{earlier.index}])",
                      "give each wave its own name: it names a Fleet update group")
    for wave in plan.rollout:
        for position, name in enumerate(wave.clusters):
            where = ("rollout", "waves", wave.index, "clusters", position)
            if name not in names:
                yield Finding("AKM720", where, f"wave `{wave.name}` names unknown cluster "
                              f"`{name}`", did_you_mean(name, names)
                              or f"clusters: {', '.join(names)}")
            elif name in seen:
                yield Finding("AKM721", where, f"cluster `{name}` is in wave `{wave.name}` "
                              f"and in wave `{seen[name]}`", "put each cluster in one wave")
            else:
                seen[name] = wave.name
        if wave.own_cilium:
            yield from unsupported_cilium(("rollout", "waves", wave.index, "cilium", "version"),
                                          wave.cilium_version)
    missing = [n for n in names if n not in seen]
    if missing:
        yield Finding("AKM721", ("rollout", "waves"),
                      f"cluster{'s' * (len(missing) > 1)} {', '.join(missing)} in no wave: "
                      "a Fleet update run would never upgrade "
                      f"{'them' if len(missing) > 1 else 'it'}",
                      "add every cluster to one wave (the last, for example)")
    minors = sorted({_minor(c.cilium_version) for c in plan.clusters})
    if minors and minors[-1][1] - minors[0][1] > facts.CILIUM_MESH_MAX_MINOR_SKEW:
        newest = max(plan.rollout, key=lambda w: _minor(w.cilium_version))
        yield Finding("AKM722", ("rollout", "waves", newest.index, "cilium", "version"),
                      f"the waves run Cilium {'.'.join(map(str, minors[0]))} and "
                      f"{'.'.join(map(str, minors[-1]))}: more than "
                      f"{facts.CILIUM_MESH_MAX_MINOR_SKEW} minor version apart in one mesh",
                      f"{facts.CILIUM_MESH_SKEW_SOURCE}: upgrade every wave to the next minor "
                      "before the first wave moves on")
    if plan.fleet is not None and plan.aks.upgrade_channel in facts.FLEET_CONFLICTING_CHANNELS:
        yield Finding("AKM724", ("aks", "upgradeChannel"),
                      f"upgrade channel `{plan.aks.upgrade_channel}` makes AKS upgrade each "
                      "cluster's minor version on its own, outside the rollout waves and "
                      "behind the Bicep's kubernetesVersion",
                      "set `aks.upgradeChannel: patch` or `none`: minor upgrades then come "
                      "from Fleet update runs, wave by wave")


def check_extra_cilium_values(plan: Plan) -> Iterator[Finding]:
    """Extra Helm values may add to aksmesh's, never change what it sets."""
    from ..flux.cilium_values import aksmesh_values, owned_paths  # the values aksmesh writes, decided once

    for c in plan.clusters:
        if not c.extra_cilium_values:
            continue
        owned = owned_paths(aksmesh_values(plan, c))
        for path in sorted(owned_paths(c.extra_cilium_values)):
            clash = next((o for o in sorted(owned)
                          if o[:len(path)] == path or path[:len(o)] == o), None)
            if clash is not None:
                yield Finding("AKM730", ("clusters", c.index, "ciliumValues", *path),
                              f"cluster `{c.name}`: ciliumValues sets {'.'.join(path)}, "
                              f"which aksmesh sets ({'.'.join(clash)})",
                              "change it through the topology's own keys, or leave it out",
                              at_key=True)


def _minor(version: str) -> tuple[int, int]:
    major, minor = version.split(".")[:2]
    return int(major), int(minor)


RULES = (check_rollout, check_extra_cilium_values)
