"""AKM3xx: addresses. Their syntax on the raw document (before planning needs them
parsed), then their placement in the plan: subnets in VNets, overlaps across the mesh,
reserved ranges, the DNS service and ClusterMesh addresses."""

from __future__ import annotations

import bisect
from collections.abc import Iterator
from ipaddress import IPv4Address, IPv4Network, IPv6Network, ip_address, ip_network
from typing import TYPE_CHECKING, Any

from .. import facts
from ..diagnostics import Code, Finding, Severity
from .common import TopologyPath, at

if TYPE_CHECKING:  # the registry imports the families: keep them light
    from ..plan_records import Cluster, Plan

# The codes this family's rules yield, registered by diagnostics.codes().
CODES = (
    Code("AKM301", Severity.ERROR, "invalid CIDR or address",
         "The value is not an IPv4 CIDR (a.b.c.d/n) or IPv4 address.",
         "podCidr: 10.320.0.0/16"),
    Code("AKM302", Severity.ERROR, "CIDR has host bits set",
         "The address of a CIDR must be its network address (10.1.0.0/16, not 10.1.2.3/16).",
         "podCidr: 10.120.1.0/16  # did you mean 10.120.0.0/16?"),
    Code("AKM303", Severity.ERROR, "node subnet outside its VNet",
         "nodeSubnetCidr must lie inside the cluster's vnetCidr.",
         "vnetCidr: 10.20.0.0/16\nnodeSubnetCidr: 10.21.0.0/22"),
    Code("AKM304", Severity.ERROR, "range too small",
         "The node subnet must be at least a /29 (Azure keeps five addresses of it).",
         "nodeSubnetCidr: 10.20.0.0/30"),
    Code("AKM305", Severity.ERROR, "overlapping ranges",
         "VNets and pod ranges of the whole mesh must be disjoint (peering and tunnel "
         "routing need it), and no service range may overlap a VNet or a pod range.",
         "# cluster ne\nvnetCidr: 10.10.0.0/16\n# cluster we\npodCidr: 10.10.128.0/17"),
    Code("AKM306", Severity.ERROR, "range reserved by AKS",
         "AKS refuses ranges that touch 169.254.0.0/16, 172.30.0.0/16, 172.31.0.0/16 "
         "or 192.0.2.0/24.",
         "podCidr: 172.31.0.0/16"),
    Code("AKM307", Severity.ERROR, "service range too large",
         "AKS requires serviceCidr to be smaller than a /12.",
         "serviceCidr: 10.224.0.0/11"),
    Code("AKM308", Severity.WARNING, "public address range",
         "The range is not private address space (RFC 1918 or RFC 6598); traffic to "
         "the real owners of those addresses would be captured.",
         "podCidr: 198.170.0.0/16  # the seed article's pod range"),
    Code("AKM309", Severity.ERROR, "DNS service IP not usable",
         "dnsServiceIP must lie inside serviceCidr and be neither its network address, "
         "nor its first address (kubernetes.default takes that one), nor its broadcast "
         "address (Kubernetes never allocates it: kubernetes/kubernetes "
         "pkg/registry/core/service/ipallocator/bitmap.go).",
         "serviceCidr: 10.220.0.0/16\ndnsServiceIP: 10.220.0.1"),
    Code("AKM311", Severity.ERROR, "range holds an address Azure reserves",
         "A VNet, pod or service range contains an address of the Azure platform: "
         "168.63.129.16 (DNS, DHCP, health probes; "
         "https://learn.microsoft.com/azure/virtual-network/what-is-ip-address-168-63-129-16), "
         "or loopback, multicast or broadcast space. Azure refuses such VNets, and a pod "
         "or service range holding them captures the nodes' traffic to the platform "
         "(https://learn.microsoft.com/azure/virtual-network/virtual-networks-faq).",
         "podCidr: 168.63.0.0/16  # holds 168.63.129.16"),
    Code("AKM310", Severity.ERROR, "ClusterMesh IP not usable",
         "clustermeshIP must lie inside nodeSubnetCidr and must not be one of the five "
         "addresses Azure reserves in every subnet (network, .1, .2, .3, broadcast).",
         "nodeSubnetCidr: 10.20.0.0/22\nclustermeshIP: 10.20.0.3  # Azure reserves .0-.3"),
)

CIDR_KEYS = ("vnetCidr", "nodeSubnetCidr", "podCidr", "serviceCidr")
ADDRESS_KEYS = ("dnsServiceIP", "clustermeshIP")


def check_addresses(data: dict[str, Any]) -> Iterator[Finding]:
    """Every CIDR and address parses, has no host bits, and defaults have room to exist."""
    for i, cluster in enumerate(data["clusters"]):
        networks = {}
        for key in CIDR_KEYS:
            parsed = _parse_cidr(("clusters", i, key), key, cluster[key])
            if isinstance(parsed, Finding):
                yield parsed
            else:
                networks[key] = parsed
        for key in ADDRESS_KEYS:
            if key in cluster:
                try:
                    ip_address(cluster[key])
                except ValueError:
                    yield Finding("AKM301", ("clusters", i, key),
                                  f"{key} {cluster[key]!r} is not an IPv4 address",
                                  "octets are 0..255")
        subnet = networks.get("nodeSubnetCidr")
        if subnet and subnet.prefixlen > facts.SUBNET_MAX_PREFIX:
            yield Finding("AKM304", ("clusters", i, "nodeSubnetCidr"),
                          f"node subnet {subnet} is smaller than a /{facts.SUBNET_MAX_PREFIX}",
                          "size it for every node and the ClusterMesh load balancer")
        service = networks.get("serviceCidr")
        if service and "dnsServiceIP" not in cluster and \
                service.num_addresses <= facts.DNS_SERVICE_IP_OFFSET:
            yield Finding("AKM309", ("clusters", i, "serviceCidr"),
                          f"serviceCidr {service} has no room for the default dnsServiceIP "
                          f"(its address number {facts.DNS_SERVICE_IP_OFFSET})",
                          "widen serviceCidr; a /16 holds 65,536 services")


def check_authorized_ranges(data: dict[str, Any]) -> Iterator[Finding]:
    """The API server's authorized ranges are CIDRs without host bits, as AKS takes them."""
    for i, text in enumerate(data.get("aks", {}).get("authorizedIpRanges", [])):
        parsed = _parse_cidr(("aks", "authorizedIpRanges", i), "authorized range", text)
        if isinstance(parsed, Finding):
            yield parsed


def _parse_cidr(path: TopologyPath, label: str, text: str
                ) -> IPv4Network | IPv6Network | Finding:
    """The network `text` writes, or the AKM301 (no CIDR) or AKM302 (host bits) finding."""
    try:
        return ip_network(text)
    except ValueError:
        pass
    try:
        network = ip_network(text, strict=False)
    except ValueError:
        return Finding("AKM301", path, f"{label} {text!r} is not an IPv4 CIDR",
                       "octets are 0..255 and the prefix length 0..32")
    return Finding("AKM302", path, f"{label} {text} has host bits set",
                   f"did you mean {network}?")


def check_subnet_in_vnet(plan: Plan) -> Iterator[Finding]:
    for c in plan.clusters:
        if not c.node_subnet_cidr.subnet_of(c.vnet_cidr):
            yield Finding("AKM303", at(c, "nodeSubnetCidr"),
                          f"node subnet {c.node_subnet_cidr} is not inside vnetCidr {c.vnet_cidr}",
                          "carve the node subnet out of the VNet's address space")


def check_overlaps(plan: Plan) -> Iterator[Finding]:
    """VNets and pod ranges of the whole mesh are disjoint; service ranges avoid them all.

    A sweep over the ranges sorted by first address: O(n log n), not one test per pair.
    """
    routed = sorted(
        ((net, c, key) for c in plan.clusters
         for key, net in (("vnetCidr", c.vnet_cidr), ("podCidr", c.pod_cidr))),
        key=lambda r: (int(r[0].network_address), r[1].index, r[2]),
    )
    widest = None  # the range reaching furthest so far
    for current in routed:
        if widest is not None and current[0].network_address <= widest[0].broadcast_address:
            yield _overlap(current, widest)
        if widest is None or current[0].broadcast_address > widest[0].broadcast_address:
            widest = current

    starts = [int(r[0].network_address) for r in routed]
    reach = []  # reach[j]: the furthest last address among routed[0..j]
    for net, _, _ in routed:
        reach.append(max(int(net.broadcast_address), reach[-1] if reach else -1))
    for c in plan.clusters:
        first, last = int(c.service_cidr.network_address), int(c.service_cidr.broadcast_address)
        # Only ranges starting at or before the service range's end can overlap it, and
        # none before the point where nothing reaches its start.
        j = bisect.bisect_right(starts, last) - 1
        while j >= 0 and reach[j] >= first:
            if routed[j][0].overlaps(c.service_cidr):
                yield _overlap((c.service_cidr, c, "serviceCidr"), routed[j])
                break
            j -= 1


def _overlap(current: tuple[IPv4Network, Cluster, str], other: tuple[IPv4Network, Cluster, str]
             ) -> Finding:
    # Point at whichever of the two comes later in the file: the one just written.
    later, earlier = sorted((current, other), key=lambda r: (r[1].index, CIDR_KEYS.index(r[2])),
                            reverse=True)
    (net, cluster, key), (other_net, other_cluster, other_key) = later, earlier
    owner = "its own" if other_cluster is cluster else f"cluster `{other_cluster.name}`'s"
    return Finding("AKM305", at(cluster, key),
                   f"{key} {net} of cluster `{cluster.name}` overlaps {owner} "
                   f"{other_key} {other_net}",
                   "every VNet and pod range of the mesh needs its own addresses; "
                   "service ranges must avoid all of them")


def check_range_rules(plan: Plan) -> Iterator[Finding]:
    for c in plan.clusters:
        ranges = {"vnetCidr": c.vnet_cidr, "nodeSubnetCidr": c.node_subnet_cidr,
                  "podCidr": c.pod_cidr, "serviceCidr": c.service_cidr}
        for key, net in ranges.items():
            forbidden = next((f for f in facts.AKS_FORBIDDEN_RANGES if f.overlaps(net)), None)
            azure = next((f for f in facts.AZURE_RESERVED_RANGES if f.overlaps(net)), None)
            if forbidden:
                yield Finding("AKM306", at(c, key), f"{key} {net} touches {forbidden}, "
                              "which AKS reserves", "pick a range in 10.0.0.0/8 or "
                              "192.168.0.0/16 away from the reserved ones")
            elif azure and key != "nodeSubnetCidr":  # the subnet's VNet is reported
                what, doc = facts.AZURE_RESERVED_RANGES[azure]
                where = (f"contains {azure.network_address}" if azure.num_addresses == 1
                         else f"overlaps {azure}")
                yield Finding("AKM311", at(c, key), f"{key} {net} {where}, {what}: "
                              + ("Azure refuses the VNet" if key == "vnetCidr" else
                                 "the range would capture the nodes' traffic to it"),
                              f"pick a range in 10.0.0.0/8 or 192.168.0.0/16; see {doc}")
            elif key != "nodeSubnetCidr" and not any(net.subnet_of(p)
                                                     for p in facts.PRIVATE_RANGES):
                yield Finding("AKM308", at(c, key), f"{key} {net} is public address space",
                              "use RFC 1918 space (10.0.0.0/8, 172.16.0.0/12, "
                              "192.168.0.0/16) or 100.64.0.0/10")
        if c.service_cidr.prefixlen < facts.SERVICE_CIDR_MIN_PREFIX:
            yield Finding("AKM307", at(c, "serviceCidr"),
                          f"serviceCidr {c.service_cidr} is larger than AKS allows",
                          f"use a /{facts.SERVICE_CIDR_MIN_PREFIX} or smaller; a /16 holds "
                          "65,536 services")


def check_dns_service_ip(plan: Plan) -> Iterator[Finding]:
    for c in plan.clusters:
        ip, net = c.dns_service_ip, c.service_cidr
        reserved = {net[0]: "its network address"}
        if net.num_addresses > 1:
            reserved[net[1]] = "its first address, taken by the kubernetes service"
            # Kubernetes never hands out the broadcast address of an IPv4 service range
            # (kubernetes/kubernetes pkg/registry/core/service/ipallocator/bitmap.go, New,
            # at 2e0908106e44: "Don't use the IPv4 network's broadcast address").
            reserved[net[-1]] = "its broadcast address"
        problem = _address_problem(ip, net, reserved)
        if problem:
            yield Finding("AKM309", at(c, "dnsServiceIP", fallback="serviceCidr"),
                          f"dnsServiceIP {ip} {problem} of serviceCidr {net}",
                          f"use {net[facts.DNS_SERVICE_IP_OFFSET]}, or omit dnsServiceIP"
                          if net.num_addresses > facts.DNS_SERVICE_IP_OFFSET else
                          "widen serviceCidr")


def check_clustermesh_ip(plan: Plan) -> Iterator[Finding]:
    for c in plan.clusters:
        ip, net = c.clustermesh_ip, c.node_subnet_cidr
        reserved = {net[i]: "an address Azure reserves" for i in
                    range(min(facts.SUBNET_RESERVED_HEAD, net.num_addresses))}
        reserved[net[-1]] = "the broadcast address Azure reserves"
        problem = _address_problem(ip, net, reserved)
        if problem:
            yield Finding("AKM310", at(c, "clustermeshIP", fallback="nodeSubnetCidr"),
                          f"clustermeshIP {ip} {problem} of nodeSubnetCidr {net}",
                          "set clustermeshIP to a free address of the node subnet, e.g. "
                          f"{net[-1 - facts.CLUSTERMESH_IP_FROM_END]}"
                          if net.num_addresses >= 16 else "widen the node subnet to a /28")


def _address_problem(ip: IPv4Address, net: IPv4Network, reserved: dict[IPv4Address, str]
                     ) -> str | None:
    if ip not in net:
        return "is outside"
    if ip in reserved:
        return f"is {reserved[ip]}"
    return None


DOCUMENT_RULES = (check_addresses, check_authorized_ranges)
RULES = (check_subnet_in_vnet, check_overlaps, check_range_rules, check_dns_service_ip,
         check_clustermesh_ip)
