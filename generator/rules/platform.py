"""AKM4xx: what Azure, AKS and Cilium support: versions, regions and zones, API server
access, peerings and template size, encryption, the verification data aksmesh ships."""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING

from .. import facts
from ..diagnostics import Code, Finding, Severity, did_you_mean
from .common import TopologyPath, at

if TYPE_CHECKING:  # the registry imports the families: keep them light
    from ..plan_records import Plan

# The codes this family's rules yield, registered by diagnostics.codes().
CODES = (
    Code("AKM401", Severity.ERROR, "Kubernetes version not supported by AKS",
         "kubernetesVersion must be a minor version inside the AKS support window.",
         'kubernetesVersion: "1.27"  # the seed article\'s version'),
    Code("AKM402", Severity.ERROR, "unknown Azure region",
         "region must be the programmatic name of an Azure public-cloud region "
         "(`az account list-locations -o table`, column Name).",
         "region: westeurop  # did you mean `westeurope`?"),
    Code("AKM403", Severity.ERROR, "too many VNet peerings",
         "A full mesh peers every VNet with every other; Azure allows 500 peerings "
         "per VNet.",
         "clusters:  # 502 clusters with full-mesh peering: 501 peerings per VNet"),
    Code("AKM404", Severity.ERROR, "Cilium version not supported",
         "aksmesh renders values for the Cilium chart versions it knows.",
         'cilium:\n  version: "1.14.2"'),
    Code("AKM405", Severity.ERROR, "too many resources for one ARM template",
         "With full-mesh peering, main.bicep deploys two modules per cluster (the "
         "cluster, its peerings); ARM allows 800 resources per template. With "
         "`peering: avnm` it deploys one.",
         "clusters:  # 401 clusters with full-mesh peering: 802 resources"),
    Code("AKM406", Severity.WARNING, "mesh larger than a default AVNM connected group",
         "Azure Virtual Network Manager connects 250 VNets in one mesh configuration "
         "by default; larger meshes need the limit raised for the subscription.",
         "peering: avnm\nclusters:  # 300 clusters"),
    Code("AKM407", Severity.ERROR, "mixed encryption in the mesh",
         "WireGuard encrypts traffic only between clusters that both run it: every "
         "cluster of the mesh must use the same setting.",
         "cilium:\n  encryption: wireguard\nclusters:\n  - name: we\n    encryption: none"),
    Code("AKM420", Severity.ERROR, "no verification data for this Cilium version",
         "aksmesh ships the Cilium chart's values schema and CRD schemas for the "
         "versions it renders for, and verifies every render against them; a version "
         "it has no data for cannot be verified.",
         'cilium:\n  version: "1.20.1"  # aksmesh ships data for 1.20.0'),
    Code("AKM421", Severity.ERROR, "no verification data for this Kubernetes version",
         "aksmesh ships the Kubernetes API schemas of the core kinds it renders for "
         "every minor version it supports; a version it has no schemas for cannot be "
         "verified.",
         'kubernetesVersion: "1.38"  # no schemas shipped for it'),
    Code("AKM430", Severity.ERROR, "availability zones in a region without zones",
         "Only some Azure regions have availability zones (Microsoft's regions list); "
         "AKS refuses a node pool with zones in the others. By default each cluster "
         "gets its region's zones; zones asked for explicitly are refused there.",
         "aks:\n  systemPool:\n    zones: [\"1\", \"2\", \"3\"]\nclusters:\n  - name: ukw\n    region: ukwest  # no zones"),
    Code("AKM431", Severity.ERROR, "local accounts disabled without an admin group",
         "With aks.disableLocalAccounts (the default) only Entra ID identities can use "
         "the clusters: aks.adminGroupObjectIds must name at least one cluster-admin "
         "group, or nobody can.",
         "aks:\n  disableLocalAccounts: true\n  adminGroupObjectIds: []"),
    Code("AKM432", Severity.ERROR, "public API server open to every address",
         "A public API server must admit only aks.authorizedIpRanges; a private "
         "cluster, or the explicit aks.unrestrictedApiServer opt-in, lifts this.",
         "aks:\n  privateCluster: false\n  authorizedIpRanges: []"),
    Code("AKM433", Severity.WARNING, "API server opened to every address by choice",
         "aks.unrestrictedApiServer makes every cluster's API server reachable from the "
         "whole internet; aksmesh says so on every run.",
         "aks:\n  unrestrictedApiServer: true"),
    Code("AKM434", Severity.WARNING, "authorized IP ranges on a private cluster",
         "Authorized IP ranges apply to public API servers only; with "
         "aks.privateCluster they are left out of the Bicep.",
         "aks:\n  privateCluster: true\n  authorizedIpRanges: [203.0.113.0/24]"),
)


def check_kubernetes_version(plan: Plan) -> Iterator[Finding]:
    if plan.kubernetes_version not in facts.AKS_SUPPORTED_MINORS:
        supported = ", ".join(facts.AKS_SUPPORTED_MINORS)
        yield Finding("AKM401", ("kubernetesVersion",),
                      f"Kubernetes {plan.kubernetes_version} is not supported by AKS "
                      f"(supported as of {facts.AKS_SUPPORT_AS_OF}: {supported})",
                      f'use "{facts.AKS_SUPPORTED_MINORS[-2]}"')


def check_regions(plan: Plan) -> Iterator[Finding]:
    for c in plan.managed_clusters:  # a hybrid member's region is free text
        if c.region not in facts.AZURE_REGIONS:
            yield Finding("AKM402", at(c, "region"), f"unknown Azure region `{c.region}`",
                          did_you_mean(c.region, sorted(facts.AZURE_REGIONS))
                          or "see `az account list-locations -o table`")


def check_zones(plan: Plan) -> Iterator[Finding]:
    """Zones only where the region has them: AKS refuses to create the pool otherwise."""
    for c in plan.managed_clusters:
        if c.zones and facts.REGION_ZONES.get(c.region) == ():
            asked = "its `zones`" if "zones" in c.explicit else "aks.systemPool.zones"
            yield Finding("AKM430", at(c, "zones", "region"),
                          f"region {c.region} has no availability zones, but {asked} asks "
                          f"for zones {', '.join(c.zones)} for cluster `{c.name}`",
                          "give this cluster `zones: []`, or choose a region with zones "
                          f"(Microsoft's regions list, as of {facts.REGION_ZONES_AS_OF})")


def check_cluster_access(plan: Plan) -> Iterator[Finding]:
    """Someone can administer the clusters, and the API servers are not open to all."""
    aks = plan.aks
    if aks.disable_local_accounts and not aks.admin_group_object_ids:
        yield Finding("AKM431", ("aks", "adminGroupObjectIds"),
                      "local accounts are disabled (aks.disableLocalAccounts) but no admin "
                      "group is given: nobody could use kubectl on the clusters",
                      "list the object id of an Entra ID group in aks.adminGroupObjectIds")
    if not aks.private_cluster and not aks.unrestricted_api_server and \
            not aks.authorized_ip_ranges:
        yield Finding("AKM432", ("aks", "authorizedIpRanges"),
                      "the public API servers would admit every address: no "
                      "aks.authorizedIpRanges are given",
                      "list your egress ranges in aks.authorizedIpRanges, set "
                      "aks.privateCluster: true, or opt in with aks.unrestrictedApiServer: true")
    if aks.unrestricted_api_server and not aks.private_cluster:
        yield Finding("AKM433", ("aks", "unrestrictedApiServer"),
                      "the public API servers admit every address on the internet "
                      "(aks.unrestrictedApiServer)",
                      "list your egress ranges in aks.authorizedIpRanges instead")
    if aks.private_cluster and aks.authorized_ip_ranges:
        yield Finding("AKM434", ("aks", "authorizedIpRanges"),
                      "authorized IP ranges do not apply to private API servers: aksmesh "
                      "leaves them out", "remove aks.authorizedIpRanges")


def check_peering_limit(plan: Plan) -> Iterator[Finding]:
    vnets = len(plan.managed_clusters)
    if plan.peering == "full-mesh" and vnets - 1 > facts.MAX_PEERINGS_PER_VNET:
        yield Finding("AKM403", ("clusters",),
                      f"a full mesh of {vnets} VNets needs {vnets - 1} peerings per "
                      f"VNet; Azure allows {facts.MAX_PEERINGS_PER_VNET}",
                      "set `peering: avnm` (Azure Virtual Network Manager mesh)")
    if plan.peering == "avnm" and vnets > facts.AVNM_MAX_CONNECTED_GROUP_VNETS:
        yield Finding("AKM406", ("peering",),
                      f"{vnets} VNets exceed the "
                      f"{facts.AVNM_MAX_CONNECTED_GROUP_VNETS} VNets Azure Virtual Network "
                      "Manager connects in one mesh by default",
                      "request the higher connected-group limit for the subscription before "
                      "deploying")


def check_template_size(plan: Plan) -> Iterator[Finding]:
    per_cluster, fixed = facts.MAIN_TEMPLATE_RESOURCES[plan.peering]
    resources = per_cluster * len(plan.managed_clusters) + fixed
    if plan.fleet is not None:
        resources += facts.FLEET_MAIN_TEMPLATE_RESOURCES
    if resources > facts.MAX_RESOURCES_PER_TEMPLATE:
        yield Finding("AKM405", ("clusters",),
                      f"main.bicep would deploy {resources} resources for "
                      f"{len(plan.managed_clusters)} clusters; ARM allows "
                      f"{facts.MAX_RESOURCES_PER_TEMPLATE} per template",
                      "set `peering: avnm`: one resource per cluster")


def check_cilium_version(plan: Plan) -> Iterator[Finding]:
    yield from unsupported_cilium(("cilium", "version"), plan.cilium_version)


def unsupported_cilium(where: TopologyPath, version: str) -> Iterator[Finding]:
    """A Cilium version aksmesh renders for no minor of: the mesh's, or a rollout wave's
    (rules/day2.py)."""
    if ".".join(version.split(".")[:2]) not in facts.CILIUM_SUPPORTED_MINORS:
        yield Finding("AKM404", where, f"Cilium {version} is not a version aksmesh renders for",
                      f'use "{facts.CILIUM_DEFAULT_VERSION}"')


def check_verification_data(plan: Plan) -> Iterator[Finding]:
    """render verifies against the data aksmesh ships: a version it has none for cannot be
    verified. (Versions AKM401/AKM404 refuse are reported there only.)"""
    from .. import shipped

    pinned = [(("cilium", "version"), plan.cilium_version)] + [
        (("rollout", "waves", w.index, "cilium", "version"), w.cilium_version)
        for w in plan.rollout if w.own_cilium]
    for where, version in pinned:
        minor = ".".join(version.split(".")[:2])
        if minor in facts.CILIUM_SUPPORTED_MINORS and version not in shipped.cilium_versions():
            yield Finding("AKM420", where,
                          f"aksmesh has no values or CRD schemas for Cilium {version}"
                          ": its render cannot be verified",
                          f"use {' or '.join(map(repr, shipped.cilium_versions()))}")
    if plan.kubernetes_version in facts.AKS_SUPPORTED_MINORS and \
            plan.kubernetes_version not in shipped.kubernetes_versions():
        yield Finding("AKM421", ("kubernetesVersion",),
                      f"aksmesh has no Kubernetes API schemas for {plan.kubernetes_version}: "
                      "its render cannot be verified",
                      f"use {' or '.join(map(repr, shipped.kubernetes_versions()))}")


def check_encryption(plan: Plan) -> Iterator[Finding]:
    """WireGuard only protects traffic between clusters that both run it."""
    modes = {c.encryption for c in plan.clusters}
    if len(modes) > 1:
        for c in plan.clusters:
            if c.encryption != plan.encryption:
                yield Finding("AKM407", at(c, "encryption"),
                              f"cluster `{c.name}` uses encryption {c.encryption}, the mesh "
                              f"{plan.encryption}: a mixed mesh leaves traffic between them "
                              "in clear", "use one setting, cilium.encryption, for every cluster")


RULES = (check_kubernetes_version, check_cilium_version, check_verification_data,
         check_regions, check_zones, check_cluster_access, check_peering_limit,
         check_template_size, check_encryption)
