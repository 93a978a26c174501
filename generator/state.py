"""The state record: what the committed tree says about the running mesh.

render writes `.aksmesh-state.json` into every tree (through the write stage, so it is an
owned file like the others): the facts of the mesh that a running cluster cannot change
without harm, and the clusters the tree no longer has. Before anything is written, the
plan of the new topology is compared with the committed record (`state_changes.py`, apart
because it is the day-2 policy, where this module is only the record's shape).

Pure: the record comes in as data (load reads it) and goes out as text (write writes it).
"""

from __future__ import annotations

import base64
import hashlib
import json
import re
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .ca import SharedCa
    from .plan_records import Cluster, Plan

STATE_FILE = ".aksmesh-state.json"
FORMAT_VERSION = 1

_ENCRYPTED_VALUE = re.compile(r"ENC\[[A-Za-z0-9_]+,data:[^\]]*\]")


def ca_digest(ca: SharedCa | None) -> str | None:
    """An identity of the shared CA that needs no key to compute: the SHA-256 fingerprint of
    its certificate, which the CA file keeps in clear (ca.CERTIFICATE_ANNOTATION), so that
    re-encrypting the same CA to other recipients (`ca add-recipient`) keeps it and a new CA
    (`ca init --force`) changes it. A CA file from before aksmesh kept the certificate: a
    digest of the encrypted values, which `sops updatekeys` keeps too."""
    if ca is None:
        return None
    if ca.certificate_pem is not None:
        body = "".join(line for line in ca.certificate_pem.splitlines()
                       if line and not line.startswith("-----"))
        return "sha256:" + hashlib.sha256(base64.b64decode(body)).hexdigest()
    values = _ENCRYPTED_VALUE.findall(ca.text)
    return "sha256:" + hashlib.sha256("\n".join(values).encode()).hexdigest()


def record(plan: Plan, ca: SharedCa | None, removed: tuple[dict[str, Any], ...] = ()
           ) -> dict[str, Any]:
    """The state of the mesh as this tree deploys it, and the clusters it no longer has,
    whose cleanup (REMOVED.md) stays in the tree."""
    return {
        "removedClusters": list(removed),
        "formatVersion": FORMAT_VERSION,
        "topology": plan.name,
        "kubernetesVersion": plan.kubernetes_version,
        "maxConnectedClusters": plan.max_connected_clusters,
        "encryption": plan.encryption,
        "ca": ca_digest(ca),
        "deploymentLocation": plan.deployment_location,
        "aks": aks_record(plan),
        "clusters": [_cluster_record(c) for c in plan.clusters],
        "globalServices": sorted(f"{s.namespace}/{s.name}" for s in plan.global_services),
        "flows": sorted(flow_text(f) for f in plan.segmentation or ()),
    }


def _cluster_record(c: Cluster) -> dict[str, Any]:
    return {
        "name": c.name,
        "id": c.id,
        "managed": c.managed,
        "region": c.region,
        "encryption": c.encryption,
        "vnetCidr": str(c.vnet_cidr),
        "nodeSubnetCidr": str(c.node_subnet_cidr),
        "podCidr": str(c.pod_cidr),
        "serviceCidr": str(c.service_cidr),
        "dnsServiceIP": str(c.dns_service_ip),
        "clustermeshIP": str(c.clustermesh_ip),
        "ciliumVersion": c.cilium_version,
        "resourceGroup": c.resource_group,
        "aksName": c.aks_name,
        "vnetName": c.vnet_name,
        "systemPool": pool_record(c),
    }


# The system pool as the record spells it: record key -> SystemPool attribute (and zones,
# from the cluster: decided per region).
POOL_ATTRIBUTES = {"count": "count", "osSku": "os_sku", "vmSize": "vm_size",
                   "maxPods": "max_pods", "osDiskType": "os_disk_type"}


def pool_record(c: Cluster) -> dict[str, Any] | None:
    """The system pool of a managed cluster, as it runs; None for a hybrid member."""
    if not c.managed or c.system_pool is None:
        return None
    pool = {key: getattr(c.system_pool, attribute) for key, attribute in POOL_ATTRIBUTES.items()}
    return pool | {"zones": list(c.zones)}


def aks_record(plan: Plan) -> dict[str, Any]:
    """The cluster settings AKS takes only when it creates a cluster or a pool."""
    return {"encryptionAtHost": plan.aks.encryption_at_host,
            "privateCluster": plan.aks.private_cluster,
            "entraIntegration": plan.aks.entra_integration}


def flow_text(flow: Any) -> str:
    """A segmentation flow as the record spells it: `we/* -> ne/shop`."""
    def side(e: Any) -> str:
        return f"{e.cluster}/{e.namespace or '*'}"
    return f"{side(flow.source)} -> {side(flow.destination)}"


def removed_clusters(previous: dict[str, Any], plan: Plan) -> tuple[dict[str, Any], ...]:
    """The clusters the record had, or had removed, that the plan does not have: by name.
    A renamed cluster counts as removed too: its old stack stays in Azure."""
    names = {c.name for c in plan.clusters}
    gone = {c["name"]: c for c in previous.get("removedClusters", ()) if isinstance(c, dict)}
    gone |= {c["name"]: c for c in previous["clusters"]}
    return tuple(gone[n] for n in sorted(gone) if n not in names)


def dump(state: dict[str, Any]) -> str:
    return json.dumps(state, indent=2, sort_keys=True) + "\n"


def readable(state: Any) -> bool:
    """Whether a loaded record has the shape this version of aksmesh writes."""
    return (isinstance(state, dict) and state.get("formatVersion") == FORMAT_VERSION
            and isinstance(state.get("clusters"), list)
            and all(isinstance(c, dict) and {"name", "id"} <= c.keys()
                    for c in state["clusters"]))

