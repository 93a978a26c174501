"""Generate valid example topologies of any size, for tests, benchmarks and newcomers.

Addresses are laid out so that every range is private and disjoint up to Cilium's limit:
VNet i is the i-th /22 of 10.0.0.0/12 (its node subnet the lower /23), pod range i the
i-th /20 of 10.64.0.0/10, and every cluster uses the service range 192.168.0.0/16
(service ranges never leave their cluster, so they may repeat). Above what full-mesh
peering allows, the mesh is connected by Azure Virtual Network Manager (`peering: avnm`).
"""

from __future__ import annotations

from ipaddress import IPv4Network

from . import facts

REGIONS = ("northeurope", "westeurope", "francecentral", "germanywestcentral", "swedencentral",
           "uksouth", "eastus", "westus2", "centralus", "japaneast", "southeastasia",
           "australiaeast")
_VNETS = IPv4Network("10.0.0.0/12")
_PODS = IPv4Network("10.64.0.0/10")
MAX_CLUSTERS = 511
# Values that keep an example valid and deploy nowhere useful: the nil GUID, and
# TEST-NET-3 (RFC 5737), a range reserved for documentation.
PLACEHOLDER_ADMIN_GROUP = "00000000-0000-0000-0000-000000000000"
PLACEHOLDER_AUTHORIZED_RANGE = "203.0.113.0/24"


def full_mesh_fits(clusters: int) -> bool:
    """Whether VNet peering in both directions of every pair stays inside the Azure limits
    the checks hold it to (AKM403 peerings per VNet, AKM405 resources per template)."""
    per_cluster, fixed = facts.MAIN_TEMPLATE_RESOURCES["full-mesh"]
    return (clusters - 1 <= facts.MAX_PEERINGS_PER_VNET
            and per_cluster * clusters + fixed <= facts.MAX_RESOURCES_PER_TEMPLATE)


def example_topology(clusters: int, name: str | None = None) -> str:
    if not 2 <= clusters <= MAX_CLUSTERS:
        raise ValueError(f"a mesh has 2 to {MAX_CLUSTERS} clusters")
    vnets = _VNETS.subnets(new_prefix=22)
    pods = _PODS.subnets(new_prefix=20)
    lines = [
        "# yaml-language-server: $schema=../topology.schema.json",
        f"name: {name or f'mesh-{clusters}'}",
        'kubernetesVersion: "1.36"',
        "cilium:",
        f'  version: "{facts.CILIUM_DEFAULT_VERSION}"',
        f"  maxConnectedClusters: {255 if clusters <= 255 else 511}",
        *([] if full_mesh_fits(clusters) else ["peering: avnm"]),
        "aks:",
        "  # Placeholders, to replace before deploying: your cluster-admin Entra ID group, and",
        "  # the public ranges (offices, VPN, CI) that may reach the API servers.",
        f'  adminGroupObjectIds: ["{PLACEHOLDER_ADMIN_GROUP}"]',
        f"  authorizedIpRanges: [{PLACEHOLDER_AUTHORIZED_RANGE}]",
        "clusters:",
    ]
    for i in range(clusters):
        vnet, pod = next(vnets), next(pods)
        lines += [
            f"  - name: c{i + 1:03d}",
            f"    id: {i + 1}",
            f"    region: {REGIONS[i % len(REGIONS)]}",
            f"    vnetCidr: {vnet}",
            f"    nodeSubnetCidr: {next(vnet.subnets(prefixlen_diff=1))}",
            f"    podCidr: {pod}",
            "    serviceCidr: 192.168.0.0/16",
        ]
    return "\n".join(lines) + "\n"
