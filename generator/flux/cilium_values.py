"""The Cilium Helm values aksmesh decides: those every cluster shares, each cluster's own,
and the comments written beside them. render writes them; the check of extra values
(AKM730) reads which paths they own."""

from __future__ import annotations

from typing import Any

from .. import facts
from .helm_values import merged_values
from ..plan_records import Cluster, Plan


def mesh_values(plan: Plan) -> dict[str, Any]:
    """The Cilium values every cluster shares, the peer list included: kept once in the tree.
    With each cluster's own values merged over them (cluster_values), they are the
    complete, non-secret Helm values of that cluster; VALUES_COMMENTS says why."""
    return {
        "routingMode": "tunnel",
        "tunnelProtocol": "vxlan",
        "ipam": {"mode": "cluster-pool", "operator": {"clusterPoolIPv4MaskSize": 24}},
        "kubeProxyReplacement": False,
        "encryption": _encryption(plan.encryption),
        "clustermesh": {
            "useAPIServer": True,
            "maxConnectedClusters": plan.max_connected_clusters,
            "config": {
                "enabled": True,
                "clusters": {peer.name: {"ips": [peer.ip], "port": peer.port}
                             for peer in plan.mesh_endpoints},
            },
            "apiserver": {
                "service": {"type": "LoadBalancer"},
                "tls": {"authMode": "cluster", "auto": {
                    "enabled": True, "method": "cronJob",
                    "certValidityDuration": facts.LEAF_CERT_VALIDITY_DAYS}},
            },
        },
        "hubble": {
            "enabled": True,
            "relay": {"enabled": plan.hubble_relay},
            "ui": {"enabled": plan.hubble_ui},
            "tls": {"auto": {"enabled": True, "method": "cronJob",
                             "certValidityDuration": facts.LEAF_CERT_VALIDITY_DAYS}},
        },
    }


def aksmesh_values(plan: Plan, cluster: Cluster) -> dict[str, Any]:
    """Every value aksmesh decides for one cluster: the shared ones and the cluster's own."""
    return merged_values(mesh_values(plan), cluster_values(plan, cluster))


# Maps aksmesh fills from the plan as a whole: an extra key inside one is a conflict too.
OWNED_MAPS = (("clustermesh", "config", "clusters"),)


def owned_paths(values: dict[str, Any], prefix: tuple[str, ...] = ()) -> set[tuple[str, ...]]:
    """The key paths of the leaves of `values` (OWNED_MAPS counting as leaves)."""
    paths: set[tuple[str, ...]] = set()
    for key, value in values.items():
        path = (*prefix, key)
        if isinstance(value, dict) and value and path not in OWNED_MAPS:
            paths |= owned_paths(value, path)
        else:
            paths.add(path)
    return paths


def cluster_values(plan: Plan, cluster: Cluster) -> dict[str, Any]:
    """What only this cluster's values say: its identity and pod range, its own entry of
    the shared peer list disabled (so the chart lists exactly its peers), and on AKS its
    ClusterMesh load balancer."""
    values: dict[str, Any] = {
        "cluster": {"name": cluster.name, "id": cluster.id},
        **({"aksbyocni": {"enabled": True}} if cluster.managed else {}),
        "ipam": {"operator": {"clusterPoolIPv4PodCIDRList": [str(cluster.pod_cidr)]}},
    }
    if cluster.encryption != plan.encryption:  # a check refuses the mix; never rendered
        values["encryption"] = _encryption(cluster.encryption)
    mesh: dict[str, Any] = {"config": {"clusters": {cluster.name: {"enabled": False}}}}
    if cluster.managed:
        annotations = {
            "service.beta.kubernetes.io/azure-load-balancer-internal": "true",
            "service.beta.kubernetes.io/azure-load-balancer-ipv4": str(cluster.clustermesh_ip),
        }
    else:  # Cilium LB-IPAM assigns the planned address on a non-Azure member
        annotations = {facts.LBIPAM_IPS_ANNOTATION: str(cluster.clustermesh_ip)}
    mesh["apiserver"] = {"service": {"annotations": annotations}}
    values["clustermesh"] = mesh
    return values


def _encryption(mode: str) -> dict[str, Any]:
    return {"enabled": True, "type": "wireguard"} if mode == "wireguard" else {"enabled": False}


VALUES_COMMENTS = {
    ("cluster",): "Identity of this cluster in the mesh, unique and stable: changing the name or\n"
                  "the id later is disruptive.",
    ("aksbyocni",): "AKS created the cluster with networkPlugin none (bring your own CNI); the\n"
                    "mesh's shared values give the tunnel routing the chart requires for it.",
    ("routingMode",): "Tunnel routing, as the chart's AKS BYO-CNI mode requires: pod traffic "
                      "crosses the\nVNet peerings inside VXLAN between node IPs, so pod ranges "
                      "need no routes.",
    ("ipam",): "Pod IPs come from the planned pod range, the one AKS was given as podCidr.\n"
               "Without it the chart defaults to 10.0.0.0/8, which overlaps the VNets.",
    ("ipam", "operator", "clusterPoolIPv4MaskSize"): "One /24 per node: room for the pods a "
                                                     "node may run.",
    ("kubeProxyReplacement",): "AKS keeps kube-proxy running on every node: Cilium must not "
                               "replace it.",
    ("encryption",): "Pod traffic between nodes, and so between clusters, is encrypted with\n"
                     f"WireGuard (UDP {facts.WIREGUARD_PORT}) on every cluster of the mesh, "
                     "or on none.",
    ("clustermesh",): "The mesh is declared here, in Helm values: no `cilium clustermesh "
                      "enable/connect`.",
    ("clustermesh", "maxConnectedClusters"): "The same on every cluster of the mesh; changing "
                                             "it later is disruptive.",
    ("clustermesh", "config", "clusters"): "Every cluster of the mesh, by name, at its "
                                           "ClusterMesh IP; each cluster's values.yaml\n"
                                           "disables its own entry, so it lists exactly its "
                                           "peers. Cilium dials <name>.mesh.cilium.io\n"
                                           "pinned to the IP, which the server certificates "
                                           "cover. No per-peer tls: the CA is shared.",
    ("clustermesh", "apiserver", "service"): "The peers dial this Service at the cluster's "
                                             "ClusterMesh IP: on AKS an internal\nAzure load "
                                             "balancer pinned to it; elsewhere the address is "
                                             "requested from Cilium's\nLB-IPAM (a "
                                             "CiliumLoadBalancerIPPool holding it must exist, "
                                             "see README.md).",
    ("clustermesh", "apiserver", "tls", "authMode"): "Every cluster lists every peer and "
                                                     "trusts one CA: each can use its own\n"
                                                     "etcd user (remote-<cluster name>).",
    ("clustermesh", "apiserver", "tls", "auto"): "Certificates are issued by a CronJob from "
                                                 "the shared CA, outside the Helm\nrelease: "
                                                 "the `helm` method issues new ones on every "
                                                 "reconcile (endless drift).",
    ("hubble",): "Observability: Hubble on every node; relay and UI as the topology says.",
    ("hubble", "tls", "auto"): "As for ClusterMesh: generated certificates stay out of the "
                               "release (cilium/cilium#36012).",
    ("clustermesh", "apiserver", "tls", "auto", "certValidityDuration"):
        "Days; certgen refuses to issue a certificate that outlives the shared CA\n"
        f"({facts.CA_VALIDITY_DAYS} days from `aksmesh ca init`): rotate it before "
        "(README.md).",
}


# The shared file and a cluster's own say why their part of a section is there.
MESH_VALUES_COMMENTS = VALUES_COMMENTS | {
    ("ipam",): "Cluster-pool IPAM; each cluster's values.yaml gives its pod range, the one AKS "
               "was given\nas podCidr (without it the chart defaults to 10.0.0.0/8, which "
               "overlaps the VNets).",
    ("clustermesh", "apiserver", "service"): "The peers dial this Service at each cluster's "
                                             "ClusterMesh IP, which each cluster's\n"
                                             "values.yaml gives.",
}
CLUSTER_VALUES_COMMENTS = VALUES_COMMENTS | {
    ("clustermesh",): "This cluster's part of the mesh declared in the shared values.",
    ("clustermesh", "config", "clusters"): "This cluster's own entry in the shared list: the "
                                           "chart leaves a disabled entry out,\nso the "
                                           "cluster configures no connection to itself.",
}
