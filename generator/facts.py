"""Dated facts about AKS, Azure and Cilium that the checks and the plan rely on.

One table per fact, each with its source, so that a fact that moves is changed in one place.
Checks compare against these tables, never against the clock: output stays deterministic.
"""

from __future__ import annotations

from ipaddress import IPv4Network
from typing import NamedTuple

# AKS Kubernetes support window, as of this date (AKS release calendar).
# 1.34 leaves support at the end of November 2026.
AKS_SUPPORT_AS_OF = "2026-11"
AKS_SUPPORTED_MINORS = ("1.35", "1.36", "1.37")
# AKS upgrades a cluster one minor version at a time and never downgrades one (AKS docs,
# "Upgrade options for AKS clusters": skipping minor versions is not supported; AKS
# Kubernetes version policy).
KUBERNETES_MAX_MINOR_STEP = 1

# Cilium chart versions aksmesh renders values for (values schema of chart 1.20.0).
CILIUM_SUPPORTED_MINORS = ("1.20",)
CILIUM_DEFAULT_VERSION = "1.20.0"
# Clusters of one ClusterMesh may run different Cilium versions while an upgrade rolls out,
# at most one minor apart: "The only tested rollback and upgrade path is between
# consecutive minor releases" (cilium/cilium Documentation/operations/upgrade-warning.rst,
# v1.20.2), and Cilium's clustermesh upgrade workflow tests a mesh with one minor version of
# skew (.github/workflows/tests-clustermesh-upgrade.yaml, cilium/cilium#27232).
CILIUM_MESH_MAX_MINOR_SKEW = 1
# The same source: a Cilium upgrade goes to the next minor release only.
CILIUM_MAX_MINOR_STEP = 1
CILIUM_MESH_SKEW_SOURCE = ("Cilium's upgrade guide: upgrades only between consecutive minor "
                           "releases, one minor of skew in a mesh")

# AKS auto-upgrade channels that move a cluster's minor version by themselves (AKS docs,
# "Automatically upgrade an AKS cluster"): with rollout waves, minor upgrades come from
# Fleet update runs instead, and these would race both them and the Bicep's version.
FLEET_CONFLICTING_CHANNELS = ("stable", "rapid")

# Azure public-cloud regions (`az account list-locations --query "[].name"`), 2026; checked
# against Microsoft's regions list (below) on 2026-12-01, which added indiasouthcentral.
AZURE_REGIONS = frozenset(
    """
    australiacentral australiacentral2 australiaeast australiasoutheast austriaeast
    belgiumcentral brazilsouth brazilsoutheast canadacentral canadaeast centralindia
    centralus chilecentral denmarkeast eastasia eastus eastus2 francecentral francesouth
    germanynorth germanywestcentral indiasouthcentral indonesiacentral israelcentral
    italynorth japaneast japanwest jioindiacentral jioindiawest koreacentral koreasouth
    malaysiawest mexicocentral newzealandnorth northcentralus northeurope norwayeast
    norwaywest polandcentral qatarcentral southafricanorth southafricawest
    southcentralus southeastasia southindia spaincentral swedencentral swedensouth
    switzerlandnorth switzerlandwest uaecentral uaenorth uksouth ukwest westcentralus
    westeurope westindia westus westus2 westus3
    """.split()
)

# Availability zones per region, from Microsoft's regions list
# (https://learn.microsoft.com/azure/reliability/regions-list, column "Availability zones":
# "3" or "N/A"; its source, MicrosoftDocs/reliability-docs articles/reliability/regions-list.md
# at e92155a, 2026-08-20, checked region by region on 2026-12-01). Every region with zones
# has three, which AKS names "1", "2", "3". Regions outside AZURE_REGIONS have no entry
# (AKM402 refuses them). A region that gains zones moves out of this list.
# jioindiacentral, jioindiawest and swedensouth are access-restricted regions without a
# row of their own on that list: they count as zoneless, since a cluster without zones
# deploys in a region that has them, and one with zones fails in a region without.
REGION_ZONES_AS_OF = "2026-12-01"
_REGIONS_WITHOUT_ZONES = frozenset(
    """
    australiacentral australiacentral2 australiasoutheast brazilsoutheast canadaeast
    francesouth germanynorth jioindiacentral jioindiawest koreasouth northcentralus
    norwaywest southafricawest southindia swedensouth switzerlandwest uaecentral ukwest
    westcentralus westindia westus
    """.split()
)
REGION_ZONES = {region: () if region in _REGIONS_WITHOUT_ZONES else ("1", "2", "3")
                for region in sorted(AZURE_REGIONS)}

# Ranges AKS refuses for any cluster range (AKS docs, "Configure Azure CNI / kubenet").
AKS_FORBIDDEN_RANGES = tuple(
    IPv4Network(r) for r in ("169.254.0.0/16", "172.30.0.0/16", "172.31.0.0/16", "192.0.2.0/24")
)
# Ranges the Azure platform keeps for itself, which no VNet address space may contain
# (Azure VNet FAQ, "What address ranges can I use in my virtual networks?",
# https://learn.microsoft.com/azure/virtual-network/virtual-networks-faq; 168.63.129.16:
# https://learn.microsoft.com/azure/virtual-network/what-is-ip-address-168-63-129-16).
# 169.254.0.0/16, also on that list, is in AKS_FORBIDDEN_RANGES.
_VNET_FAQ = "https://learn.microsoft.com/azure/virtual-network/virtual-networks-faq"
AZURE_RESERVED_RANGES = {  # range: (what it is, the Azure page that says so)
    IPv4Network("168.63.129.16/32"): (
        "Azure's platform address (DNS, DHCP, health probes)",
        "https://learn.microsoft.com/azure/virtual-network/what-is-ip-address-168-63-129-16"),
    IPv4Network("127.0.0.0/8"): ("loopback space", _VNET_FAQ),
    IPv4Network("224.0.0.0/4"): ("multicast space", _VNET_FAQ),
    IPv4Network("255.255.255.255/32"): ("the broadcast address", _VNET_FAQ),
}
# AKS: serviceCidr must be smaller than a /12.
SERVICE_CIDR_MIN_PREFIX = 13

# Private address space: RFC 1918 and the RFC 6598 shared space AKS also accepts.
PRIVATE_RANGES = tuple(
    IPv4Network(r) for r in ("10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16", "100.64.0.0/10")
)

# Azure keeps the network address, .1 (gateway), .2 and .3 (DNS) and the broadcast address
# of every subnet; the smallest subnet Azure allows is a /29.
SUBNET_MAX_PREFIX = 29
SUBNET_RESERVED_HEAD = 4

# Default ClusterMesh IP: counted back from the broadcast address, clear of nodes, which
# Azure allocates from the bottom of the subnet.
CLUSTERMESH_IP_FROM_END = 5
# Default DNS service IP: the 10th address of the service range, as AKS does.
DNS_SERVICE_IP_OFFSET = 10

# Flux release the flux-system patches are written against (the v2.9.4 install manifests
# they are built over in the tests); `flux bootstrap --version` installs exactly it.
FLUX_VERSION = "2.9.4"
# The oldest Azure CLI that deploys a `.bicepparam` file with `--parameters` (MicrosoftDocs
# azure-docs articles/azure-resource-manager/bicep/deploy-cli.md, "Parameters": Azure CLI
# 2.53.0 or later); the generated README asks for it.
AZ_CLI_VERSION = "2.53.0"

# Kinds the rendered Kustomizations apply, by who makes the API server serve them and
# whether objects of the kind live in a namespace (the apply model in flux/apply_model.py).
# Core kinds are always served (Kubernetes API reference); the Flux kinds once bootstrap
# has applied gotk-components.yaml (the v2.9.4 CRDs); the Cilium kinds once cilium-operator
# runs (it registers its CRDs at start-up; the chart ships none).
CORE_KINDS = {"Namespace": False, "Service": True, "ConfigMap": True, "Secret": True,
              "ServiceAccount": True, "Deployment": True}
FLUX_KINDS = {"GitRepository": True, "HelmRepository": True, "OCIRepository": True,
              "HelmChart": True, "Bucket": True, "Kustomization": True, "HelmRelease": True,
              "Alert": True, "Provider": True, "Receiver": True}
CILIUM_KINDS = {"CiliumNetworkPolicy": True, "CiliumClusterwideNetworkPolicy": False,
                "CiliumLoadBalancerIPPool": False, "CiliumBGPClusterConfig": False}
# Namespaces every cluster has when the flux-system Kustomization first reconciles:
# Kubernetes' own, and flux-system (gotk-components.yaml creates it during bootstrap).
PRESENT_NAMESPACES = ("default", "kube-system", "kube-public", "kube-node-lease", "flux-system")

# The shared CA and the leaf certificates Cilium's certgen issues from it (ClusterMesh and
# Hubble, `tls.auto.certValidityDuration`, chart default 365 days, renewed every 4 months
# by the CronJob). The chart's certgen.enforceCAValidityThroughoutLeavesDuration (true)
# makes certgen fail once the CA would expire before a new leaf: from CA expiry minus the
# leaf validity on, no certificate is renewed. A 10-year CA leaves 9 years of renewals.
CA_VALIDITY_DAYS = 3650
LEAF_CERT_VALIDITY_DAYS = 365
# `check` warns this long before certgen starts failing: time to rotate the CA calmly.
CA_ROTATION_WARNING_DAYS = 180

# Annotation by which a Service asks Cilium's LB-IPAM for a given address (Cilium docs,
# "LoadBalancer IP Address Management"); the hybrid members' ClusterMesh IP is asked this way.
LBIPAM_IPS_ANNOTATION = "lbipam.cilium.io/ips"

# The built-in Azure role AKS needs on the node subnet to place its internal load
# balancers (Azure built-in roles, "Network Contributor").
NETWORK_CONTRIBUTOR_ROLE_ID = "4d97b98b-1d4f-4787-a291-c67834d212e7"

# Cilium ClusterMesh API server port.
CLUSTERMESH_PORT = 2379
WIREGUARD_PORT = 51871
# Cilium's VXLAN tunnel and its health checks between nodes (Cilium system requirements).
VXLAN_PORT = 8472
HEALTH_PORT = 4240
# Hubble's server on every node (hubble.listenAddress ":4244"); Hubble Relay dials it on
# every node of the mesh, the other clusters' included.
HUBBLE_PORT = 4244


class MeshTraffic(NamedTuple):
    """Traffic between the nodes of different clusters that Cilium needs (its system
    requirements); every node subnet's network security group admits these, only."""

    name: str
    protocol: str
    port: str
    priority: int
    description: str

    @property
    def label(self) -> str:
        """As prose names it: `UDP 8472`, or `ICMP` for a protocol without ports."""
        return self.protocol.upper() if self.port == "*" else f"{self.protocol.upper()} {self.port}"


MESH_TRAFFIC = (
    MeshTraffic("allow-mesh-vxlan", "Udp", str(VXLAN_PORT), 100,
                "Cilium VXLAN tunnel between the nodes of the mesh"),
    MeshTraffic("allow-mesh-health", "Tcp", str(HEALTH_PORT), 110,
                "Cilium health checks between the nodes of the mesh"),
    MeshTraffic("allow-mesh-icmp", "Icmp", "*", 120,
                "Cilium health checks (ICMP echo) between the nodes of the mesh"),
    MeshTraffic("allow-mesh-wireguard", "Udp", str(WIREGUARD_PORT), 130,
                "Cilium WireGuard encryption between the nodes of the mesh"),
    MeshTraffic("allow-mesh-clustermesh-apiserver", "Tcp", str(CLUSTERMESH_PORT), 140,
                "Other clusters reach this cluster's ClusterMesh API server"),
    MeshTraffic("allow-mesh-hubble", "Tcp", str(HUBBLE_PORT), 150,
                "Hubble Relay reads the flows of every node of the mesh"),
)

# Azure limits (Azure subscription and service limits).
MAX_RESOURCES_PER_TEMPLATE = 800
# What main.bicep deploys per cluster, and once, by kind of peering (tests count them in
# the parsed template): full-mesh has a cluster module and a peerings module per cluster;
# avnm a cluster module per cluster, and the mesh's resource group and module once.
MAIN_TEMPLATE_RESOURCES = {"full-mesh": (2, 0), "avnm": (1, 2)}
# With rollout waves, main.bicep also deploys the fleet's resource group and module, once.
FLEET_MAIN_TEMPLATE_RESOURCES = 2
# Azure Virtual Network Manager: VNets in one connected group by default (raised on request).
AVNM_MAX_CONNECTED_GROUP_VNETS = 250
# main.bicep deploys the cluster stacks one at a time, in topology order: a Kubernetes
# version bump reaches one cluster after the other, and a failing cluster stops the rest
# (ARM does not start the next batch of a serial copy loop after a failure).
CLUSTER_STACK_BATCH_SIZE = 1
MAX_PEERINGS_PER_VNET = 500
MAX_NAME_LENGTH = {
    "resource group": 90,
    "AKS cluster": 63,
    "dnsPrefix": 54,
    "deployment": 64,
    "user-assigned identity": 128,
    "virtual network": 64,
    "network security group": 80,
    "log analytics workspace": 63,
}

# Encryption at host needs the subscription feature registered first
# (`az feature register --namespace Microsoft.Compute --name EncryptionAtHost`, AKS docs
# "Host-based encryption on AKS"); ephemeral OS disks need none.
ENCRYPTION_AT_HOST_FEATURE = ("Microsoft.Compute", "EncryptionAtHost")  # namespace, name

# API versions of every resource type aksmesh emits: the newest for which Bicep type data
# exists (Azure/bicep-types-az), so that the Bicep compiler checks every body (no BCP081).
# Microsoft.Insights/diagnosticSettings has only preview versions; 2021-05-01-preview is the
# newest in bicep-types-az (generated/monitor_1/microsoft.insights/). Workspaces:
# generated/operationalinsights/microsoft.operationalinsights/2026-03-01.
API_VERSIONS = {
    "Microsoft.Resources/resourceGroups": "2025-04-01",
    "Microsoft.Network/virtualNetworks": "2025-09-01",
    "Microsoft.Network/virtualNetworks/subnets": "2025-09-01",
    "Microsoft.Network/virtualNetworks/virtualNetworkPeerings": "2025-09-01",
    "Microsoft.Network/networkSecurityGroups": "2025-09-01",
    "Microsoft.Network/networkManagers": "2025-09-01",
    "Microsoft.Network/networkManagers/networkGroups": "2025-09-01",
    "Microsoft.Network/networkManagers/networkGroups/staticMembers": "2025-09-01",
    "Microsoft.Network/networkManagers/connectivityConfigurations": "2025-09-01",
    "Microsoft.Network/networkManagers/commits": "2025-09-01",
    "Microsoft.ManagedIdentity/userAssignedIdentities": "2024-11-30",
    "Microsoft.Authorization/roleAssignments": "2022-04-01",
    "Microsoft.ContainerService/managedClusters": "2026-05-01",
    "Microsoft.OperationalInsights/workspaces": "2026-03-01",
    "Microsoft.Insights/diagnosticSettings": "2021-05-01-preview",
    # Azure Kubernetes Fleet Manager, for staged upgrades (rollout waves): 2026-06-01, the
    # version the type data names (generated/containerservice/
    # microsoft.containerservice/fleet/2026-06-01 in bicep-types-az).
    "Microsoft.ContainerService/fleets": "2026-06-01",
    "Microsoft.ContainerService/fleets/members": "2026-06-01",
    "Microsoft.ContainerService/fleets/updateStrategies": "2026-06-01",
}
# Types of the table above whose type data aksmesh does not ship (generator/data/bicep-types,
# derived by scripts/derive_data.py; its AZURE_WITHOUT_UPSTREAM says why): their bodies are
# not checked offline, which verify says in a note (AKM440), never silently. None today.
TYPES_WITHOUT_REFERENCE_DATA: tuple[str, ...] = ()

# Functions of Bicep's `az` and `sys` namespaces (Azure/bicep,
# src/Bicep.Core/Semantics/Namespaces/AzNamespaceType.cs and SystemNamespaceType.cs; Bicep
# docs "Bicep functions"): a generated symbol must not take one of these names (AKM442).
BICEP_FUNCTIONS = frozenset(
    """
    tenant managementGroup subscription resourceGroup deployment environment deployer
    resourceId subscriptionResourceId tenantResourceId managementGroupResourceId
    extensionResourceId providers reference pickZones toLogicalZone toPhysicalZone
    any array base64 base64ToJson base64ToString bool buildUri cidrHost cidrSubnet coalesce
    concat contains dataUri dataUriToString dateTimeAdd dateTimeFromEpoch dateTimeToEpoch
    empty endsWith fail filter first flatten format groupBy guid indexOf int intersection
    items join json last lastIndexOf length loadFileAsBase64 loadJsonContent
    loadTextContent loadYamlContent map mapValues max min newGuid objectKeys padLeft
    parseCidr parseUri range readEnvironmentVariable reduce replace shallowMerge skip sort
    split startsWith string substring take toLower toObject toUpper trim tryGet union
    uniqueString uri uriComponent uriComponentToString utcNow
    """.split()
)

# Cilium's global-service annotations (cilium/cilium pkg/annotation/k8s.go) and the labels
# Cilium gives every pod identity (pkg/k8s/apis/cilium.io/const.go): the plan writes them,
# the reachability model reads them.
GLOBAL_SERVICE_ANNOTATION = "service.cilium.io/global"
SHARED_SERVICE_ANNOTATION = "service.cilium.io/shared"
SERVICE_AFFINITY_ANNOTATION = "service.cilium.io/affinity"
POD_NAMESPACE_LABEL = "k8s:io.kubernetes.pod.namespace"
POLICY_CLUSTER_LABEL = "io.cilium.k8s.policy.cluster"
# How the reachability matrix names every namespace the topology does not name: label
# selectors cannot tell such namespaces apart. Not a valid namespace name, so no collision.
OTHER_NAMESPACES = "(others)"
