"""Day-2 changes: what a new topology changes in the mesh the committed state record describes.

The record (`state.py`) says what runs; this module is the policy that judges a change to
it, apart so that the record's shape and the rules of upgrade and disruption are each
read on their own. Each difference between the record and the new plan gets a class:

- safe: nothing running is touched (a new cluster, global service or flow);
- rolling: an upgrade within the supported skew, applied one cluster or wave at a time;
- disruptive: a running cluster or the whole mesh loses connectivity or identity (an id, a
  name, an address, maxConnectedClusters, the encryption mode, the CA, a removed cluster),
  or its deployment fails (the AKS settings of `aks_changes`); an error until acknowledged
  with `--allow-disruptive CODE|KEY`;
- refused: what no acknowledgement makes work (a downgrade, a skipped minor).

Pure: the record and the plan come in as data, the changes and findings go out as data.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from . import facts
from .diagnostics import Code, Finding, Severity
from .state import ca_digest, flow_text

if TYPE_CHECKING:
    from .ca import SharedCa
    from .plan_records import Cluster, Plan


# The codes of these changes, registered by diagnostics.codes().
CODES = (
    Code("AKM701", Severity.ERROR, "cluster id changed",
         "A running cluster's Cilium id is part of every security identity of its "
         "endpoints: changing it breaks policies and connections across the mesh. "
         "Disruptive: refused until acknowledged with --allow-disruptive.",
         "clusters:\n  - name: we\n    id: 5  # the committed tree says 2"),
    Code("AKM702", Severity.ERROR, "cluster renamed",
         "The name of a cluster names its Azure resources and its Flux tree: a rename "
         "creates a new stack and orphans the running cluster. Disruptive.",
         "clusters:\n  - name: west  # was `we`, same id"),
    Code("AKM703", Severity.ERROR, "cluster address changed",
         "The VNet, node subnet, pod or service range, DNS service IP or ClusterMesh IP "
         "of a running cluster cannot change in place. Disruptive.",
         "clusters:\n  - name: we\n    podCidr: 10.121.0.0/16  # was 10.120.0.0/16"),
    Code("AKM704", Severity.ERROR, "maxConnectedClusters changed",
         "clustermesh.maxConnectedClusters sets the identity bits of every cluster: "
         "changing it means reinstalling Cilium everywhere. Disruptive.",
         "cilium:\n  maxConnectedClusters: 511  # was 255"),
    Code("AKM705", Severity.ERROR, "encryption mode changed",
         "Switching WireGuard on or off restarts Cilium everywhere; clusters in "
         "different modes cannot talk meanwhile. Disruptive.",
         "cilium:\n  encryption: none  # was wireguard"),
    Code("AKM706", Severity.ERROR, "shared CA replaced",
         "A new CA makes every cluster re-issue its mesh certificates; clusters on "
         "different CAs cannot authenticate each other until all have. Disruptive.",
         "aksmesh ca init topologies/mesh.yaml --force ...  # then render"),
    Code("AKM707", Severity.ERROR, "cluster removed",
         "The cluster leaves the mesh, but Azure keeps its resources (incremental "
         "deployment) and it keeps running without its Flux tree. Disruptive: render "
         "writes REMOVED.md with the cleanup, once acknowledged.",
         "clusters:  # `fc` no longer listed"),
    Code("AKM708", Severity.ERROR, "deployment location changed",
         "The subscription deployment lives in the first Azure cluster's region; ARM "
         "refuses the same deployment name in another location. Disruptive.",
         "clusters:  # the first cluster, ne (northeurope), removed or moved down"),
    Code("AKM709", Severity.ERROR, "Kubernetes downgrade or skipped minor",
         "AKS neither downgrades a cluster nor skips a minor version when it "
         "upgrades. Refused: no acknowledgement makes it work.",
         'kubernetesVersion: "1.35"  # the committed tree says 1.37'),
    Code("AKM710", Severity.ERROR, "Cilium downgrade or skipped minor",
         "Cilium upgrades one minor release at a time and does not downgrade a running "
         "release (Cilium upgrade guide). Refused.",
         'cilium:\n  version: "1.19.0"  # the committed tree says 1.20.0'),
    Code("AKM711", Severity.ERROR, "state record not readable",
         "The tree's .aksmesh-state.json, which records the running mesh, is not what "
         "aksmesh writes: without it changes cannot be classified.",
         "out/mesh/.aksmesh-state.json  # edited by hand, or cut short"),
    Code("AKM712", Severity.WARNING, "acknowledgement matches no change",
         "--allow-disruptive names a code or key that no disruptive change of this "
         "run has: it is probably misspelled.",
         "aksmesh render --allow-disruptive clusters.we.idd topologies/mesh.yaml"),
    Code("AKM713", Severity.ERROR, "cluster moved to another region",
         "Azure does not move a resource group, VNet or AKS cluster between regions: "
         "the deployment fails, or the cluster would be a new one. Disruptive.",
         "clusters:\n  - name: we\n    region: swedencentral  # was westeurope"),
)


@dataclass(frozen=True)
class Change:
    """One difference between the committed record and the new plan."""

    klass: str  # safe, rolling, disruptive or refused
    key: str  # what changed, as `--allow-disruptive` names it: clusters.we.id
    path: tuple[str | int, ...]  # where in the topology
    summary: str  # what changed: `id 2 -> 5`
    effect: str  # what happens on which running cluster
    code: str | None = None  # the diagnostic of a disruptive or refused change
    hint: str = ""  # how to proceed
    at_key: bool = False

    def to_json(self) -> dict[str, Any]:
        return {"class": self.klass, "key": self.key, "path": list(self.path),
                "summary": self.summary, "effect": self.effect, "code": self.code}


def classify(previous: dict[str, Any], plan: Plan, ca: SharedCa | None) -> list[Change]:
    """Every change from the committed record to the plan, in topology order."""
    changes: list[Change] = []
    old = {c["name"]: c for c in previous["clusters"]}
    new = {c.name: c for c in plan.clusters}
    old_by_id = {c["id"]: c for c in previous["clusters"]}
    renamed: dict[str, str] = {}  # new name -> old name
    for c in plan.clusters:
        was = old_by_id.get(c.id)
        if c.name not in old and was is not None and was["name"] not in new:
            renamed[c.name] = was["name"]

    def others(name: str) -> str:
        return ", ".join(sorted(n for n in new if n != name)) or "none"

    for c in plan.clusters:
        if c.name in renamed:
            before = renamed[c.name]
            changes.append(Change(
                "disruptive", f"clusters.{before}.name", ("clusters", c.index, "name"),
                f"cluster `{before}` renamed `{c.name}`",
                f"Azure creates a new stack for `{c.name}` (new resource group, AKS cluster "
                f"and VNet with the old ranges) while `{before}` keeps running without its "
                f"Flux tree: Flux stops reconciling it and would prune Cilium there; the peers "
                f"({others(c.name)}) drop `{before}` and dial `{c.name}`",
                "AKM702",
                "keep the name; to move the cluster, add a new one with new ranges and id, "
                "migrate, then remove the old one"))
            continue
        was = old.get(c.name)
        if was is None:
            changes.append(Change(
                "safe", f"clusters.{c.name}", ("clusters", c.index), f"new cluster `{c.name}`",
                f"a new stack in Azure; every running cluster ({others(c.name)}) adds "
                f"`{c.name}` as a mesh peer on its next reconcile"))
            continue
        changes += _cluster_changes(was, c, others(c.name))

    for name, was in old.items():
        if name not in new and name not in renamed.values():
            changes.append(Change(
                "disruptive", f"clusters.{name}", ("clusters",), f"cluster `{name}` removed",
                f"the other clusters ({others(name)}) drop `{name}` from the mesh and its "
                f"global-service backends; `{name}` itself, its resource group, VNet and "
                f"the peerings to it stay in Azure (incremental deployment), and its Flux "
                f"tree leaves the repository: see REMOVED.md for the cleanup, in order",
                "AKM707",
                "drain its workloads first; render then writes REMOVED.md with the cleanup "
                "commands", at_key=True))

    changes += _cilium_changes(old, plan)
    changes += _mesh_changes(previous, plan, ca)
    return changes


def _cluster_changes(was: dict[str, Any], c: Cluster, peers: str) -> list[Change]:
    changes = []
    name = c.name
    if was["id"] != c.id:
        changes.append(Change(
            "disruptive", f"clusters.{name}.id", ("clusters", c.index, "id"),
            f"cluster `{name}` id {was['id']} -> {c.id}",
            f"Cilium on `{name}` restarts with a new cluster id: every security identity of "
            f"its endpoints changes and policies across the mesh stop matching them; the "
            f"peers ({peers}) see a new cluster and drop the old identities",
            "AKM701",
            "keep the id; a cluster keeps its id for life (remove the cluster and add it "
            "back under a new id if you must)"))
    if c.managed and was.get("managed", True) and was.get("region") not in (None, c.region):
        changes.append(Change(
            "disruptive", f"clusters.{name}.region", ("clusters", c.index, "region"),
            f"cluster `{name}` region {was['region']} -> {c.region}",
            f"Azure cannot move `{name}`'s resource group, VNet or AKS cluster: the "
            f"deployment fails on the resource group's location, and a cluster in "
            f"{c.region} would be a new one",
            "AKM713", "keep the region; to move, add a new cluster in the new region with "
                      "new ranges and id, migrate, then remove this one"))
    for key in ("vnetCidr", "nodeSubnetCidr", "podCidr", "serviceCidr", "dnsServiceIP",
                "clustermeshIP"):
        now = str(getattr(c, _ATTRIBUTES[key]))
        if was.get(key) != now:
            # Derived addresses follow the range they come from, which is where the change is.
            written = key if key in c.explicit else _DERIVED_FROM.get(key, key)
            changes.append(Change(
                "disruptive", f"clusters.{name}.{key}", ("clusters", c.index, written),
                f"cluster `{name}` {key} {was.get(key)} -> {now}",
                _ADDRESS_EFFECT[key].format(name=name, peers=peers),
                "AKM703",
                "keep the address of a running cluster; a new range means a new cluster"))
    if was.get("encryption") != c.encryption and "encryption" in c.explicit:
        changes.append(_encryption_change(was.get("encryption"), c.encryption,
                                          ("clusters", c.index, "encryption"), name))
    return changes


_ATTRIBUTES = {"vnetCidr": "vnet_cidr", "nodeSubnetCidr": "node_subnet_cidr",
               "podCidr": "pod_cidr", "serviceCidr": "service_cidr",
               "dnsServiceIP": "dns_service_ip", "clustermeshIP": "clustermesh_ip"}
_DERIVED_FROM = {"dnsServiceIP": "serviceCidr", "clustermeshIP": "nodeSubnetCidr"}
_ADDRESS_EFFECT = {
    "vnetCidr": "Azure cannot change the address space of `{name}`'s VNet while its subnet "
                "and peerings use it: the deployment fails or recreates the network under "
                "the running nodes",
    "nodeSubnetCidr": "the node subnet of running `{name}` cannot change under its nodes; "
                      "its ClusterMesh IP moves and the peers ({peers}) lose it",
    "podCidr": "AKS cannot change a running cluster's pod range, and Cilium's IPAM on "
               "`{name}` would hand out addresses outside the range the peers ({peers}) "
               "route through the tunnel",
    "serviceCidr": "AKS cannot change a running cluster's service range: `{name}` must be "
                   "recreated",
    "dnsServiceIP": "AKS cannot change a running cluster's DNS service IP: `{name}` must be "
                    "recreated",
    "clustermeshIP": "the ClusterMesh API server of `{name}` moves: the peers ({peers}) dial "
                     "the old address until they reconcile, and the mesh to `{name}` is down "
                     "in between",
}


def _encryption_change(before: Any, after: str, path: tuple[str | int, ...], where: str
                       ) -> Change:
    return Change(
        "disruptive", "cilium.encryption" if where == "mesh" else f"clusters.{where}.encryption",
        path, f"encryption {before} -> {after}",
        "Cilium restarts on every cluster with the new mode; until all of them run it, "
        "traffic between a cluster that encrypts and one that does not is dropped",
        "AKM705",
        "change it in a maintenance window, on every cluster in one commit")


def _cilium_changes(old: dict[str, dict[str, Any]], plan: Plan) -> list[Change]:
    """Cilium upgrades, one change per version step and place in the topology (the mesh's
    version, or a wave's), naming the clusters it reaches."""
    steps: dict[tuple[Any, ...], list[Cluster]] = {}
    for c in plan.clusters:
        before = old.get(c.name, {}).get("ciliumVersion")
        if before and before != c.cilium_version:
            path: tuple[str | int, ...] = (
                ("rollout", "waves", c.wave_index, "cilium", "version")
                if c.wave_index is not None and c.wave_cilium else ("cilium", "version"))
            steps.setdefault((path, before, c.cilium_version), []).append(c)
    changes = []
    for (path, before, after), clusters in steps.items():
        names = ", ".join(c.name for c in clusters)
        key = (f"rollout.waves.{plan.rollout[path[2]].name}.cilium.version"
               if path[0] == "rollout" else "cilium.version")
        summary = f"Cilium {before} -> {after} on {names}"
        old_v, new_v = _version(before), _version(after)
        if new_v < old_v:
            changes.append(Change("refused", key, path, summary,
                                  "aksmesh rolls Cilium forward only", "AKM710",
                                  f"keep {before} or newer; Cilium's only tested rollback "
                                  "(to the previous minor) is its upgrade guide's manual "
                                  "procedure, not a version edit"))
        elif new_v[0] != old_v[0] or new_v[1] > old_v[1] + facts.CILIUM_MAX_MINOR_STEP:
            changes.append(Change("refused", key, path, summary,
                                  "Cilium upgrades one minor version at a time", "AKM710",
                                  f"upgrade to {old_v[0]}.{old_v[1] + 1} first (Cilium "
                                  "upgrade guide: upgrade to the next minor release only)"))
        else:
            rest = ", ".join(c.name for c in plan.clusters if c not in clusters)
            changes.append(Change(
                "rolling", key, path, summary,
                f"helm-controller upgrades Cilium on {names}, agents restarting node by "
                f"node; the mesh keeps its connections"
                + (f" to {rest}, still on their version" if rest else "")))
    return changes


def _mesh_changes(previous: dict[str, Any], plan: Plan, ca: SharedCa | None) -> list[Change]:
    everyone = ", ".join(c.name for c in plan.clusters)
    changes = _kubernetes_changes(previous, plan, everyone)
    if previous.get("maxConnectedClusters") != plan.max_connected_clusters:
        changes.append(Change(
            "disruptive", "cilium.maxConnectedClusters", ("cilium", "maxConnectedClusters"),
            f"maxConnectedClusters {previous.get('maxConnectedClusters')} -> "
            f"{plan.max_connected_clusters}",
            "the identity bits change: Cilium must be reinstalled on every cluster "
            f"({everyone}), and clusters with different values cannot mesh",
            "AKM704", "keep it; plan the mesh's size before the first cluster runs"))
    if previous.get("encryption") != plan.encryption:
        changes.append(_encryption_change(previous.get("encryption"), plan.encryption,
                                          ("cilium", "encryption"), "mesh"))
    digest = ca_digest(ca)
    if previous.get("ca") and digest != previous.get("ca"):
        changes.append(Change(
            "disruptive", "ca", (), "the shared CA was replaced" if digest else
            "the shared CA was removed",
            "every cluster re-issues its ClusterMesh and Hubble certificates from the new "
            f"CA as it reconciles ({everyone}); until all have, clusters on different CAs "
            "cannot authenticate each other and the mesh is down between them",
            "AKM706", "restore the old CA file from Git, or follow the README's CA "
                      "rotation procedure"))
    if (previous.get("deploymentLocation") and plan.deployment_location
            and previous["deploymentLocation"] != plan.deployment_location):
        changes.append(Change(
            "disruptive", "deploymentLocation", ("clusters",),
            f"deployment location {previous['deploymentLocation']} -> "
            f"{plan.deployment_location}",
            f"the first Azure cluster changed: ARM refuses a subscription deployment named "
            f"`{plan.name}` in another location than its existing record",
            "AKM708", f"keep the first cluster first, or delete the deployment record "
                      f"first (`az deployment sub delete --name {plan.name}`: it deletes no "
                      "resource)", at_key=True))
    return changes + _app_changes(previous, plan, everyone)


def _kubernetes_changes(previous: dict[str, Any], plan: Plan, everyone: str) -> list[Change]:
    changes: list[Change] = []
    before = previous.get("kubernetesVersion")
    if before and before != plan.kubernetes_version:
        old, new = _version(before), _version(plan.kubernetes_version)
        summary = f"Kubernetes {before} -> {plan.kubernetes_version}"
        if new < old:
            changes.append(Change("refused", "kubernetesVersion", ("kubernetesVersion",),
                                  summary, "AKS does not downgrade a cluster", "AKM709",
                                  f"keep {before}"))
        elif new[0] != old[0] or new[1] > old[1] + facts.KUBERNETES_MAX_MINOR_STEP:
            changes.append(Change("refused", "kubernetesVersion", ("kubernetesVersion",),
                                  summary, "AKS upgrades one minor version at a time",
                                  "AKM709", f"upgrade to {old[0]}.{old[1] + 1} first (AKS "
                                  "docs: skipping minor versions is not supported)"))
        else:
            how = ("a Fleet update run upgrades the clusters wave by wave "
                   f"({', '.join(w.name for w in plan.rollout)}); start it before deploying "
                   "the Bicep (see README.md)" if plan.rollout else
                   "the Bicep deployment upgrades the clusters one after the other, in "
                   "topology order")
            changes.append(Change("rolling", "kubernetesVersion", ("kubernetesVersion",),
                                  summary, f"{how}: {everyone}"))
    return changes


def _app_changes(previous: dict[str, Any], plan: Plan, everyone: str) -> list[Change]:
    """Global services and segmentation flows added or removed: safe, Flux applies them."""
    changes: list[Change] = []
    old_services, new_services = set(previous.get("globalServices", ())), {
        f"{s.namespace}/{s.name}" for s in plan.global_services}
    for s in plan.global_services:
        if f"{s.namespace}/{s.name}" not in old_services:
            changes.append(Change("safe", f"globalServices.{s.namespace}/{s.name}",
                                  ("globalServices", s.index), f"new global service "
                                  f"{s.namespace}/{s.name}", f"created on {everyone}"))
    for gone in sorted(old_services - new_services):
        changes.append(Change("safe", f"globalServices.{gone}", ("globalServices",),
                              f"global service {gone} removed",
                              f"Flux prunes it on {everyone}"))
    old_flows = set(previous.get("flows", ()))
    new_flows = {flow_text(f): f for f in plan.segmentation or ()}
    for text, f in new_flows.items():
        if text not in old_flows:
            changes.append(Change("safe", f"flows.{text}", ("segmentation", "allow", f.index),
                                  f"new flow {text}", f"admitted on `{f.destination.cluster}`"))
    for text in sorted(old_flows - new_flows.keys()):
        changes.append(Change("safe", f"flows.{text}", ("segmentation",), f"flow {text} "
                              "removed", "no longer admitted"))
    return changes


def _version(text: str) -> tuple[int, ...]:
    return tuple(int(part) for part in text.split("."))


def findings(changes: list[Change], acknowledged: tuple[str, ...]) -> list[Finding]:
    """Errors for refused changes, and for disruptive ones nobody acknowledged."""
    out = []
    for change in changes:
        if change.klass == "refused" or (change.klass == "disruptive" and not (
                change.code in acknowledged or change.key in acknowledged)):
            hint = change.hint
            if change.klass == "disruptive":
                hint += (f"; or, if you mean it, acknowledge it: --allow-disruptive "
                         f"{change.key} (or {change.code} for every such change)")
            out.append(Finding(change.code or "", change.path,
                               f"{change.klass} change: {change.summary}: {change.effect}",
                               hint, at_key=change.at_key))
    return out


def unmatched_acknowledgements(changes: list[Change], acknowledged: tuple[str, ...]
                               ) -> list[str]:
    known = {c.key for c in changes if c.klass == "disruptive"} | {
        c.code for c in changes if c.klass == "disruptive"}
    return [a for a in acknowledged if a not in known]

