"""AKM7xx: day 2: rollout waves and the Cilium versions they pin, extra Helm values."""

from __future__ import annotations

from collections.abc import Iterator

from .. import facts
from ..diagnostics import Finding, did_you_mean
from ..plan import Plan
from .common import repeats


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
        if wave.own_cilium and not _supported_cilium(wave.cilium_version):
            yield Finding("AKM404", ("rollout", "waves", wave.index, "cilium", "version"),
                          f"Cilium {wave.cilium_version} is not a version aksmesh renders for",
                          f'use "{facts.CILIUM_DEFAULT_VERSION}"')
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


def _supported_cilium(version: str) -> bool:
    return ".".join(version.split(".")[:2]) in facts.CILIUM_SUPPORTED_MINORS


RULES = (check_rollout, check_extra_cilium_values)
