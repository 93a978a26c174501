"""Stage 3, plan: decide every value, once, into an immutable model.

Input is a topology that passed the schema and the field checks (so every CIDR parses);
output is a `Plan` the backends only read. Defaults come from `topology.schema.json`
(its `default` annotations are the one place they are written down), derived values
(addresses, Azure names, peerings, mesh endpoints) are computed here and nowhere else.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import asdict, dataclass, field, replace
from functools import cached_property
from ipaddress import IPv4Address, IPv4Network
from typing import TYPE_CHECKING, Any

from . import facts
from .schema_defaults import with_defaults

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
class ServicePort:
    port: int
    target_port: int
    protocol: str
    name: str | None


@dataclass(frozen=True)
class ServiceManifest:
    """A global service as one cluster's Service object spells it."""

    annotations: tuple[tuple[str, str], ...]
    selector: tuple[tuple[str, str], ...]  # empty: the Service selects no pod here
    note: str  # why this cluster's Service looks the way it does


@dataclass(frozen=True)
class GlobalService:
    """A Service present in every cluster and load-balanced across the mesh."""

    index: int  # position in the topology's `globalServices`
    name: str
    namespace: str
    ports: tuple[ServicePort, ...]
    selector: tuple[tuple[str, str], ...]
    backends: frozenset[str]  # clusters that share their endpoints
    affinity: str  # none, local or remote

    def manifest_in(self, cluster: str) -> ServiceManifest:
        """The Service in `cluster`. Outside `backends` it has no selector: Kubernetes then
        makes no endpoints for it, so the cluster's clients only get the backends the
        mesh shares (`shared: "false"` alone would still serve them from local pods).
        `affinity: none` is Cilium's default and is left out: a literal "none" dropped
        every remote backend on Cilium before cilium/cilium#46635."""
        backend = cluster in self.backends
        annotations = [(facts.GLOBAL_SERVICE_ANNOTATION, "true"),
                       (facts.SHARED_SERVICE_ANNOTATION, "true" if backend else "false")]
        if self.affinity != "none":
            annotations.append((facts.SERVICE_AFFINITY_ANNOTATION, self.affinity))
        note = ("This cluster runs backends and shares them with the mesh."
                if backend else
                "No backends here: no selector, so this cluster's clients reach only the "
                "backends of " + ", ".join(sorted(self.backends)) + ".")
        return ServiceManifest(tuple(annotations), self.selector if backend else (), note)

    def preference(self, cluster: str) -> tuple[tuple[str, ...], ...]:
        """The backend clusters a client in `cluster` uses, best first (Cilium uses the
        next group only when the one before has no healthy backend): what affinity means
        according to Cilium's docs (Documentation/network/clustermesh/affinity.rst)."""
        others = tuple(sorted(self.backends - {cluster}))
        own = (cluster,) if cluster in self.backends else ()
        if self.affinity == "local":
            groups = (own, others)
        elif self.affinity == "remote":
            groups = (others, own)
        else:
            groups = (tuple(sorted(self.backends)),)
        return tuple(g for g in groups if g)


@dataclass(frozen=True)
class Endpoints:
    """One side of a cross-cluster flow: a cluster, and one namespace or all (None)."""

    cluster: str
    namespace: str | None


@dataclass(frozen=True)
class Flow:
    index: int  # position in the topology's `segmentation.allow`
    source: Endpoints
    destination: Endpoints


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


def plan_topology(topology: dict[str, Any], schema: dict[str, Any]) -> Plan:
    data = with_defaults(topology, schema, schema)
    name = data["name"]
    aks = data["aks"]
    pool = aks["systemPool"]
    pool_zones = tuple(pool["zones"]) if "zones" in pool else None
    clusters = [_plan_cluster(index, name, c, data["cilium"]["encryption"], pool_zones)
                for index, c in enumerate(data["clusters"])]
    clusters = [replace(c, system_pool=_cluster_pool(pool, raw.get("systemPool", {}),
                                                     pool_zones))
                for c, raw in zip(clusters, data["clusters"])]
    logs = aks["controlPlaneLogs"]
    endpoints = mesh_endpoints(clusters)
    clusters = [_with_mesh_peers(c, endpoints) for c in clusters]
    waves = tuple(_plan_wave(i, w, data["cilium"]["version"])
                  for i, w in enumerate(data.get("rollout", {}).get("waves", ())))
    clusters = [_in_wave(c, waves, data["cilium"]["version"]) for c in clusters]
    managed = [c for c in clusters if c.managed]
    return Plan(
        name=name,
        kubernetes_version=data["kubernetesVersion"],
        cilium_version=data["cilium"]["version"],
        max_connected_clusters=data["cilium"]["maxConnectedClusters"],
        encryption=data["cilium"]["encryption"],
        hubble_relay=data["cilium"]["hubble"]["relay"],
        hubble_ui=data["cilium"]["hubble"]["ui"],
        gitops_path=data["gitops"].get("path", f"out/{name}"),
        peering=data["peering"],
        mesh=(_plan_network_manager(name, managed)
              if data["peering"] == "avnm" and managed else None),
        aks=AksSettings(
            tier=aks["tier"],
            system_pool=SystemPool(pool["vmSize"], pool["count"], pool_zones,
                                   pool["maxPods"], pool["osSku"], pool.get("osDiskType")),
            private_cluster=aks["privateCluster"],
            disable_local_accounts=aks["disableLocalAccounts"],
            azure_rbac=aks["azureRbac"],
            workload_identity=aks["workloadIdentity"],
            azure_policy=aks["azurePolicy"],
            upgrade_channel=aks["upgradeChannel"],
            node_os_upgrade_channel=aks["nodeOsUpgradeChannel"],
            admin_group_object_ids=tuple(aks["adminGroupObjectIds"]),
            authorized_ip_ranges=tuple(aks["authorizedIpRanges"]),
            unrestricted_api_server=aks["unrestrictedApiServer"],
            encryption_at_host=aks["encryptionAtHost"],
            control_plane_logs=(ControlPlaneLogs(logs["retentionDays"], tuple(logs["categories"]))
                                if logs["enabled"] else None),
        ),
        tags=tuple(sorted(data["tags"].items())),
        clusters=tuple(clusters),
        peerings=plan_peerings(managed) if data["peering"] == "full-mesh" else (),
        global_services=tuple(_plan_global_service(i, s)
                              for i, s in enumerate(data["globalServices"])),
        segmentation=(tuple(_plan_flow(i, f) for i, f in enumerate(data["segmentation"]["allow"]))
                      if "segmentation" in data else None),
        rollout=waves,
        fleet=_plan_fleet(name, managed, waves) if waves and managed else None,
    )


def _cluster_pool(mesh: dict[str, Any], own: dict[str, Any],
                  zones: tuple[str, ...] | None) -> SystemPool:
    pool = {**mesh, **own}
    return SystemPool(pool["vmSize"], pool["count"], zones, pool["maxPods"], pool["osSku"],
                      pool.get("osDiskType"))


def _plan_wave(index: int, wave: dict[str, Any], mesh_cilium: str) -> Wave:
    return Wave(index, wave["name"], tuple(wave["clusters"]),
                wave.get("cilium", {}).get("version", mesh_cilium),
                wave.get("afterWaitSeconds", 0), "version" in wave.get("cilium", {}))


def _in_wave(cluster: Cluster, waves: tuple[Wave, ...], mesh_cilium: str) -> Cluster:
    wave = next((w for w in waves if cluster.name in w.clusters), None)
    if wave is None:
        return replace(cluster, cilium_version=mesh_cilium)
    return replace(cluster, cilium_version=wave.cilium_version, wave_index=wave.index,
                   wave_cilium=wave.own_cilium)


def _plan_fleet(topology_name: str, clusters: list[Cluster], waves: tuple[Wave, ...]
                ) -> Fleet:
    azure = {c.name for c in clusters}
    return Fleet(
        resource_group=f"rg-{topology_name}-fleet",
        # Fleet is a regional resource that manages members anywhere; it lives with the
        # first cluster, where the deployment record lives too.
        location=clusters[0].region,
        name=f"fleet-{topology_name}",
        deployment=f"{topology_name}-fleet",
        strategy="waves",
        stages=tuple(w for w in waves if azure & set(w.clusters)),
    )


def _plan_global_service(index: int, service: dict[str, Any]) -> GlobalService:
    return GlobalService(
        index=index,
        name=service["name"],
        namespace=service["namespace"],
        ports=tuple(ServicePort(p["port"], p.get("targetPort", p["port"]), p["protocol"],
                                p.get("name")) for p in service["ports"]),
        selector=tuple(sorted(service["selector"].items())),
        backends=frozenset(service["backends"]),
        affinity=service["affinity"],
    )


def _plan_flow(index: int, flow: dict[str, Any]) -> Flow:
    def endpoints(side: dict[str, Any]) -> Endpoints:
        return Endpoints(side["cluster"], side.get("namespace"))

    return Flow(index, endpoints(flow["from"]), endpoints(flow["to"]))


def matrix_rows(matrix: dict[tuple[str, str], set[tuple[str, str]]], clusters: list[str],
                namespaces: tuple[str, ...]) -> tuple[tuple[str, tuple[str, ...]], ...]:
    """A reachability matrix as lines: `cluster/namespace` and what it admits from other
    clusters, a cluster admitted in every namespace written `cluster/*`."""
    rows = []
    for cluster in clusters:
        for namespace in namespaces:
            admitted = matrix.get((cluster, namespace), set())
            sources = []
            for source in clusters:
                found = [n for n in namespaces if (source, n) in admitted]
                if len(found) == len(namespaces):
                    sources.append(f"{source}/*")
                else:
                    sources += [f"{source}/{n}" for n in found]
            rows.append((f"{cluster}/{namespace}", tuple(sources)))
    return tuple(rows)


def preference_text(groups: tuple[tuple[str, ...], ...]) -> str:
    """Backend clusters best first: `ne > we` (we only when ne has no healthy backend),
    `ne + we` (load-balanced across both)."""
    return " > ".join(" + ".join(group) for group in groups) or "(none)"


def _plan_network_manager(topology_name: str, clusters: list[Cluster]) -> NetworkManager:
    return NetworkManager(
        resource_group=f"rg-{topology_name}-mesh",
        # The manager is global; it lives with the first cluster.
        location=clusters[0].region,
        deployment=f"{topology_name}-mesh",
        network_manager=f"avnm-{topology_name}",
        regions=tuple(sorted({c.region for c in clusters})),
    )


def default_dns_service_ip(service_cidr: IPv4Network) -> IPv4Address:
    return service_cidr[facts.DNS_SERVICE_IP_OFFSET]


def default_clustermesh_ip(node_subnet: IPv4Network) -> IPv4Address:
    return node_subnet[-1 - facts.CLUSTERMESH_IP_FROM_END]


def plan_peerings(clusters: list[Cluster]) -> tuple[Peering, ...]:
    """Full mesh: both directions of every pair, ordered by topology position."""
    return tuple(
        Peering(local.name, remote.name, remote.vnet_name)
        for local in clusters
        for remote in clusters
        if remote is not local
    )


def default_zones(region: str) -> tuple[str, ...]:
    """Every availability zone of the region; none where it has none (or is unknown)."""
    return facts.REGION_ZONES.get(region, ())


def _plan_cluster(index: int, topology_name: str, c: dict[str, Any], encryption: str,
                  pool_zones: tuple[str, ...] | None) -> Cluster:
    name = c["name"]
    service_cidr = IPv4Network(c["serviceCidr"])
    node_subnet = IPv4Network(c["nodeSubnetCidr"])
    dns_ip = c.get("dnsServiceIP")
    mesh_ip = c.get("clustermeshIP")
    return Cluster(
        index=index,
        name=name,
        id=c["id"],
        managed=c["managed"],
        encryption=c.get("encryption", encryption),
        region=c["region"],
        vnet_cidr=IPv4Network(c["vnetCidr"]),
        node_subnet_cidr=node_subnet,
        pod_cidr=IPv4Network(c["podCidr"]),
        service_cidr=service_cidr,
        dns_service_ip=IPv4Address(dns_ip) if dns_ip else default_dns_service_ip(service_cidr),
        clustermesh_ip=IPv4Address(mesh_ip) if mesh_ip else default_clustermesh_ip(node_subnet),
        resource_group=f"rg-{topology_name}-{name}",
        node_resource_group=f"rg-{topology_name}-{name}-nodes",
        aks_name=f"aks-{topology_name}-{name}",
        dns_prefix=f"{topology_name}-{name}",
        vnet_name=f"vnet-{topology_name}-{name}",
        subnet_name="nodes",
        nsg_name=f"nsg-{topology_name}-{name}-nodes",
        identity_name=f"id-aks-{topology_name}-{name}",
        cluster_deployment=f"{topology_name}-{name}-cluster",
        peerings_deployment=f"{topology_name}-{name}-peerings",
        log_workspace_name=f"log-{topology_name}-{name}",
        # As asked (the cluster's own list, else the mesh's), so that a check can refuse
        # zones where the region has none; else the region's.
        zones=(() if not c["managed"] else tuple(c["zones"]) if "zones" in c
               else pool_zones if pool_zones is not None else default_zones(c["region"])),
        mesh_peers=(),
        explicit=frozenset(c),
        extra_cilium_values=c.get("ciliumValues", {}),
    )


def mesh_endpoints(clusters: Iterable[Cluster]) -> tuple[MeshPeer, ...]:
    return tuple(MeshPeer(c.name, str(c.clustermesh_ip), facts.CLUSTERMESH_PORT)
                 for c in sorted(clusters, key=lambda c: c.name))


def _with_mesh_peers(cluster: Cluster, endpoints: tuple[MeshPeer, ...]) -> Cluster:
    """Every endpoint but the cluster's own, by name."""
    return replace(cluster, mesh_peers=tuple(e for e in endpoints if e.name != cluster.name))


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
