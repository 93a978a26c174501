"""Stage 2, check: the schema, then the rules of Azure, AKS and Cilium.

Checks are small pure functions that yield `Finding`s naming a topology path; they never
compute positions (the `Document` does). Two passes, because planning needs parseable input:
`check_document` (schema and address syntax) runs on the raw data, `check_plan` (everything
that needs derived values, or the whole mesh at once) runs on the `Plan`.
"""

from __future__ import annotations

import bisect
from collections.abc import Callable, Iterable, Iterator
from ipaddress import IPv4Address, IPv4Network, ip_address, ip_network
from typing import Any, TypeVar

from . import facts
from .diagnostics import Finding, did_you_mean
from .plan import Cluster, Plan

CIDR_KEYS = ("vnetCidr", "nodeSubnetCidr", "podCidr", "serviceCidr")
# A typo'd key is worth a line each; a file of thousands of them is one finding more.
MAX_UNKNOWN_KEYS_REPORTED = 20
ADDRESS_KEYS = ("dnsServiceIP", "clustermeshIP")
TopologyPath = tuple[str | int, ...]
T = TypeVar("T")


def check_document(data: Any, schema: dict[str, Any]) -> list[Finding]:
    findings = list(check_schema(data, schema))
    if not findings:
        findings = list(check_addresses(data)) + list(check_authorized_ranges(data))
    return findings


def check_plan(plan: Plan) -> list[Finding]:
    return [finding for rule in PLAN_RULES for finding in rule(plan)]


# ---------------------------------------------------------------- schema


def check_schema(data: Any, schema: dict[str, Any]) -> Iterator[Finding]:
    """Validate with jsonschema-rs; explain the failures with jsonschema's richer errors.

    jsonschema-rs decides (it is fast to import and run, and its regexes anchor `$` at the
    very end, where Python's also accept a trailing newline); jsonschema, imported only
    for an invalid topology, says what is wrong and where.
    """
    import jsonschema_rs

    # jsonschema-rs takes JSON only, and counts 1.0 as an integer; a topology has no use
    # for numbers with a point, nor for dates, bytes or sets: let jsonschema judge those.
    if _json_without_floats(data) and jsonschema_rs.validator_for(schema).is_valid(data):
        return
    from jsonschema import Draft202012Validator, validators

    def strict_integer(checker: Any, instance: Any) -> bool:
        return isinstance(instance, int) and not isinstance(instance, bool)

    checker = Draft202012Validator.TYPE_CHECKER.redefine("integer", strict_integer)
    validator_class = validators.extend(Draft202012Validator, type_checker=checker)
    seen: set[Finding] = set()
    for error in validator_class(schema).iter_errors(data):
        # jsonschema raises one `required` error per missing key, each naming none of
        # them: the findings of all of them repeat.
        for finding in _schema_findings(error):
            if finding not in seen:
                seen.add(finding)
                yield finding
    if not seen:
        for error in jsonschema_rs.validator_for(schema).iter_errors(data):
            path = tuple(error.instance_path)
            yield Finding("AKM104", path, f"{dotted(path)}: {error.message}")


def _schema_findings(error: Any) -> Iterator[Finding]:
    path: TopologyPath = tuple(error.absolute_path)
    where = dotted(path)
    kind = error.validator
    instance = error.instance
    about = _first_sentence(error.schema.get("description", ""))

    if kind == "additionalProperties":
        known = sorted(error.schema.get("properties", {}))
        unknown = [key for key in instance if key not in error.schema.get("properties", {})]
        for key in unknown[:MAX_UNKNOWN_KEYS_REPORTED]:
            yield Finding("AKM101", (*path, key), f"unknown key `{_short(key)}`{_in(where)}",
                          did_you_mean(key, known) or f"known keys: {', '.join(known)}",
                          at_key=True)
        if len(unknown) > MAX_UNKNOWN_KEYS_REPORTED:
            yield Finding("AKM101", path, f"{len(unknown) - MAX_UNKNOWN_KEYS_REPORTED} more "
                          f"unknown keys{_in(where)}", f"known keys: {', '.join(known)}")
    elif kind == "required":
        for key in error.validator_value:
            if key not in instance:
                hint = _first_sentence(error.schema.get("properties", {}).get(key, {})
                                       .get("description", ""))
                yield Finding("AKM102", path, f"missing required key `{key}`{_in(where)}", hint)
    elif kind == "type":
        expected = error.validator_value
        quote = expected == "string" and isinstance(instance, (int, float))
        yield Finding("AKM103", path,
                      f"{where} must be {_article(expected)}, not {_yaml_type(instance)}",
                      f'quote it: "{instance}"' if quote else about, quote_as_written=quote)
    elif kind == "enum":
        choices = error.validator_value
        hint = (did_you_mean(str(instance), [str(c) for c in choices])
                or "allowed: " + ", ".join(map(str, choices)))
        yield Finding("AKM104", path, f"{where} must be one of {_listing(choices)}, "
                      f"not {_short(instance)}", hint)
    elif kind in ("pattern", "const", "uniqueItems"):
        yield Finding("AKM104", path, f"{where}: {_value_problem(kind, instance, error)}", about)
    else:  # minimum, maximum, minLength, maxLength, minItems, maxItems
        yield Finding("AKM105", path, f"{where}: {_range_problem(kind, instance, error)}", about)


def _value_problem(kind: str, instance: Any, error: Any) -> str:
    if kind == "pattern":
        return f"{_short(instance)} does not match {error.validator_value}"
    if kind == "uniqueItems":
        return "items must be unique"
    return f"must be {error.validator_value!r}"


def _range_problem(kind: str, instance: Any, error: Any) -> str:
    limit = error.validator_value
    return {
        "minimum": f"{instance} is below the minimum {limit}",
        "maximum": f"{instance} is above the maximum {limit}",
        "minLength": f"{_short(instance)} is shorter than {limit} characters",
        "maxLength": f"{_short(instance)} is longer than {limit} characters",
        "minItems": f"needs at least {limit} items, has {_len(instance)}",
        "maxItems": f"allows at most {limit} items, has {_len(instance)}",
    }.get(kind, error.message)


# ---------------------------------------------------------------- addresses (pre-plan)


def check_addresses(data: dict[str, Any]) -> Iterator[Finding]:
    """Every CIDR and address parses, has no host bits, and defaults have room to exist."""
    for i, cluster in enumerate(data["clusters"]):
        networks = {}
        for key in CIDR_KEYS:
            path = ("clusters", i, key)
            text = cluster[key]
            try:
                networks[key] = ip_network(text)
            except ValueError:
                try:
                    network = ip_network(text, strict=False)
                except ValueError:
                    yield Finding("AKM301", path, f"{key} {text!r} is not an IPv4 CIDR",
                                  "octets are 0..255 and the prefix length 0..32")
                else:
                    yield Finding("AKM302", path, f"{key} {text} has host bits set",
                                  f"did you mean {network}?")
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
        path = ("aks", "authorizedIpRanges", i)
        try:
            ip_network(text)
        except ValueError:
            try:
                network = ip_network(text, strict=False)
            except ValueError:
                yield Finding("AKM301", path, f"authorized range {text!r} is not an IPv4 CIDR",
                              "octets are 0..255 and the prefix length 0..32")
            else:
                yield Finding("AKM302", path, f"authorized range {text} has host bits set",
                              f"did you mean {network}?")


# ---------------------------------------------------------------- names and ids


def _repeats(items: Iterable[T], key: Callable[[T], object]) -> Iterator[tuple[T, T]]:
    """(item, the first item before it with the same key), for every repeat."""
    first: dict[object, T] = {}
    for item in items:
        earlier = first.setdefault(key(item), item)
        if earlier is not item:
            yield item, earlier


def check_unique_names(plan: Plan) -> Iterator[Finding]:
    for cluster, earlier in _repeats(plan.clusters, lambda c: c.name):
        yield Finding("AKM201", _at(cluster, "name"),
                      f"cluster name `{cluster.name}` is already used by "
                      f"clusters[{earlier.index}]", "give every cluster its own name")


def check_unique_ids(plan: Plan) -> Iterator[Finding]:
    used = {c.id for c in plan.clusters}
    free = next((i for i in range(1, plan.max_connected_clusters + 1) if i not in used), None)
    for cluster, earlier in _repeats(plan.clusters, lambda c: c.id):
        yield Finding("AKM202", _at(cluster, "id"),
                      f"cluster id {cluster.id} is already used by cluster `{earlier.name}`",
                      f"the lowest free id is {free}; never renumber existing clusters"
                      if free else "every id is taken: the mesh is full")


def check_mesh_size(plan: Plan) -> Iterator[Finding]:
    limit = plan.max_connected_clusters
    if len(plan.clusters) > limit:
        yield Finding("AKM206", ("clusters",),
                      f"{len(plan.clusters)} clusters exceed Cilium's limit of {limit}",
                      "set cilium.maxConnectedClusters: 511" if limit == 255 else
                      "split the mesh")
    for cluster in plan.clusters:
        if cluster.id > limit:
            yield Finding("AKM203", _at(cluster, "id"),
                          f"cluster id {cluster.id} exceeds cilium.maxConnectedClusters ({limit})",
                          "use an id from 1 to 255, or set cilium.maxConnectedClusters: 511"
                          if limit == 255 else f"use an id from 1 to {limit}")


def check_reserved_names(plan: Plan) -> Iterator[Finding]:
    for cluster in plan.clusters:
        if cluster.name == "default":
            yield Finding("AKM205", _at(cluster, "name"),
                          "cluster name `default` is reserved by Cilium",
                          "name the cluster after its region or role")


def check_azure_name_lengths(plan: Plan) -> Iterator[Finding]:
    for cluster in plan.managed_clusters:
        too_long = [(kind, name, len(name) - facts.MAX_NAME_LENGTH[kind])
                    for kind, name in cluster.azure_names.items()
                    if len(name) > facts.MAX_NAME_LENGTH[kind]]
        if too_long:
            names = "; ".join(f"{kind} `{name}` by {over}" for kind, name, over in too_long)
            yield Finding("AKM204", _at(cluster, "name"),
                          f"Azure names derived from cluster `{cluster.name}` are too long: "
                          f"{names}",
                          f"shorten the cluster name or the topology name by "
                          f"{max(over for _, _, over in too_long)} characters")


# ---------------------------------------------------------------- address rules


def check_subnet_in_vnet(plan: Plan) -> Iterator[Finding]:
    for c in plan.clusters:
        if not c.node_subnet_cidr.subnet_of(c.vnet_cidr):
            yield Finding("AKM303", _at(c, "nodeSubnetCidr"),
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
    return Finding("AKM305", _at(cluster, key),
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
                yield Finding("AKM306", _at(c, key), f"{key} {net} touches {forbidden}, "
                              "which AKS reserves", "pick a range in 10.0.0.0/8 or "
                              "192.168.0.0/16 away from the reserved ones")
            elif azure and key != "nodeSubnetCidr":  # the subnet's VNet is reported
                what, doc = facts.AZURE_RESERVED_RANGES[azure]
                where = (f"contains {azure.network_address}" if azure.num_addresses == 1
                         else f"overlaps {azure}")
                yield Finding("AKM311", _at(c, key), f"{key} {net} {where}, {what}: "
                              + ("Azure refuses the VNet" if key == "vnetCidr" else
                                 "the range would capture the nodes' traffic to it"),
                              f"pick a range in 10.0.0.0/8 or 192.168.0.0/16; see {doc}")
            elif key != "nodeSubnetCidr" and not any(net.subnet_of(p)
                                                     for p in facts.PRIVATE_RANGES):
                yield Finding("AKM308", _at(c, key), f"{key} {net} is public address space",
                              "use RFC 1918 space (10.0.0.0/8, 172.16.0.0/12, "
                              "192.168.0.0/16) or 100.64.0.0/10")
        if c.service_cidr.prefixlen < facts.SERVICE_CIDR_MIN_PREFIX:
            yield Finding("AKM307", _at(c, "serviceCidr"),
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
            yield Finding("AKM309", _at(c, "dnsServiceIP", fallback="serviceCidr"),
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
            yield Finding("AKM310", _at(c, "clustermeshIP", fallback="nodeSubnetCidr"),
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


# ---------------------------------------------------------------- platform support


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
            yield Finding("AKM402", _at(c, "region"), f"unknown Azure region `{c.region}`",
                          did_you_mean(c.region, sorted(facts.AZURE_REGIONS))
                          or "see `az account list-locations -o table`")


def check_zones(plan: Plan) -> Iterator[Finding]:
    """Zones only where the region has them: AKS refuses to create the pool otherwise."""
    for c in plan.managed_clusters:
        if c.zones and facts.REGION_ZONES.get(c.region) == ():
            asked = "its `zones`" if "zones" in c.explicit else "aks.systemPool.zones"
            yield Finding("AKM430", _at(c, "zones", "region"),
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
    from . import shipped

    minor = ".".join(plan.cilium_version.split(".")[:2])
    if minor in facts.CILIUM_SUPPORTED_MINORS and \
            plan.cilium_version not in shipped.cilium_versions():
        yield Finding("AKM420", ("cilium", "version"),
                      f"aksmesh has no values or CRD schemas for Cilium {plan.cilium_version}"
                      ": its render cannot be verified",
                      f"use {' or '.join(map(repr, shipped.cilium_versions()))}")
    if plan.kubernetes_version in facts.AKS_SUPPORTED_MINORS and \
            plan.kubernetes_version not in shipped.kubernetes_versions():
        yield Finding("AKM421", ("kubernetesVersion",),
                      f"aksmesh has no Kubernetes API schemas for {plan.kubernetes_version}: "
                      "its render cannot be verified",
                      f"use {' or '.join(map(repr, shipped.kubernetes_versions()))}")


# ---------------------------------------------------------------- mesh features


def check_encryption(plan: Plan) -> Iterator[Finding]:
    """WireGuard only protects traffic between clusters that both run it."""
    modes = {c.encryption for c in plan.clusters}
    if len(modes) > 1:
        for c in plan.clusters:
            if c.encryption != plan.encryption:
                yield Finding("AKM407", _at(c, "encryption"),
                              f"cluster `{c.name}` uses encryption {c.encryption}, the mesh "
                              f"{plan.encryption}: a mixed mesh leaves traffic between them "
                              "in clear", "use one setting, cilium.encryption, for every cluster")


def check_cluster_references(plan: Plan) -> Iterator[Finding]:
    names = sorted(c.name for c in plan.clusters)
    known = set(names)
    for service in plan.global_services:
        for backend in sorted(service.backends):
            if backend not in known:
                yield Finding("AKM208", ("globalServices", service.index, "backends"),
                              f"global service `{service.name}` names unknown cluster "
                              f"`{backend}` as a backend",
                              did_you_mean(backend, names) or f"clusters: {', '.join(names)}")
    for flow in plan.segmentation or ():
        for side, endpoints in (("from", flow.source), ("to", flow.destination)):
            if endpoints.cluster not in known:
                yield Finding("AKM208", ("segmentation", "allow", flow.index, side, "cluster"),
                              f"segmentation names unknown cluster `{endpoints.cluster}`",
                              did_you_mean(endpoints.cluster, names)
                              or f"clusters: {', '.join(names)}")
        if flow.source.cluster == flow.destination.cluster:
            yield Finding("AKM210", ("segmentation", "allow", flow.index),
                          f"a flow inside cluster `{flow.source.cluster}` is not restricted "
                          "by segmentation, which only governs traffic between clusters",
                          "remove the flow, or use a CiliumNetworkPolicy inside the cluster")


def check_unique_services(plan: Plan) -> Iterator[Finding]:
    for service, earlier in _repeats(plan.global_services, lambda s: (s.namespace, s.name)):
        yield Finding("AKM209", ("globalServices", service.index, "name"),
                      f"global service {service.namespace}/{service.name} is declared "
                      f"twice (first as globalServices[{earlier.index}])",
                      "merge the two entries")


def check_service_validity(plan: Plan) -> Iterator[Finding]:
    """What the Kubernetes API server would refuse in a global service's Service (the rules
    of k8s_validation, which verify applies to the rendered objects too)."""
    from . import k8s_validation

    for service in plan.global_services:
        where = ("globalServices", service.index)
        ports = [{"name": p.name, "port": p.port, "targetPort": p.target_port,
                  "protocol": p.protocol} for p in service.ports]
        for path, message in k8s_validation.service_ports(ports):
            index = path[0]
            if len(path) == 1:  # the (port, protocol) pair
                yield Finding("AKM211", (*where, "ports", index, "port"),
                              f"global service `{service.name}`: {message}",
                              "give each port of a Service its own number, or another "
                              "protocol")
            elif path[1] == "name":
                yield Finding("AKM212", (*where, "ports", index),
                              f"global service `{service.name}`, port {index}: {message}",
                              "name every port, each name unique (a DNS-1123 label such as "
                              "`http`)")
        for key, value in service.selector:
            for _, message in k8s_validation.labels({key: value}):
                yield Finding("AKM213", (*where, "selector", key), f"global service "
                              f"`{service.name}` selector: {message}",
                              "selector keys are label keys ([prefix/]name) and values are "
                              "label values: at most 63 letters, digits, '-', '_' or '.', "
                              "starting and ending with a letter or digit",
                              at_key=bool(k8s_validation.qualified_name(key)))


def check_service_reachability(plan: Plan) -> Iterator[Finding]:
    """Every cluster has every global service, so every cluster is a client of it: each
    namespace of a cluster that has a flow into the service's namespace in one backend
    cluster needs one into every other backend cluster it load-balances to (or some
    connections hit a policy drop); a cluster with no such flow at all reaches none."""
    if plan.segmentation is None:
        return
    known = {c.name for c in plan.clusters}
    if not _clusters_known(plan, known):
        return  # AKM208 says which
    for service in plan.global_services:
        for cluster in plan.clusters:
            targets = [b for group in service.preference(cluster.name) for b in group
                       if b != cluster.name]
            clients = sorted({f.source.namespace or "" for f in plan.segmentation
                              if f.source.cluster == cluster.name
                              and f.destination.cluster in targets
                              and f.destination.namespace in (None, service.namespace)},
                             key=lambda n: (n != "", n)) or [None]
            for namespace in clients:
                for backend in sorted(targets):
                    if namespace is not None and _flow_covers(plan, cluster.name, namespace,
                                                              backend, service.namespace):
                        continue
                    source = (f"{{cluster: {cluster.name}, namespace: {namespace}}}"
                              if namespace else
                              f"{{cluster: {cluster.name}}}" if namespace == "" else
                              f"{{cluster: {cluster.name}, namespace: <client namespace>}}")
                    who = (f"namespace {namespace} of cluster `{cluster.name}`" if namespace
                           else f"cluster `{cluster.name}`")
                    yield Finding("AKM220", ("globalServices", service.index, "backends"),
                                  f"global service {service.namespace}/{service.name}: "
                                  f"{who} load-balances to its backends in `{backend}`, "
                                  "but segmentation admits no flow there",
                                  f"add to segmentation.allow: {{from: {source}, to: "
                                  f"{{cluster: {backend}, namespace: {service.namespace}}}}}")


def _clusters_known(plan: Plan, known: set[str]) -> bool:
    return all(b in known for s in plan.global_services for b in s.backends) and all(
        f.source.cluster in known and f.destination.cluster in known
        for f in plan.segmentation or ())


def _flow_covers(plan: Plan, source: str, namespace: str, destination: str,
                 destination_namespace: str) -> bool:
    """A flow from `source`/`namespace` ("" for a flow without namespace) into the
    destination's namespace."""
    return any(f.source.cluster == source
               and f.source.namespace in (None, namespace or None)
               and f.destination.cluster == destination
               and f.destination.namespace in (None, destination_namespace)
               for f in plan.segmentation or ())


def check_rollout(plan: Plan) -> Iterator[Finding]:
    """Waves name every cluster once, and the Cilium versions they pin can share a mesh."""
    if not plan.rollout:
        return
    names = sorted(c.name for c in plan.clusters)
    seen: dict[str, str] = {}
    for wave, earlier in _repeats(plan.rollout, lambda w: w.name):
        yield Finding("AKM723", ("rollout", "waves", wave.index, "name"),
                      f"wave `{wave.name}` is declared twice (first as waves[{earlier.index}])",
                      "give each wave its own name: it names a Fleet update group")
    for wave in plan.rollout:
        for position, name in enumerate(wave.clusters):
            where = ("rollout", "waves", wave.index, "clusters", position)
            if name not in names:
                yield Finding("AKM720", where, f"wave `{wave.name}` names unknown cluster "
                              f"`{name}`", did_you_mean(name, names)
                              or f"clusters: {', '.join(names)}")
            elif name in seen:
                yield Finding("AKM721", where, f"cluster `{name}` is in wave `{wave.name}` "
                              f"and in wave `{seen[name]}`", "put each cluster in one wave")
            else:
                seen[name] = wave.name
        if wave.own_cilium and not _supported_cilium(wave.cilium_version):
            yield Finding("AKM404", ("rollout", "waves", wave.index, "cilium", "version"),
                          f"Cilium {wave.cilium_version} is not a version aksmesh renders for",
                          f'use "{facts.CILIUM_DEFAULT_VERSION}"')
    missing = [n for n in names if n not in seen]
    if missing:
        yield Finding("AKM721", ("rollout", "waves"),
                      f"cluster{'s' * (len(missing) > 1)} {', '.join(missing)} in no wave: "
                      "a Fleet update run would never upgrade "
                      f"{'them' if len(missing) > 1 else 'it'}",
                      "add every cluster to one wave (the last, for example)")
    minors = sorted({_minor(c.cilium_version) for c in plan.clusters})
    if minors and minors[-1][1] - minors[0][1] > facts.CILIUM_MESH_MAX_MINOR_SKEW:
        newest = max(plan.rollout, key=lambda w: _minor(w.cilium_version))
        yield Finding("AKM722", ("rollout", "waves", newest.index, "cilium", "version"),
                      f"the waves run Cilium {'.'.join(map(str, minors[0]))} and "
                      f"{'.'.join(map(str, minors[-1]))}: more than "
                      f"{facts.CILIUM_MESH_MAX_MINOR_SKEW} minor version apart in one mesh",
                      f"{facts.CILIUM_MESH_SKEW_SOURCE}: upgrade every wave to the next minor "
                      "before the first wave moves on")
    if plan.fleet is not None and plan.aks.upgrade_channel in facts.FLEET_CONFLICTING_CHANNELS:
        yield Finding("AKM724", ("aks", "upgradeChannel"),
                      f"upgrade channel `{plan.aks.upgrade_channel}` makes AKS upgrade each "
                      "cluster's minor version on its own, outside the rollout waves and "
                      "behind the Bicep's kubernetesVersion",
                      "set `aks.upgradeChannel: patch` or `none`: minor upgrades then come "
                      "from Fleet update runs, wave by wave")


def check_extra_cilium_values(plan: Plan) -> Iterator[Finding]:
    """Extra Helm values may add to aksmesh's, never change what it sets."""
    from .render import aksmesh_values, owned_paths  # the values aksmesh writes, decided once

    for c in plan.clusters:
        if not c.extra_cilium_values:
            continue
        owned = owned_paths(aksmesh_values(plan, c))
        for path in sorted(owned_paths(c.extra_cilium_values)):
            clash = next((o for o in sorted(owned)
                          if o[:len(path)] == path or path[:len(o)] == o), None)
            if clash is not None:
                yield Finding("AKM730", ("clusters", c.index, "ciliumValues", *path),
                              f"cluster `{c.name}`: ciliumValues sets {'.'.join(path)}, "
                              f"which aksmesh sets ({'.'.join(clash)})",
                              "change it through the topology's own keys, or leave it out",
                              at_key=True)


def _minor(version: str) -> tuple[int, int]:
    major, minor = version.split(".")[:2]
    return int(major), int(minor)


def _supported_cilium(version: str) -> bool:
    return ".".join(version.split(".")[:2]) in facts.CILIUM_SUPPORTED_MINORS


PLAN_RULES: tuple[Callable[[Plan], Iterable[Finding]], ...] = (
    check_kubernetes_version,
    check_cilium_version,
    check_verification_data,
    check_unique_names,
    check_service_validity,
    check_reserved_names,
    check_unique_ids,
    check_mesh_size,
    check_azure_name_lengths,
    check_regions,
    check_zones,
    check_cluster_access,
    check_peering_limit,
    check_template_size,
    check_subnet_in_vnet,
    check_overlaps,
    check_range_rules,
    check_dns_service_ip,
    check_clustermesh_ip,
    check_encryption,
    check_cluster_references,
    check_unique_services,
    check_service_reachability,


    check_rollout,
    check_extra_cilium_values,
)


# ---------------------------------------------------------------- helpers


def _at(cluster: Cluster, key: str, fallback: str | None = None) -> TopologyPath:
    """Path of a cluster key; a defaulted value points at the key it was derived from."""
    if fallback and key not in cluster.explicit:
        key = fallback
    return ("clusters", cluster.index, key)


def dotted(path: TopologyPath) -> str:
    text = ""
    for step in path:
        text += f"[{step}]" if isinstance(step, int) else f".{step}" if text else str(step)
    return text or "the topology"


def _in(where: str) -> str:
    return "" if where == "the topology" else f" in {where}"


def _short(value: Any, limit: int = 60) -> str:
    """A value as a finding quotes it: repr, cut short (a name may be 500 KB long)."""
    text = repr(value)
    return text if len(text) <= limit else text[: limit - 3] + "..."


def _json_without_floats(value: Any) -> bool:
    if isinstance(value, dict):
        return all(isinstance(k, str) and _json_without_floats(v) for k, v in value.items())
    if isinstance(value, list):
        return all(_json_without_floats(v) for v in value)
    return value is None or isinstance(value, (str, int, bool))


def _first_sentence(text: str) -> str:
    return text.split(". ")[0].rstrip(".") + "." if text else ""


def _article(type_name: Any) -> str:
    names = {"string": "a string", "integer": "an integer", "object": "a mapping",
             "array": "a list", "boolean": "true or false", "number": "a number"}
    if isinstance(type_name, list):
        return " or ".join(names.get(t, t) for t in type_name)
    return names.get(type_name, type_name)


def _yaml_type(value: Any) -> str:
    if isinstance(value, bool):
        return "a boolean"
    if value is None:
        return "empty (null)"
    for kind, name in ((int, "an integer"), (float, "a number"), (str, "a string"),
                       (dict, "a mapping"), (list, "a list")):
        if isinstance(value, kind):
            return name
    return f"a {type(value).__name__}"


def _listing(choices: list[Any]) -> str:
    return ", ".join(repr(c) if isinstance(c, str) else str(c) for c in choices)


def _len(value: Any) -> int:
    return len(value) if hasattr(value, "__len__") else 0
