"""Diagnostics are data: one frozen record per finding, one registry of codes.

Checks never compute line numbers: they yield a `Finding` that names a topology path, and
`locate` (in `load`) turns the path into a position. The registry below is the single
source of codes, severities and explanations; docs are generated from it.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, field, replace
from typing import Iterable


class Severity(enum.IntEnum):
    NOTE = 0  # says what was not checked; never fails a run, not even under --strict
    WARNING = 1
    ERROR = 2

    def __str__(self) -> str:
        return self.name.lower()


@dataclass(frozen=True)
class Code:
    id: str
    severity: Severity
    title: str
    explanation: str
    example: str  # input that triggers it: a topology fragment or a command


@dataclass(frozen=True, order=True)
class Diagnostic:
    """A finding placed in a file. Ordering sorts by position, then code."""

    file: str
    line: int
    col: int
    code: str
    message: str = field(compare=False)
    hint: str = field(default="", compare=False)
    severity: Severity = field(default=Severity.ERROR, compare=False)
    path: tuple[str | int, ...] = field(default=(), compare=False)

    def format_text(self) -> str:
        label = "" if self.severity is Severity.ERROR else f"{self.severity}: "
        text = f"{self.file}:{self.line}:{self.col}: {self.code} {label}{self.message}"
        if self.hint:
            text += f"\n  hint: {self.hint}"
        return text

    def as_error(self) -> Diagnostic:
        if self.severity is Severity.WARNING:
            return replace(self, severity=Severity.ERROR)
        return self


@dataclass(frozen=True)
class Finding:
    """What a check yields: a code, where in the topology, what and how to fix it."""

    code: str
    path: tuple[str | int, ...]
    message: str
    hint: str = ""
    # Point at the key of a mapping entry rather than its value (unknown keys, names).
    at_key: bool = False
    # A number where text belongs: the hint quotes the value as written (YAML reads 1.30
    # as 1.3, and 08 as 8), which only the located document knows.
    quote_as_written: bool = False


def _registry(codes: Iterable[Code]) -> dict[str, Code]:
    registry: dict[str, Code] = {}
    for code in codes:
        if code.id in registry:
            raise ValueError(f"duplicate diagnostic code {code.id}")
        registry[code.id] = code
    return registry


E, W, N = Severity.ERROR, Severity.WARNING, Severity.NOTE

CODES = _registry(
    [
        # 0xx: reading the file
        Code("AKM001", E, "file cannot be read",
             "The topology path does not exist, is a directory, or is not UTF-8 text.",
             "aksmesh validate topologies/  # a directory, not a file"),
        Code("AKM002", E, "YAML syntax error",
             "The file is not valid YAML 1.2 (this includes tab indentation).",
             "clusters:\n\t- name: ne  # a tab indents this line"),
        Code("AKM003", E, "duplicate key",
             "A mapping names the same key twice; YAML parsers disagree on which value wins, "
             "so aksmesh refuses the file.",
             "name: mesh\nname: mesh2"),
        Code("AKM004", E, "not a topology document",
             "The file is empty, holds several YAML documents, or its root is not a mapping.",
             "- name: ne  # the root is a list"),
        Code("AKM005", E, "file too large or too deeply nested",
             "The file exceeds aksmesh's size, depth or alias-expansion limits; a topology "
             "is a few kilobytes even for hundreds of clusters.",
             "a: &a [x, x, x, x, x, x, x, x, x, x]\nb: &b [*a, *a, *a, *a, *a, *a, *a, *a, *a, *a]\n# ... nine levels: a billion nodes"),
        # 1xx: the schema (topology.schema.json)
        Code("AKM101", E, "unknown key",
             "The key is not part of the topology format; it is usually a typo.",
             "clusters:\n  - name: ne\n    podCIDR: 10.110.0.0/16  # did you mean `podCidr`?"),
        Code("AKM102", E, "missing required key",
             "The topology format requires this key.",
             "clusters:\n  - name: ne\n    id: 1  # no region, vnetCidr, ..."),
        Code("AKM103", E, "wrong type",
             "The value has the wrong YAML type (for example a number where a string is "
             "expected: quote versions such as \"1.36\"). An explicit YAML tag (`!foo`, "
             "`!!python/object`, even `!!str`) on a value, a mapping or a list is refused "
             "too: a topology is plain data, and aksmesh never runs a tag's constructor.",
             'kubernetesVersion: 1.36  # a number: quote it, "1.36"'),
        Code("AKM104", E, "value not allowed",
             "The value does not match the allowed values or the pattern of this key.",
             "aks:\n  tier: standard  # did you mean `Standard`?"),
        Code("AKM105", E, "value out of range",
             "The value, its length or its number of items is outside the allowed range.",
             "clusters:\n  - name: ne\n    id: 600  # above 511"),
        Code("AKM106", E, "number too long to read",
             "A plain number with more digits than any topology value could need (an id "
             "of thousands of digits). It is refused where it stands, before it is "
             "converted.",
             "clusters:\n  - name: ne\n    id: 1000000000000000000000000000000000000000...  # 5000 digits"),
        # 2xx: names and ids
        Code("AKM201", E, "duplicate cluster name",
             "Cluster names name Azure resources and Cilium clusters: they must be unique.",
             "clusters:\n  - name: ne\n    ...\n  - name: ne"),
        Code("AKM202", E, "duplicate cluster id",
             "Cilium identifies each cluster of a mesh by its id: ids must be unique.",
             "clusters:\n  - name: ne\n    id: 1\n  - name: we\n    id: 1"),
        Code("AKM203", E, "cluster id above the mesh limit",
             "A cluster id must not exceed cilium.maxConnectedClusters (255 or 511).",
             "clusters:\n  - name: we\n    id: 300  # maxConnectedClusters is 255"),
        Code("AKM204", E, "derived Azure name too long",
             "A resource or deployment name derived from the topology and cluster names "
             "exceeds Azure's limit for it; shorten the topology or cluster name.",
             "name: a-rather-long-topology-name-x\nclusters:\n  - name: a-rather-long-cluster-name-xyz  # dnsPrefix > 54"),
        Code("AKM205", E, "reserved cluster name",
             "Cilium rejects the cluster name `default` for any cluster id other than 0.",
             "clusters:\n  - name: default"),
        Code("AKM206", E, "too many clusters for the mesh",
             "Cilium connects at most cilium.maxConnectedClusters clusters (255, or 511).",
             "clusters:  # 256 clusters with maxConnectedClusters 255"),
        Code("AKM208", E, "unknown cluster",
             "A global service or a segmentation flow names a cluster the topology does "
             "not define.",
             "globalServices:\n  - name: rebel-base\n    backends: [ne, wee]  # no cluster `wee`"),
        Code("AKM209", E, "duplicate global service",
             "Two globalServices entries declare the same namespace and name.",
             "globalServices:\n  - {name: rebel-base, namespace: default, ...}\n"
             "  - {name: rebel-base, namespace: default, ...}"),
        Code("AKM210", W, "segmentation flow inside one cluster",
             "Segmentation governs traffic between clusters only; a flow from a cluster to "
             "itself changes nothing.",
             "segmentation:\n  allow:\n    - {from: {cluster: ne}, to: {cluster: ne}}"),
        Code("AKM211", E, "a Service port is listed twice",
             "Kubernetes refuses a Service with two ports of the same number and protocol "
             "(ValidateService).",
             "ports:\n  - {name: http, port: 80}\n  - {name: web, port: 80}  # 80/TCP again"),
        Code("AKM212", E, "a Service port name is missing or repeated",
             "With several ports every port needs a name, and the names must differ "
             "(validateServicePort).",
             "ports:\n  - {port: 80}\n  - {port: 443}  # no names"),
        Code("AKM213", E, "a Service selector Kubernetes refuses",
             "Selector keys must be label keys ([prefix/]name) and values label values "
             "(at most 63 characters, alphanumerics, '-', '_', '.', alphanumeric at both "
             "ends).",
             "selector:\n  app: rebel base  # a space"),
        Code("AKM220", E, "global service unreachable under segmentation",
             "Every cluster has each global service and load-balances its clients to the "
             "service's backends; segmentation must admit a flow from each of those clients "
             "(the namespaces that already have a flow to one backend cluster, or some "
             "namespace when none does) into the service's namespace in every other backend "
             "cluster, or some connections time out on a policy drop.",
             "globalServices:\n  - {name: rebel-base, namespace: rebel-base, backends: [ne, we], ...}\n"
             "segmentation:\n  allow:\n    - from: {cluster: onprem, namespace: x-wing}\n"
             "      to: {cluster: ne, namespace: rebel-base}  # and none to we"),
        # 3xx: addresses
        Code("AKM301", E, "invalid CIDR or address",
             "The value is not an IPv4 CIDR (a.b.c.d/n) or IPv4 address.",
             "podCidr: 10.320.0.0/16"),
        Code("AKM302", E, "CIDR has host bits set",
             "The address of a CIDR must be its network address (10.1.0.0/16, not 10.1.2.3/16).",
             "podCidr: 10.120.1.0/16  # did you mean 10.120.0.0/16?"),
        Code("AKM303", E, "node subnet outside its VNet",
             "nodeSubnetCidr must lie inside the cluster's vnetCidr.",
             "vnetCidr: 10.20.0.0/16\nnodeSubnetCidr: 10.21.0.0/22"),
        Code("AKM304", E, "range too small",
             "The node subnet must be at least a /29 (Azure keeps five addresses of it).",
             "nodeSubnetCidr: 10.20.0.0/30"),
        Code("AKM305", E, "overlapping ranges",
             "VNets and pod ranges of the whole mesh must be disjoint (peering and tunnel "
             "routing need it), and no service range may overlap a VNet or a pod range.",
             "# cluster ne\nvnetCidr: 10.10.0.0/16\n# cluster we\npodCidr: 10.10.128.0/17"),
        Code("AKM306", E, "range reserved by AKS",
             "AKS refuses ranges that touch 169.254.0.0/16, 172.30.0.0/16, 172.31.0.0/16 "
             "or 192.0.2.0/24.",
             "podCidr: 172.31.0.0/16"),
        Code("AKM307", E, "service range too large",
             "AKS requires serviceCidr to be smaller than a /12.",
             "serviceCidr: 10.224.0.0/11"),
        Code("AKM308", W, "public address range",
             "The range is not private address space (RFC 1918 or RFC 6598); traffic to "
             "the real owners of those addresses would be captured.",
             "podCidr: 198.170.0.0/16  # the seed article's pod range"),
        Code("AKM309", E, "DNS service IP not usable",
             "dnsServiceIP must lie inside serviceCidr and be neither its network address, "
             "nor its first address (kubernetes.default takes that one), nor its broadcast "
             "address (Kubernetes never allocates it: kubernetes/kubernetes "
             "pkg/registry/core/service/ipallocator/bitmap.go).",
             "serviceCidr: 10.220.0.0/16\ndnsServiceIP: 10.220.0.1"),
        Code("AKM311", E, "range holds an address Azure reserves",
             "A VNet, pod or service range contains an address of the Azure platform: "
             "168.63.129.16 (DNS, DHCP, health probes; "
             "https://learn.microsoft.com/azure/virtual-network/what-is-ip-address-168-63-129-16), "
             "or loopback, multicast or broadcast space. Azure refuses such VNets, and a pod "
             "or service range holding them captures the nodes' traffic to the platform "
             "(https://learn.microsoft.com/azure/virtual-network/virtual-networks-faq).",
             "podCidr: 168.63.0.0/16  # holds 168.63.129.16"),
        Code("AKM310", E, "ClusterMesh IP not usable",
             "clustermeshIP must lie inside nodeSubnetCidr and must not be one of the five "
             "addresses Azure reserves in every subnet (network, .1, .2, .3, broadcast).",
             "nodeSubnetCidr: 10.20.0.0/22\nclustermeshIP: 10.20.0.3  # Azure reserves .0-.3"),
        # 4xx: platform support
        Code("AKM401", E, "Kubernetes version not supported by AKS",
             "kubernetesVersion must be a minor version inside the AKS support window.",
             'kubernetesVersion: "1.27"  # the seed article\'s version'),
        Code("AKM402", E, "unknown Azure region",
             "region must be the programmatic name of an Azure public-cloud region "
             "(`az account list-locations -o table`, column Name).",
             "region: westeurop  # did you mean `westeurope`?"),
        Code("AKM403", E, "too many VNet peerings",
             "A full mesh peers every VNet with every other; Azure allows 500 peerings "
             "per VNet.",
             "clusters:  # 502 clusters with full-mesh peering: 501 peerings per VNet"),
        Code("AKM404", E, "Cilium version not supported",
             "aksmesh renders values for the Cilium chart versions it knows.",
             'cilium:\n  version: "1.14.2"'),
        Code("AKM405", E, "too many resources for one ARM template",
             "With full-mesh peering, main.bicep deploys two modules per cluster (the "
             "cluster, its peerings); ARM allows 800 resources per template. With "
             "`peering: avnm` it deploys one.",
             "clusters:  # 401 clusters with full-mesh peering: 802 resources"),
        Code("AKM406", W, "mesh larger than a default AVNM connected group",
             "Azure Virtual Network Manager connects 250 VNets in one mesh configuration "
             "by default; larger meshes need the limit raised for the subscription.",
             "peering: avnm\nclusters:  # 300 clusters"),
        Code("AKM407", E, "mixed encryption in the mesh",
             "WireGuard encrypts traffic only between clusters that both run it: every "
             "cluster of the mesh must use the same setting.",
             "cilium:\n  encryption: wireguard\nclusters:\n  - name: we\n    encryption: none"),
        Code("AKM420", E, "no verification data for this Cilium version",
             "aksmesh ships the Cilium chart's values schema and CRD schemas for the "
             "versions it renders for, and verifies every render against them; a version "
             "it has no data for cannot be verified.",
             'cilium:\n  version: "1.20.1"  # aksmesh ships data for 1.20.0'),
        Code("AKM421", E, "no verification data for this Kubernetes version",
             "aksmesh ships the Kubernetes API schemas of the core kinds it renders for "
             "every minor version it supports; a version it has no schemas for cannot be "
             "verified.",
             'kubernetesVersion: "1.38"  # no schemas shipped for it'),
        Code("AKM430", E, "availability zones in a region without zones",
             "Only some Azure regions have availability zones (Microsoft's regions list); "
             "AKS refuses a node pool with zones in the others. By default each cluster "
             "gets its region's zones; zones asked for explicitly are refused there.",
             "aks:\n  systemPool:\n    zones: [\"1\", \"2\", \"3\"]\nclusters:\n  - name: ukw\n    region: ukwest  # no zones"),
        Code("AKM431", E, "local accounts disabled without an admin group",
             "With aks.disableLocalAccounts (the default) only Entra ID identities can use "
             "the clusters: aks.adminGroupObjectIds must name at least one cluster-admin "
             "group, or nobody can.",
             "aks:\n  disableLocalAccounts: true\n  adminGroupObjectIds: []"),
        Code("AKM432", E, "public API server open to every address",
             "A public API server must admit only aks.authorizedIpRanges; a private "
             "cluster, or the explicit aks.unrestrictedApiServer opt-in, lifts this.",
             "aks:\n  privateCluster: false\n  authorizedIpRanges: []"),
        Code("AKM433", W, "API server opened to every address by choice",
             "aks.unrestrictedApiServer makes every cluster's API server reachable from the "
             "whole internet; aksmesh says so on every run.",
             "aks:\n  unrestrictedApiServer: true"),
        Code("AKM434", W, "authorized IP ranges on a private cluster",
             "Authorized IP ranges apply to public API servers only; with "
             "aks.privateCluster they are left out of the Bicep.",
             "aks:\n  privateCluster: true\n  authorizedIpRanges: [203.0.113.0/24]"),
        Code("AKM440", N, "Bicep resource type without type data",
             "aksmesh has no type data for a resource type it emits "
             "(facts.TYPES_WITHOUT_REFERENCE_DATA): its body is not checked offline, only "
             "its syntax. The Bicep compiler itself has the data.",
             "resource logs 'Microsoft.OperationalInsights/workspaces@2026-03-01' = {...}"),
        Code("AKM441", E, "generated Bicep declares an unused parameter",
             "A parameter of a generated Bicep file is referenced nowhere in it (the Bicep "
             "linter rule no-unused-params).",
             "param authorizedIpRanges string[]  # in a private cluster's module"),
        Code("AKM442", E, "generated Bicep shadows a built-in function",
             "A symbol of a generated Bicep file has the name of a Bicep function, which it "
             "hides in that file (resourceGroup() can then no longer be called).",
             "resource resourceGroup 'Microsoft.Resources/resourceGroups@2025-04-01' = {...}"),
        Code("AKM443", E, "main.bicepparam does not fit main.bicep",
             "The parameters file must name main.bicep in `using`, set every parameter "
             "main.bicep requires, only those it declares, with values of the declared "
             "type and within its decorators, as the Bicep compiler checks them.",
             "using 'main.bicep'\nparam adminGroupObjectIds = []  # @minLength(1)"),
        # 5xx: verification of the rendered tree (a failure here is a bug in aksmesh)
        Code("AKM501", E, "generated Bicep does not parse",
             "tree-sitter-bicep found a syntax error in a generated Bicep file.",
             "resource x 'Microsoft.Network/virtualNetworks@2025-09-01' = {  # never closed"),
        Code("AKM502", E, "generated Bicep violates the Azure type data",
             "A resource body does not match the Bicep type data (unknown, read-only or "
             "missing properties, wrong types, patterns or ranges).",
             "properties: {\n  enableRbac: true  # the type data spells it enableRBAC\n}"),
        Code("AKM511", E, "generated manifest violates its schema",
             "A rendered Flux object does not validate strictly against its CRD schema "
             "(from --crd-schemas), or no schema exists for its API version.",
             "apiVersion: helm.toolkit.fluxcd.io/v2beta2  # removed in Flux 2.8"),
        Code("AKM512", E, "generated Cilium values violate the chart's schema",
             "A rendered values.yaml does not validate against the Cilium chart's "
             "values.schema.json (from --cilium-values-schema).",
             'hubble:\n  relay:\n    enabled: "yes"  # the chart expects a boolean'),
        Code("AKM514", E, "generated Cilium values disagree with the plan",
             "A cluster's values.yaml does not carry its planned name, id, pod range, "
             "ClusterMesh IP or exactly its planned mesh peers.",
             "clustermesh:\n  config:\n    clusters:\n      we: ...  # the cluster itself, or a peer at the wrong IP"),
        Code("AKM515", E, "secret in clear in the output",
             "A rendered file holds a private key or an unencrypted Secret value.",
             "a PEM private key block, or a Secret with stringData in clear, in a rendered file"),
        Code("AKM520", E, "a Kustomization's objects do not apply in order",
             "Applied as kustomize-controller does (staged server-side apply: Namespaces "
             "and CRDs first, every object dry-run before any is applied, dependsOn "
             "honoured), an object is refused: its namespace does not exist, its kind is "
             "not served yet, or an encrypted Secret is not decrypted. One refusal fails "
             "the whole Kustomization.",
             "kind: Service\nmetadata:\n  namespace: rebel-base  # no Namespace rebel-base "
             "on this cluster"),
        Code("AKM521", E, "a rendered Namespace is not left to its owners",
             "A Namespace aksmesh renders for the mesh's objects must carry "
             "`kustomize.toolkit.fluxcd.io/ssa: IfNotPresent` and "
             "`kustomize.toolkit.fluxcd.io/prune: disabled`, so Flux never takes over or "
             "deletes an app team's namespace.",
             "kind: Namespace\nmetadata:\n  name: rebel-base  # no annotations"),
        Code("AKM522", E, "a rendered core object the API server refuses",
             "Validated as the Kubernetes API server does (k8s_validation, from "
             "pkg/apis/core/validation): names, port names and numbers, unique ports, "
             "label and annotation keys and values. A JSON schema checks none of these.",
             "kind: Service\nspec:\n  ports:\n    - {port: 80}\n    - {port: 80}"),
        Code("AKM523", E, "a rendered file that flux bootstrap owns",
             "gotk-components.yaml and gotk-sync.yaml are written by `flux bootstrap` on "
             "every run; aksmesh must never render them.",
             "clusters/ne/flux-system/gotk-sync.yaml  # in the rendered tree"),
        Code("AKM540", E, "rendered policies disagree with the declared flows",
             "The reachability model (Cilium's policy semantics applied to the rendered "
             "objects) found pods of one cluster admitted into another where no flow "
             "declares it, or refused where one does.",
             "ingressDeny:\n  - fromEndpoints:\n      - matchLabels: {io.cilium.k8s.policy.cluster: ne}  # denies a declared flow"),
        Code("AKM541", E, "rendered policies change traffic segmentation leaves alone",
             "The reachability model found that aksmesh's policies change what a pod admits "
             "from its own cluster, from nodes or from outside the mesh, or widen what a "
             "user's own policy admits.",
             "ingress:\n  - fromEntities: [cluster, world]  # an allow widens every user policy"),
        Code("AKM542", E, "rendered global service load-balances other than declared",
             "The reachability model found a cluster whose global Service sends clients to "
             "clusters other than the service's backends, or in another order than its "
             "affinity says.",
             "spec:\n  selector: {name: rebel-base}  # in a cluster outside backends"),
        Code("AKM543", E, "rendered mesh object outside the reachability model",
             "A rendered policy or Service uses a field the reachability model does not "
             "evaluate, so aksmesh cannot prove what it does.",
             "spec:\n  ingress:\n    - toPorts: [...]  # not modelled"),
        Code("AKM560", E, "a HelmRelease does not merge the values verify checked",
             "Each cluster's Cilium values are the shared infrastructure/cilium-mesh "
             "values, then the cluster's own: its HelmRelease must take valuesFrom the "
             "cilium-mesh-values and cilium-values ConfigMaps, whole and in that order, and "
             "its cilium kustomization must list the shared directory.",
             "valuesFrom:\n  - kind: ConfigMap\n    name: cilium-values  # cilium-mesh-values "
             "missing"),
        # 6xx: inputs besides the topology
        Code("AKM601", W, "no shared Cilium CA",
             "Without the CA file that `aksmesh ca init` creates, every cluster generates "
             "its own CA and the clusters cannot authenticate each other. render still "
             "writes everything else.",
             "aksmesh render topologies/mesh.yaml  # no topologies/mesh/cilium-ca.sops.yaml"),
        Code("AKM602", E, "CA file not usable",
             "The CA file beside the topology must be the sops-encrypted Secret in "
             "flux-system that `aksmesh ca init` writes; aksmesh never copies a CA in clear.",
             "topologies/mesh/cilium-ca.sops.yaml  # a Secret in clear"),
        Code("AKM610", W, "the shared CA must be rotated soon",
             "Cilium's certgen refuses to issue a certificate that would outlive the CA "
             "(certgen.enforceCAValidityThroughoutLeavesDuration): from the CA's expiry "
             "minus the 365-day leaf validity on, no mesh or Hubble certificate is renewed "
             "and the mesh stops when the last ones expire. `check` and `render` warn 180 "
             "days before that date.",
             "aksmesh check topologies/mesh.yaml  # a CA that expires in 500 days"),
        Code("AKM611", E, "the shared CA can no longer renew the mesh's certificates",
             "certgen already refuses to issue leaves from this CA (it expires within "
             "their 365 days), or the CA is valid for less than one leaf's lifetime.",
             "aksmesh check topologies/mesh.yaml  # a CA that expires in 300 days"),
        Code("AKM612", W, "the shared CA's expiry cannot be read",
             "The CA file does not carry the CA certificate in clear (an older aksmesh "
             "wrote it), so its lifetime cannot be checked without the age key.",
             "topologies/mesh/cilium-ca.sops.yaml  # no aksmesh.io/ca-certificate annotation"),
        Code("AKM603", E, "schema or type data not usable",
             "A file given with --bicep-types, --crd-schemas or --cilium-values-schema is "
             "not JSON, a schema is not a draft 7 JSON Schema, or a types.json is not what "
             "Azure/bicep-types-az writes (a list of types whose `$ref`s point inside it). "
             "The check it was for cannot run, so nothing is written.",
             '[{"$type": "ResourceType", "name": ...  # a types.json cut short'),
        Code("AKM604", E, "shipped verification data damaged",
             "A file of the verification data inside the aksmesh package cannot be read or "
             "is not what scripts/derive_data.py writes: the installation is damaged. The "
             "check it was for cannot run, so nothing is written.",
             "generator/data/cilium/values.schema.json  # truncated by a failed copy"),
        # 7xx: changes to a running mesh (against the committed .aksmesh-state.json)
        Code("AKM701", E, "cluster id changed",
             "A running cluster's Cilium id is part of every security identity of its "
             "endpoints: changing it breaks policies and connections across the mesh. "
             "Disruptive: refused until acknowledged with --allow-disruptive.",
             "clusters:\n  - name: we\n    id: 5  # the committed tree says 2"),
        Code("AKM702", E, "cluster renamed",
             "The name of a cluster names its Azure resources and its Flux tree: a rename "
             "creates a new stack and orphans the running cluster. Disruptive.",
             "clusters:\n  - name: west  # was `we`, same id"),
        Code("AKM703", E, "cluster address changed",
             "The VNet, node subnet, pod or service range, DNS service IP or ClusterMesh IP "
             "of a running cluster cannot change in place. Disruptive.",
             "clusters:\n  - name: we\n    podCidr: 10.121.0.0/16  # was 10.120.0.0/16"),
        Code("AKM704", E, "maxConnectedClusters changed",
             "clustermesh.maxConnectedClusters sets the identity bits of every cluster: "
             "changing it means reinstalling Cilium everywhere. Disruptive.",
             "cilium:\n  maxConnectedClusters: 511  # was 255"),
        Code("AKM705", E, "encryption mode changed",
             "Switching WireGuard on or off restarts Cilium everywhere; clusters in "
             "different modes cannot talk meanwhile. Disruptive.",
             "cilium:\n  encryption: none  # was wireguard"),
        Code("AKM706", E, "shared CA replaced",
             "A new CA makes every cluster re-issue its mesh certificates; clusters on "
             "different CAs cannot authenticate each other until all have. Disruptive.",
             "aksmesh ca init topologies/mesh.yaml --force ...  # then render"),
        Code("AKM707", E, "cluster removed",
             "The cluster leaves the mesh, but Azure keeps its resources (incremental "
             "deployment) and it keeps running without its Flux tree. Disruptive: render "
             "writes REMOVED.md with the cleanup, once acknowledged.",
             "clusters:  # `fc` no longer listed"),
        Code("AKM708", E, "deployment location changed",
             "The subscription deployment lives in the first Azure cluster's region; ARM "
             "refuses the same deployment name in another location. Disruptive.",
             "clusters:  # the first cluster, ne (northeurope), removed or moved down"),
        Code("AKM709", E, "Kubernetes downgrade or skipped minor",
             "AKS neither downgrades a cluster nor skips a minor version when it "
             "upgrades. Refused: no acknowledgement makes it work.",
             'kubernetesVersion: "1.35"  # the committed tree says 1.37'),
        Code("AKM710", E, "Cilium downgrade or skipped minor",
             "Cilium upgrades one minor release at a time and does not downgrade a running "
             "release (Cilium upgrade guide). Refused.",
             'cilium:\n  version: "1.19.0"  # the committed tree says 1.20.0'),
        Code("AKM711", E, "state record not readable",
             "The tree's .aksmesh-state.json, which records the running mesh, is not what "
             "aksmesh writes: without it changes cannot be classified.",
             "out/mesh/.aksmesh-state.json  # edited by hand, or cut short"),
        Code("AKM712", W, "acknowledgement matches no change",
             "--allow-disruptive names a code or key that no disruptive change of this "
             "run has: it is probably misspelled.",
             "aksmesh render --allow-disruptive clusters.we.idd topologies/mesh.yaml"),
        Code("AKM713", E, "cluster moved to another region",
             "Azure does not move a resource group, VNet or AKS cluster between regions: "
             "the deployment fails, or the cluster would be a new one. Disruptive.",
             "clusters:\n  - name: we\n    region: swedencentral  # was westeurope"),
        Code("AKM720", E, "unknown cluster in a rollout wave",
             "A rollout wave names a cluster the topology does not define.",
             "rollout:\n  waves:\n    - {name: canary, clusters: [wee]}"),
        Code("AKM721", E, "cluster in no wave or in several",
             "With rollout waves, every cluster is in exactly one wave: a Fleet update run "
             "upgrades only the members of its stages' groups.",
             "rollout:\n  waves:\n    - {name: canary, clusters: [ne]}  # we, fc in no wave"),
        Code("AKM722", E, "Cilium versions too far apart across waves",
             "Clusters of one mesh may differ by at most one Cilium minor version while an "
             "upgrade rolls out (Cilium's upgrade guide).",
             'rollout:\n  waves:\n    - {name: canary, clusters: [ne], cilium: {version: "1.22.0"}}'),
        Code("AKM723", E, "duplicate wave name",
             "Each wave becomes a Fleet update group and stage: names are unique.",
             "rollout:\n  waves:\n    - {name: canary, ...}\n    - {name: canary, ...}"),
        Code("AKM724", E, "auto-upgrade channel conflicts with rollout waves",
             "aks.upgradeChannel `stable` or `rapid` makes AKS upgrade minor versions by "
             "itself, outside the waves' Fleet update runs and behind the Bicep's "
             "kubernetesVersion.",
             "aks:\n  upgradeChannel: stable\nrollout:\n  waves: [...]"),
        Code("AKM730", E, "extra Cilium value conflicts with aksmesh's",
             "A cluster's ciliumValues may add Helm values, never set one that aksmesh sets "
             "from the topology (the cluster's name and id, IPAM, the mesh, encryption, "
             "Hubble, ...): that would silently undo the plan.",
             "clusters:\n  - name: ne\n    ciliumValues:\n      cluster:\n        id: 9  # aksmesh sets cluster.id"),
        # 9xx: the output tree
        Code("AKM901", E, "output tree out of date",
             "`aksmesh check` found a file that differs from what `aksmesh render` writes, "
             "one it would create, or one it would remove.",
             "aksmesh check topologies/mesh.yaml  # out/mesh/README.md was edited by hand"),
        Code("AKM902", E, "output path is not a tree aksmesh wrote",
             "OUT/<name> is a file, a symlink, or a directory that is not empty and has no "
             ".aksmesh-files record. aksmesh replaces only trees it wrote; it moves nothing.",
             "aksmesh render topologies/mesh.yaml  # out/mesh is a symlink to ../common"),
        Code("AKM903", E, "output tree cannot be replaced",
             "The directory that holds OUT/<name>, or a directory inside the tree, is not "
             "writable: the swap, or the removal of the old tree after it, would fail "
             "half-way. Nothing is moved.",
             "chmod -R a-w out/mesh && aksmesh render topologies/mesh.yaml"),
        Code("AKM904", E, "another render is writing the tree",
             "Renders of one tree take turns on the lock file OUT/.<name>.aksmesh-lock; "
             "this one waited for the other longer than aksmesh's limit and gave up.",
             "aksmesh render topologies/mesh.yaml & aksmesh render topologies/mesh.yaml"),
        Code("AKM905", E, "a user's entry is in the way",
             "A file or symlink aksmesh does not own stands where it writes a directory, or "
             "a directory where it writes a file. aksmesh never writes through a user's "
             "symlink, and never removes what it does not own.",
             "ln -s ../common out/mesh/bicep  # aksmesh writes bicep/main.bicep"),
    ]
)


def diagnostic(code: str, file: str, line: int, col: int, message: str, hint: str = "",
               path: tuple[str | int, ...] = ()) -> Diagnostic:
    return Diagnostic(file=file, line=line, col=col, code=code, message=message, hint=hint,
                      severity=CODES[code].severity, path=path)


def did_you_mean(word: str, candidates: list[str]) -> str:
    """A hint naming the candidate `word` was probably meant as: same letters in another
    case first, else the closest spelling; empty when nothing is close."""
    import difflib  # only a run with findings needs it

    by_case = {c.lower(): c for c in candidates}
    match = by_case.get(word.lower()) or next(
        iter(difflib.get_close_matches(word, candidates, n=1, cutoff=0.6)), None)
    return f"did you mean `{match}`?" if match else ""


def dotted(path: Iterable[object], root: str = "") -> str:
    """A path as a message names it: `clusters[0].name`, `properties.subnets[1]`; `root`
    names the empty path."""
    text = ""
    for step in path:
        text += f"[{step}]" if isinstance(step, int) else f".{step}" if text else str(step)
    return text or root


def has_errors(diagnostics: Iterable[Diagnostic]) -> bool:
    return any(d.severity is Severity.ERROR for d in diagnostics)


def strict(diagnostics: Iterable[Diagnostic]) -> list[Diagnostic]:
    """--strict: every warning becomes an error."""
    return [d.as_error() for d in diagnostics]
