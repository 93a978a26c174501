"""The plan's records: the immutable model every stage after plan reads.

`plan.py` builds a `Plan` from the checked topology; the rules, the renderers and verify
only read it. The records are apart from their building so that a reader of the plan
imports no planning, and so that what a value means (here) and how it is decided
(`plan.py`) are each in one place. The mesh's traffic intent (global services,
segmentation flows) has its own module, `mesh_intent.py`.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import asdict, dataclass, field
from functools import cached_property
from ipaddress import IPv4Address, IPv4Network
from typing import TYPE_CHECKING, Any

from . import facts
from .mesh_intent import Endpoints, Flow, GlobalService, matrix_rows, preference_text

if TYPE_CHECKING:
    from .segmentation import SegmentationPolicy


# The shape of `aksmesh plan --json` (docs/plan-json.md): raised when a key changes meaning
# or disappears; new keys may appear without a new version.
PLAN_FORMAT_VERSION = 1


@dataclass(frozen=True)
class SystemPool:
    vm_size: str
    count: int
    zones: tuple[str, ...] | None  # as the topology asks; None: each region's own zones
    max_pods: int
    os_sku: str
    os_disk_type: str | None  # None: AKS picks (Ephemeral where the VM size allows it)


@dataclass(frozen=True)
class ControlPlaneLogs:
    retention_days: int
    categories: tuple[str, ...]


@dataclass(frozen=True)
class AksSettings:
    tier: str
    system_pool: SystemPool
    private_cluster: bool
    disable_local_accounts: bool
    azure_rbac: bool
    workload_identity: bool
    azure_policy: bool
    upgrade_channel: str
    node_os_upgrade_channel: str
    admin_group_object_ids: tuple[str, ...]
    authorized_ip_ranges: tuple[str, ...]
    unrestricted_api_server: bool
    encryption_at_host: bool
    control_plane_logs: ControlPlaneLogs | None  # None: opted out

    @property
    def entra_integration(self) -> bool:
        """AKS-managed Entra ID integration (aadProfile): for Azure RBAC, and because AKS
        refuses local accounts disabled on a cluster without it."""
        return self.azure_rbac or self.disable_local_accounts

    @property
    def restricts_api_server(self) -> bool:
        """A public API server that admits only the authorized ranges."""
        return not self.private_cluster and not self.unrestricted_api_server


@dataclass(frozen=True)
class MeshPeer:
    """A ClusterMesh endpoint as one cluster sees another, as its Cilium values spell it.

    The address is kept as text: a mesh of N clusters lists N*(N-1) endpoints, and each
    cluster's endpoint object is shared by all the others' lists.
    """

    name: str
    ip: str
    port: int


@dataclass(frozen=True)
class Cluster:
    index: int  # position in the topology's `clusters`, for diagnostics
    name: str
    id: int
    managed: bool  # created by aksmesh on AKS; False for a hybrid member
    encryption: str  # wireguard or none
    region: str
    vnet_cidr: IPv4Network
    node_subnet_cidr: IPv4Network
    pod_cidr: IPv4Network
    service_cidr: IPv4Network
    dns_service_ip: IPv4Address
    clustermesh_ip: IPv4Address
    # Azure names
    resource_group: str
    node_resource_group: str
    aks_name: str
    dns_prefix: str
    vnet_name: str
    subnet_name: str
    nsg_name: str
    identity_name: str
    cluster_deployment: str
    peerings_deployment: str
    log_workspace_name: str
    zones: tuple[str, ...]  # availability zones of the system pool, decided per region
    mesh_peers: tuple[MeshPeer, ...]
    explicit: frozenset[str]  # keys written in the topology, as opposed to defaulted
    # The Cilium chart this cluster runs: its rollout wave's version, else the mesh's.
    cilium_version: str = ""
    wave_index: int | None = None  # position of its wave in `rollout.waves`, if any
    wave_cilium: bool = False  # whether that wave pins its own Cilium version
    # Its system pool: aks.systemPool with the cluster's own systemPool laid over it.
    system_pool: SystemPool | None = None
    # Extra Helm values from the topology, merged under aksmesh's own (escape hatch).
    extra_cilium_values: dict[str, Any] = field(default_factory=dict, compare=False)

    @property
    def azure_names(self) -> dict[str, str]:
        """Every Azure name of the cluster, keyed by the kind of name (facts.MAX_NAME_LENGTH)."""
        return {
            "resource group": max((self.resource_group, self.node_resource_group), key=len),
            "AKS cluster": self.aks_name,
            "dnsPrefix": self.dns_prefix,
            "virtual network": self.vnet_name,
            "network security group": self.nsg_name,
            "user-assigned identity": self.identity_name,
            "deployment": max((self.cluster_deployment, self.peerings_deployment), key=len),
            "log analytics workspace": self.log_workspace_name,
        }


@dataclass(frozen=True)
class Peering:
    """One direction of a VNet peering: created in `local`'s VNet, pointing at `remote`.

    Only full-mesh peering has them; an AVNM mesh connects the VNets without.
    """

    local: str
    remote: str
    name: str  # the remote VNet's name: unique among the local VNet's peerings


@dataclass(frozen=True)
class NetworkManager:
    """The Azure Virtual Network Manager that connects the mesh when peering is avnm."""

    resource_group: str
    location: str
    deployment: str
    network_manager: str
    regions: tuple[str, ...]


@dataclass(frozen=True)
class Wave:
    """One stage of a staged rollout: its clusters take a Cilium version (GitOps) and a
    Kubernetes upgrade (a Fleet update run's stage) together, after the waves before."""

    index: int  # position in `rollout.waves`
    name: str
    clusters: tuple[str, ...]
    cilium_version: str  # its own, else the mesh's
    after_wait_seconds: int  # Fleet waits this long after the stage before the next one
    own_cilium: bool  # the wave pins its own Cilium version


@dataclass(frozen=True)
class Fleet:
    """The Azure Kubernetes Fleet Manager whose update runs upgrade the managed clusters
    wave by wave: each wave is an update group and a stage of one update strategy."""

    resource_group: str
    location: str
    name: str
    deployment: str
    strategy: str
    # The strategy's stages: the waves with an AKS cluster (a stage of hybrid members only
    # would name an update group without members).
    stages: tuple[Wave, ...]


@dataclass(frozen=True)
class Plan:
    name: str
    kubernetes_version: str
    cilium_version: str
    max_connected_clusters: int
    encryption: str  # the mesh default; clusters may override (and a check refuses a mix)
    hubble_relay: bool
    hubble_ui: bool
    gitops_path: str
    peering: str  # full-mesh or avnm
    mesh: NetworkManager | None  # only for avnm
    aks: AksSettings
    tags: tuple[tuple[str, str], ...]
    clusters: tuple[Cluster, ...]
    peerings: tuple[Peering, ...]
    global_services: tuple[GlobalService, ...]
    segmentation: tuple[Flow, ...] | None  # None: no restriction between clusters
    rollout: tuple[Wave, ...] = ()  # () : every cluster at once
    fleet: Fleet | None = None  # only with rollout waves and Azure clusters

    @cached_property  # read in loops by checks and templates
    def managed_clusters(self) -> tuple[Cluster, ...]:
        """The clusters the Bicep creates: every one but the hybrid members."""
        return tuple(c for c in self.clusters if c.managed)

    @cached_property
    def deployment_location(self) -> str | None:
        """Where Azure keeps the subscription deployment's record: the first managed
        cluster's region (a hybrid member's region is free text, not an Azure region)."""
        return self.managed_clusters[0].region if self.managed_clusters else None

    @property
    def hybrid_clusters(self) -> tuple[Cluster, ...]:
        return tuple(c for c in self.clusters if not c.managed)

    @property
    def full_mesh(self) -> bool:
        """VNet peerings between every pair of VNets, not an Azure Virtual Network Manager."""
        return self.peering == "full-mesh"

    @property
    def wireguard(self) -> bool:
        return self.encryption == "wireguard"

    @property
    def peer_count(self) -> int:
        """How many clusters each cluster connects to."""
        return len(self.clusters) - 1

    @cached_property
    def mesh_traffic(self) -> tuple[facts.MeshTraffic, ...]:
        """What each node subnet admits from the others: WireGuard's port only where
        WireGuard runs (a check keeps it mesh-wide), Hubble's only where Relay runs."""
        return tuple(t for t in facts.MESH_TRAFFIC
                     if (t.port != str(facts.WIREGUARD_PORT) or self.wireguard)
                     and (t.port != str(facts.HUBBLE_PORT) or self.hubble_relay))

    @cached_property
    def mesh_namespaces(self) -> tuple[str, ...]:
        """The namespaces the mesh-apps Kustomization creates on every cluster when missing
        (the global services live there): without them kustomize-controller's dry-run
        fails on the first Service and applies nothing."""
        return tuple(sorted({s.namespace for s in self.global_services}))

    @cached_property
    def mesh_endpoints(self) -> tuple[MeshPeer, ...]:
        """Every cluster's ClusterMesh endpoint, by name: the list the tree keeps once, for
        all clusters (each disables its own entry)."""
        return mesh_endpoints(self.clusters)

    def flows_into(self, cluster: Cluster) -> tuple[Flow, ...]:
        return tuple(f for f in self.segmentation or () if f.destination.cluster == cluster.name)

    def declares(self, source: Endpoints, destination: Endpoints) -> bool:
        """Whether the topology admits pods of `source` into `destination` (both with a
        namespace); inside one cluster segmentation restricts nothing."""
        if self.segmentation is None or source.cluster == destination.cluster:
            return True
        return any(f.source.namespace in (None, source.namespace)
                   and f.destination.namespace in (None, destination.namespace)
                   for f in self._flows_between.get((source.cluster, destination.cluster), ()))

    @cached_property
    def _flows_between(self) -> dict[tuple[str, str], tuple[Flow, ...]]:
        pairs: dict[tuple[str, str], list[Flow]] = {}
        for flow in self.segmentation or ():
            pairs.setdefault((flow.source.cluster, flow.destination.cluster), []).append(flow)
        return {pair: tuple(flows) for pair, flows in pairs.items()}

    @cached_property
    def named_namespaces(self) -> tuple[str, ...]:
        """Every namespace the topology names, in flows or global services."""
        named = {s.namespace for s in self.global_services}
        for flow in self.segmentation or ():
            named |= {n for n in (flow.source.namespace, flow.destination.namespace) if n}
        return tuple(sorted(named))

    def segmentation_policies(self, cluster: Cluster) -> tuple[SegmentationPolicy, ...]:
        from .segmentation import plan_segmentation_policies

        return plan_segmentation_policies(self, cluster)

    def intended_matrix(self) -> dict[tuple[str, str], set[tuple[str, str]]]:
        """(cluster, namespace) → the (cluster, namespace) of other clusters it admits, as
        the topology declares; namespaces are the named ones and facts.OTHER_NAMESPACES."""
        namespaces = self.named_namespaces + (facts.OTHER_NAMESPACES,)
        if self.segmentation is None:
            return {(d.name, m): {(s.name, n) for s in self.clusters if s is not d
                                  for n in namespaces}
                    for d in self.clusters for m in namespaces}
        matrix: dict[tuple[str, str], set[tuple[str, str]]] = {
            (d.name, m): set() for d in self.clusters for m in namespaces}
        for f in self.segmentation:
            if f.source.cluster == f.destination.cluster:
                continue
            sources = ({(f.source.cluster, f.source.namespace)} if f.source.namespace
                       else {(f.source.cluster, n) for n in namespaces})
            for m in ((f.destination.namespace,) if f.destination.namespace else namespaces):
                matrix[(f.destination.cluster, m)] |= sources
        return matrix

    def reachability_rows(self) -> tuple[tuple[str, tuple[str, ...]], ...]:
        return matrix_rows(self.intended_matrix(), [c.name for c in self.clusters],
                           self.named_namespaces + (facts.OTHER_NAMESPACES,))

    def service_rows(self) -> tuple[tuple[GlobalService, tuple[tuple[str, str], ...]], ...]:
        """Per global service, the backend clusters clients are sent to, best first, as
        text, with the clusters whose clients get that answer (`ne, we`)."""
        rows = []
        for service in self.global_services:
            by_text: dict[str, list[str]] = {}
            for cluster in self.clusters:
                by_text.setdefault(preference_text(service.preference(cluster.name)),
                                   []).append(cluster.name)
            rows.append((service, tuple((", ".join(names), text)
                                        for text, names in by_text.items())))
        return tuple(rows)

    def to_json(self) -> dict[str, Any]:
        """The plan as JSON-ready data: addresses as strings, field names in camelCase;
        docs/plan-json.md documents the shape of this format version."""
        return {"formatVersion": PLAN_FORMAT_VERSION, **_camel(asdict(self)),
                "deploymentLocation": self.deployment_location}


def mesh_endpoints(clusters: Iterable[Cluster]) -> tuple[MeshPeer, ...]:
    return tuple(MeshPeer(c.name, str(c.clustermesh_ip), facts.CLUSTERMESH_PORT)
                 for c in sorted(clusters, key=lambda c: c.name))


def _camel(value: Any) -> Any:
    if isinstance(value, dict):
        return {_camel_key(k): _camel(v) for k, v in value.items()
                if k not in ("index", "explicit")}
    if isinstance(value, (list, tuple)):
        return [_camel(v) for v in value]
    if isinstance(value, frozenset):
        return sorted(value)
    if isinstance(value, (IPv4Address, IPv4Network)):
        return str(value)
    return value


def _camel_key(key: str) -> str:
    head, *rest = key.split("_")
    # The topology spells addresses dnsServiceIP and clustermeshIP; so does the plan.
    return head + "".join("IP" if part == "ip" else part.capitalize() for part in rest)
