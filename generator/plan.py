"""Stage 3, plan: decide every value, once, into an immutable model.

Input is a topology that passed the schema and the field checks (so every CIDR parses);
output is a `Plan` (its records are in `plan_records.py` and `mesh_intent.py`) the
backends only read. Defaults come from `topology.schema.json` (its `default` annotations
are the one place they are written down), derived values (addresses, Azure names,
peerings, mesh endpoints) are computed here and nowhere else.
"""

from __future__ import annotations

from dataclasses import replace
from ipaddress import IPv4Address, IPv4Network
from typing import Any

from . import facts
from .mesh_intent import Endpoints, Flow, GlobalService, ServicePort
from .plan_records import (AksSettings, Cluster, ControlPlaneLogs, Fleet, MeshPeer,
                           NetworkManager, Peering, Plan, SystemPool, Wave, mesh_endpoints)
from .schema_defaults import with_defaults


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


def _with_mesh_peers(cluster: Cluster, endpoints: tuple[MeshPeer, ...]) -> Cluster:
    """Every endpoint but the cluster's own, by name."""
    return replace(cluster, mesh_peers=tuple(e for e in endpoints if e.name != cluster.name))

