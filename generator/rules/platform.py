"""AKM4xx: what Azure, AKS and Cilium support: versions, regions and zones, API server
access, peerings and template size, encryption, the verification data aksmesh ships."""

from __future__ import annotations

from collections.abc import Iterator

from .. import facts
from ..diagnostics import Finding, did_you_mean
from ..plan_records import Plan
from .common import at


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
    minor = ".".join(plan.cilium_version.split(".")[:2])
    if minor not in facts.CILIUM_SUPPORTED_MINORS:
        yield Finding("AKM404", ("cilium", "version"),
                      f"Cilium {plan.cilium_version} is not a version aksmesh renders for",
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
