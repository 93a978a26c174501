"""Day-2 changes on the Azure side: what AKS does when a redeployment changes the settings of
a running cluster or of its system pool.

Apart from `state_changes` (the mesh: ids, addresses, versions, the CA) because its rules
are AKS's own: which properties it changes in place, which it rolls out by replacing or
reimaging nodes, and which it refuses on an existing cluster or pool, so that the
deployment fails. Sources: the AKS docs (MicrosoftDocs/azure-aks-docs at fb060ab,
2026-08-21, articles/aks/, named per rule below) and, for the VM size, the error AKS
returns (PropertyChangeNotAllowed, Azure/bicep-registry-modules#7130). Where the docs
disagree (maxPods), the change is judged as the stricter page says.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from .diagnostics import Code, Severity
from .state import POOL_ATTRIBUTES, aks_record, pool_record
from .state_changes import Change

if TYPE_CHECKING:
    from .plan_records import Cluster, Plan

# The codes of these changes, registered by diagnostics.codes().
CODES = (
    Code("AKM714", Severity.ERROR, "system-pool setting AKS cannot change on a running pool",
         "AKS fixes a node pool's VM size, availability zones, maxPods and OS disk type "
         "when it creates the pool: changed on a running cluster, the deployment fails. "
         "(Its node count changes in place, its OS SKU by reimaging every node.) "
         "Disruptive.",
         "aks:\n  systemPool:\n    vmSize: Standard_D8ds_v5  # was Standard_D4ds_v5"),
    Code("AKM715", Severity.ERROR, "cluster setting AKS takes only at creation",
         "Encryption at host, a private API server (without API Server VNet Integration) "
         "and turning Microsoft Entra ID integration off cannot change on a running "
         "cluster: the deployment fails. Disruptive.",
         "aks:\n  encryptionAtHost: true  # the clusters were created without it"),
)

# System-pool setting (as the state record spells it): its class, code, and what AKS does.
_POOL = {
    "count": ("safe", None, "AKS scales the system pool of {names} in place: new nodes "
              "join, or surplus nodes are drained and removed (resize-cluster.md)"),
    "osSku": ("rolling", None, "AKS reimages every node of the system pool of {names} to "
              "the new OS, one node at a time, each drained first (upgrade-os-version.md)"),
    "vmSize": ("disruptive", "AKM714", "AKS refuses to change the VM size of a running node "
               "pool at the API version aksmesh deploys (PropertyChangeNotAllowed; from "
               "2026-01-02-preview on it replaces every node, behind a preview feature "
               "flag): the deployment fails on {names}"),
    "zones": ("disruptive", "AKM714", "AKS cannot change the availability zones of a "
              "running node pool (reliability-availability-zones-configure.md): the "
              "deployment fails on {names}"),
    "maxPods": ("disruptive", "AKM714", "AKS fixes maxPods when it creates a node pool "
                "(concepts-network-ip-address-planning.md: add a new node pool to change "
                "it): the deployment fails on {names}"),
    "osDiskType": ("disruptive", "AKM714", "AKS fixes the OS disk type when it creates a "
                   "node pool (an ephemeral or managed OS disk is immutable once the nodes "
                   "exist): the deployment fails on {names}"),
}
_POOL_HINT = ("keep the {key} of a running cluster's system pool; AKS takes a new one only "
              "in a new node pool, which aksmesh does not manage (add one, move the system "
              "pods to it, remove the old one)")
# Cluster settings AKS takes only when it creates a cluster (or a pool): record key, the
# topology path that sets it, what AKS does.
_CLUSTER = {
    "encryptionAtHost": (("aks", "encryptionAtHost"), "AKS sets encryption at host only "
                         "when it creates a node pool (enable-host-encryption.md): the "
                         "deployment fails on {names}"),
    "privateCluster": (("aks", "privateCluster"), "AKS makes a running cluster private, or "
                       "public again, only with API Server VNet Integration, which aksmesh "
                       "does not enable (private-clusters.md, api-server-vnet-integration.md)"
                       ": the deployment fails on {names}"),
    "entraIntegration": (("aks", "disableLocalAccounts"), "AKS cannot turn Microsoft Entra "
                         "ID integration off once it is on (entra-id-control-plane-"
                         "authentication.md; aksmesh turns it off when neither "
                         "aks.azureRbac nor aks.disableLocalAccounts is set): the "
                         "deployment fails on {names}"),
}


def aks_changes(previous: dict[str, Any], plan: Plan) -> list[Change]:
    """The changes of the clusters' system pools, then of the cluster settings, one per
    setting and place in the topology, naming the running clusters it reaches. A record
    from before aksmesh kept them has nothing to compare."""
    old = {c["name"]: c for c in previous["clusters"]}
    steps: dict[tuple[str, str, str, str], list[Cluster]] = {}
    for c in plan.clusters:
        was, now = (old.get(c.name) or {}).get("systemPool"), pool_record(c)
        if not was or now is None:
            continue
        for key in _POOL:
            if was.get(key) != now[key]:
                where = _where(c, plan, key)
                steps.setdefault((where, key, _text(was.get(key)), _text(now[key])),
                                 []).append(c)
    changes = [_pool_change(where, key, before, after, clusters)
               for (where, key, before, after), clusters in steps.items()]
    before_aks = previous.get("aks") or {}
    after_aks = aks_record(plan)
    running = ", ".join(c.name for c in plan.clusters if c.managed and c.name in old)
    for key, (path, effect) in _CLUSTER.items():
        if key in before_aks and before_aks[key] != after_aks[key] and running \
                and not (key == "entraIntegration" and after_aks[key]):
            changes.append(Change(
                "disruptive", ".".join(map(str, path)), path,
                f"aks {key} {str(before_aks[key]).lower()} -> {str(after_aks[key]).lower()}",
                effect.format(names=running), "AKM715",
                "keep it as the running clusters were created; a new value needs new "
                "clusters"))
    return changes


def _where(c: Cluster, plan: Plan, key: str) -> str:
    """Which systemPool sets it: the cluster's own where its value differs from
    aks.systemPool's (the cluster laid its own over it), else aks.systemPool."""
    mesh_pool = plan.aks.system_pool
    if key == "zones":
        own = mesh_pool.zones is not None and tuple(c.zones) != mesh_pool.zones
    else:
        attribute = POOL_ATTRIBUTES[key]
        own = getattr(c.system_pool, attribute) != getattr(mesh_pool, attribute)
    return c.name if own else ""


def _pool_change(where: str, key: str, before: str, after: str, clusters: list[Cluster]
                 ) -> Change:
    klass, code, effect = _POOL[key]
    names = ", ".join(c.name for c in clusters)
    path: tuple[str | int, ...] = (("clusters", clusters[0].index, "systemPool", key) if where
                                   else ("aks", "systemPool", key))
    return Change(klass, f"clusters.{where}.systemPool.{key}" if where else
                  f"aks.systemPool.{key}", path,
                  f"system pool {key} {before} -> {after} on {names}",
                  effect.format(names=names), code, _POOL_HINT.format(key=key) if code else "")


def _text(value: Any) -> str:
    if isinstance(value, list):
        return ",".join(value) or "no zones"
    return "as AKS picks it" if value is None else str(value)
