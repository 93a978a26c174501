"""generator/templates/flux/flux-system-patches/kustomization.yaml: Flux controllers that run before any CNI exists.

The test imitates clusters/<cluster>/flux-system/ as `flux bootstrap` v2.9.4 leaves it, step
by step (tests/bootstrap_model.py cites the sources): our kustomization.yaml and the empty
gotk-components.yaml and gotk-sync.yaml the README has the user commit; then bootstrap's
ReconcileComponents writes gotk-components.yaml (the Flux v2.9.4 install manifests, from
tests/reference/flux/install-v2.9.4) and applies the directory, while gotk-sync.yaml is still empty; then
ReconcileSyncConfig writes gotk-sync.yaml and applies it again. Both states are built with
the real `kubectl kustomize`; the final one is checked: every controller on the host network with node DNS, schedulable on not-ready
nodes, on its own host ports, fetching artifacts and posting events through localhost, and
tied to the node of source-controller. Nothing is mocked; nothing here has run on a cluster.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import time
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
from ruamel.yaml import YAML

from conftest import PROJECT, REFERENCE, bootstrap_sync

OURS = PROJECT / "generator" / "templates" / "flux" / "flux-system-patches" / "kustomization.yaml"
# clusters/<cluster>/flux-system/kustomization.yaml: the install plus OURS as a Component,
# from a parent directory (static: the template places no value).
PER_CLUSTER = PROJECT / "generator" / "templates" / "flux" / "flux-system" / "kustomization.yaml.j2"
INSTALL = REFERENCE / "flux" / "install-v2.9.4"

KUBECTL = shutil.which("kubectl")
pytestmark = pytest.mark.skipif(
    KUBECTL is None, reason="kubectl not found on PATH: `kubectl kustomize` builds the flux-system directory")

CONTROLLERS = ("source-controller", "kustomize-controller", "helm-controller", "notification-controller")
CONSUMERS = ("kustomize-controller", "helm-controller")  # download artifacts from source-controller
FOLLOWERS = ("kustomize-controller", "helm-controller", "notification-controller")

# The addresses each binary binds, by flag; every one has a default in the controller's
# source (metrics :8080, health :9440, storage :9090, events :9090, receiver :9292), so on
# the host network each must be set explicitly or two controllers would bind the same port.
LISTEN_FLAGS = {
    "source-controller": {"--storage-addr", "--metrics-addr", "--health-addr"},
    "kustomize-controller": {"--metrics-addr", "--health-addr"},
    "helm-controller": {"--metrics-addr", "--health-addr"},
    "notification-controller": {"--events-addr", "--receiverAddr", "--metrics-addr", "--health-addr"},
}
UPSTREAM_DEFAULT_PORTS = {8080, 9090, 9292, 9440}
# Host ports already taken on a node: kubelet 10248/10250, kube-proxy 10249/10256,
# cilium-agent 4240 (health), 4244 (Hubble), 9879 (health API), 9890 (gops), 9962
# (metrics), cilium-operator 9234, 9891, 9963, cilium-envoy 9964, Hubble metrics 9965.
NODE_PORTS = {4240, 4244, 9234, 9879, 9890, 9891, 9962, 9963, 9964, 9965, 10248, 10249, 10250, 10256}

TOLERATED_TAINTS = ("node.kubernetes.io/not-ready", "node.kubernetes.io/unreachable",
                    "node.kubernetes.io/network-unavailable", "CriticalAddonsOnly",
                    # cilium-operator (set-cilium-node-taints, the chart's default) taints
                    # nodes whose agent is not running: Flux must run to repair Cilium.
                    "node.cilium.io/agent-not-ready")
# Listeners that must answer on loopback only: host-network pods are outside every
# NetworkPolicy, and these serve the fleet repository's artifacts and accept events.
LOOPBACK_ONLY = {"source-controller": "--storage-addr", "notification-controller": "--events-addr"}
LOOPBACK = "127.0.0.1"

CLUSTER_SCOPED = {"Namespace", "CustomResourceDefinition", "ClusterRole", "ClusterRoleBinding"}
NAMESPACED = {"ServiceAccount", "Service", "Deployment", "NetworkPolicy", "ResourceQuota",
              "GitRepository", "Kustomization"}

GOTK_SYNC = bootstrap_sync("clusters/ne")

_yaml = YAML(typ="safe")


# --------------------------------------------------------------------------- helpers


def load_all(text: str) -> list[dict[str, Any]]:
    return [doc for doc in _yaml.load_all(text) if doc]


def identity(obj: dict[str, Any]) -> tuple[str, str, str, str]:
    meta = obj["metadata"]
    return obj["apiVersion"], obj["kind"], meta.get("namespace", ""), meta["name"]


def flux_system_dir(tree: Path, components: str, sync: str = GOTK_SYNC) -> Path:
    """clusters/ne/flux-system/ inside `tree` as `flux bootstrap` leaves it, with our
    kustomization.yaml, and the shared patches where the tree keeps them (`sync=""`: as the
    README's empty file stands before ReconcileSyncConfig writes it)."""
    directory = tree / "clusters" / "ne" / "flux-system"
    directory.mkdir(parents=True)
    (directory / "gotk-components.yaml").write_text(components, encoding="utf-8")
    (directory / "gotk-sync.yaml").write_text(sync, encoding="utf-8")
    shutil.copyfile(PER_CLUSTER, directory / "kustomization.yaml")
    patches = tree / "infrastructure" / "flux-system-patches"
    patches.mkdir(parents=True)
    shutil.copyfile(OURS, patches / "kustomization.yaml")
    return directory


def kustomize(directory: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([KUBECTL, "kustomize", str(directory)], capture_output=True, text=True, timeout=120)


def reference_components() -> list[dict[str, Any]]:
    """The install documents in the order and namespace of the reference kustomization.yaml."""
    config = _yaml.load((INSTALL / "kustomization.yaml").read_text(encoding="utf-8"))
    namespace = config["namespace"]
    docs: list[dict[str, Any]] = []
    for resource in config["resources"]:
        for doc in load_all((INSTALL / resource).read_text(encoding="utf-8")):
            kind = doc["kind"]
            assert kind in CLUSTER_SCOPED | NAMESPACED, f"unknown scope for {kind} in {resource}"
            if kind not in CLUSTER_SCOPED:
                doc["metadata"]["namespace"] = namespace
            docs.append(doc)
    return docs


def container(deployment: dict[str, Any]) -> dict[str, Any]:
    containers = deployment["spec"]["template"]["spec"]["containers"]
    assert len(containers) == 1, deployment["metadata"]["name"]
    return containers[0]


def addr_flags(deployment: dict[str, Any]) -> dict[str, str]:
    """Every `--…-addr` / `--…Addr` flag of the container, each given at most once."""
    found: dict[str, str] = {}
    for arg in container(deployment).get("args", []):
        name, _, value = arg.partition("=")
        if name.lower().endswith("addr"):
            assert name not in found, f"{deployment['metadata']['name']}: {name} given twice"
            found[name] = value
    return found


def listen_port(value: str) -> int:
    host, _, port = value.rpartition(":")
    assert "://" not in value and port.isdigit(), f"not a listen address: {value!r}"
    return int(port)


def listen_ports(deployment: dict[str, Any]) -> dict[str, int]:
    """Listen addresses only: not event URLs (clients) nor the advertised storage host."""
    return {flag: listen_port(value) for flag, value in addr_flags(deployment).items()
            if "://" not in value and flag != "--storage-adv-addr"}


def port_number(deployment: dict[str, Any], ref: int | str) -> int:
    """Resolve a probe or Service port reference (number or port name) on the container."""
    if isinstance(ref, int):
        return ref
    by_name = {p["name"]: p["containerPort"] for p in container(deployment).get("ports", [])}
    assert ref in by_name, f"{deployment['metadata']['name']}: no container port named {ref!r}"
    return by_name[ref]


def selects(selector: dict[str, Any], labels: dict[str, str]) -> bool:
    for key, value in selector.get("matchLabels", {}).items():
        if labels.get(key) != value:
            return False
    for expr in selector.get("matchExpressions", []):
        key, op, values = expr["key"], expr["operator"], expr.get("values", [])
        if op == "In" and labels.get(key) not in values:
            return False
        if op == "NotIn" and labels.get(key) in values:
            return False
        if op == "Exists" and key not in labels:
            return False
        if op == "DoesNotExist" and key in labels:
            return False
    return True


# --------------------------------------------------------------------------- fixtures


@pytest.fixture(scope="module")
def reference() -> list[dict[str, Any]]:
    return reference_components()


@pytest.fixture(scope="module")
def bootstrap_dir(tmp_path_factory, reference) -> Path:
    """clusters/<cluster>/flux-system/ as `flux bootstrap` leaves it, with our kustomization.yaml,
    built at the first apply of bootstrap (gotk-sync.yaml still the README's empty file)."""
    # ReconcileComponents. JSON documents are YAML; the content is what matters to kustomize.
    directory = flux_system_dir(tmp_path_factory.mktemp("tree"), "".join(
        "---\n" + json.dumps(doc, indent=1) + "\n" for doc in reference), sync="")
    first = kustomize(directory)
    assert first.returncode == 0, f"the first apply of bootstrap fails:\n{first.stderr}"
    assert {identity(o) for o in load_all(first.stdout)} == {identity(o) for o in reference}
    # ReconcileSyncConfig.
    (directory / "gotk-sync.yaml").write_text(GOTK_SYNC, encoding="utf-8")
    return directory


def test_the_first_apply_fails_without_the_empty_gotk_sync(tmp_path, reference):
    """What the README's step prevents: ReconcileComponents applies this kustomization
    before ReconcileSyncConfig has written gotk-sync.yaml (flux2 v2.9.4 bootstrap.go Run)."""
    directory = flux_system_dir(tmp_path, "".join(
        "---\n" + json.dumps(doc) + "\n" for doc in reference))
    (directory / "gotk-sync.yaml").unlink()  # not written yet at the first apply
    result = kustomize(directory)
    assert result.returncode != 0 and "gotk-sync.yaml" in result.stderr


@pytest.fixture(scope="module")
def build(bootstrap_dir) -> dict[str, Any]:
    start = time.perf_counter()
    result = kustomize(bootstrap_dir)
    seconds = time.perf_counter() - start
    assert result.returncode == 0, result.stderr
    return {"objects": load_all(result.stdout), "seconds": seconds}


@pytest.fixture(scope="module")
def built(build) -> list[dict[str, Any]]:
    return build["objects"]


@pytest.fixture(scope="module")
def deployments(built) -> dict[str, dict[str, Any]]:
    return {obj["metadata"]["name"]: obj for obj in built if obj["kind"] == "Deployment"}


@pytest.fixture(scope="module")
def reference_deployments(reference) -> dict[str, dict[str, Any]]:
    return {obj["metadata"]["name"]: obj for obj in reference if obj["kind"] == "Deployment"}


# --------------------------------------------------------------------------- the imitation


def test_gotk_components_is_the_reference_install(reference):
    """Our gotk-components.yaml holds what `kubectl kustomize` of the reference directory prints."""
    result = kustomize(INSTALL)
    assert result.returncode == 0, result.stderr
    expected = sorted(load_all(result.stdout), key=identity)
    assert sorted(reference, key=identity) == expected


# --------------------------------------------------------------------------- nothing lost


def test_build_holds_exactly_the_install_plus_gotk_sync(built, reference, build, record_property):
    record_property("kubectl_kustomize_seconds", round(build["seconds"], 3))
    ids = [identity(obj) for obj in built]
    assert len(ids) == len(set(ids)), "a patch duplicated an object"
    sync = {identity(obj) for obj in load_all(GOTK_SYNC)}
    assert set(ids) == {identity(obj) for obj in reference} | sync


def test_only_the_controller_deployments_change(built, reference):
    before = {identity(obj): obj for obj in reference}
    changed = {identity(obj)[3] for obj in built if identity(obj) in before and obj != before[identity(obj)]}
    assert changed == set(CONTROLLERS)


def test_the_reference_deploys_exactly_four_controllers(deployments, reference_deployments):
    assert set(reference_deployments) == set(CONTROLLERS)
    assert set(deployments) == set(CONTROLLERS)


# --------------------------------------------------------------------------- no CNI needed


@pytest.mark.parametrize("name", CONTROLLERS)
def test_host_network_and_node_dns(deployments, name):
    spec = deployments[name]["spec"]["template"]["spec"]
    assert spec["hostNetwork"] is True
    # Default = the node's resolv.conf; ClusterFirstWithHostNet would need CoreDNS, which
    # cannot run before the CNI.
    assert spec["dnsPolicy"] == "Default"


@pytest.mark.parametrize("name", CONTROLLERS)
def test_tolerates_nodes_without_network(deployments, name):
    tolerations = deployments[name]["spec"]["template"]["spec"]["tolerations"]
    by_key = {t["key"]: t for t in tolerations}
    for key in TOLERATED_TAINTS:
        assert key in by_key, f"{name}: no toleration for {key}"
        assert by_key[key]["operator"] == "Exists"
    # Nodes stay NotReady until Flux has installed Cilium: every effect of not-ready is
    # tolerated and NoExecute never evicts.
    not_ready = by_key["node.kubernetes.io/not-ready"]
    assert "effect" not in not_ready and "tolerationSeconds" not in not_ready
    assert by_key["node.kubernetes.io/unreachable"]["effect"] == "NoExecute"


# --------------------------------------------------------------------------- host ports


@pytest.mark.parametrize("name", CONTROLLERS)
def test_every_listen_address_is_explicit(deployments, name):
    assert set(listen_ports(deployments[name])) == LISTEN_FLAGS[name]


def test_no_two_controllers_share_a_port(deployments):
    owner: dict[int, str] = {}
    for name in CONTROLLERS:
        for flag, port in listen_ports(deployments[name]).items():
            assert port not in owner, f"{name} {flag} takes port {port} of {owner.get(port)}"
            owner[port] = f"{name} {flag}"
    assert len(owner) == sum(len(flags) for flags in LISTEN_FLAGS.values())


def test_ports_avoid_upstream_defaults_and_node_daemons(deployments):
    used = {port for name in CONTROLLERS for port in listen_ports(deployments[name]).values()}
    assert not used & UPSTREAM_DEFAULT_PORTS
    assert not used & NODE_PORTS


@pytest.mark.parametrize("name", CONTROLLERS)
def test_container_ports_are_the_listen_ports(deployments, reference_deployments, name):
    ports = container(deployments[name])["ports"]
    assert sorted(p["containerPort"] for p in ports) == sorted(listen_ports(deployments[name]).values())
    # On the host network a container port is a host port: any hostPort must equal it.
    assert all(p.get("hostPort", p["containerPort"]) == p["containerPort"] for p in ports)
    # Names unchanged, so probes and Services that refer to them by name follow.
    assert [p["name"] for p in ports] == [p["name"] for p in container(reference_deployments[name])["ports"]]


@pytest.mark.parametrize("name", CONTROLLERS)
def test_probes_follow_the_new_ports(deployments, reference_deployments, name):
    deployment = deployments[name]
    ports = listen_ports(deployment)
    live = container(deployment)["livenessProbe"]["httpGet"]["port"]
    ready = container(deployment)["readinessProbe"]["httpGet"]["port"]
    assert port_number(deployment, live) == ports["--health-addr"]
    if name == "source-controller":
        # Upstream probes readiness on the artifact server itself (`http`, path /).
        assert ready == container(reference_deployments[name])["readinessProbe"]["httpGet"]["port"]
        assert port_number(deployment, ready) == ports["--storage-addr"]
    else:
        assert port_number(deployment, ready) == ports["--health-addr"]


@pytest.mark.parametrize("name", CONTROLLERS)
def test_metrics_annotation_names_the_metrics_port(deployments, name):
    annotations = deployments[name]["spec"]["template"]["metadata"]["annotations"]
    assert annotations["prometheus.io/port"] == str(listen_ports(deployments[name])["--metrics-addr"])


def test_services_reach_the_renumbered_ports(built, deployments):
    services = [obj for obj in built if obj["kind"] == "Service"]
    assert {s["metadata"]["name"] for s in services} == {
        "source-controller", "notification-controller", "webhook-receiver"}
    for service in services:
        owners = [d for d in deployments.values()
                  if selects({"matchLabels": service["spec"]["selector"]},
                             d["spec"]["template"]["metadata"]["labels"])]
        assert len(owners) == 1, service["metadata"]["name"]
        bound = set(listen_ports(owners[0]).values())
        for port in service["spec"]["ports"]:
            assert port_number(owners[0], port["targetPort"]) in bound


# --------------------------------------------------------------------------- localhost wiring


def test_events_go_to_notification_controller_on_localhost(deployments, reference_deployments):
    events_port = listen_ports(deployments["notification-controller"])["--events-addr"]
    senders = [name for name in CONTROLLERS if "--events-addr" in addr_flags(reference_deployments[name])
               and "://" in addr_flags(reference_deployments[name])["--events-addr"]]
    assert sorted(senders) == sorted(("source-controller", "kustomize-controller", "helm-controller"))
    for name in senders:
        url = urlsplit(addr_flags(deployments[name])["--events-addr"])
        assert (url.scheme, url.hostname, url.port) == ("http", LOOPBACK, events_port), name


@pytest.mark.parametrize("name", CONSUMERS)
def test_consumers_fetch_artifacts_from_localhost(deployments, name):
    storage = listen_ports(deployments["source-controller"])["--storage-addr"]
    env = {e["name"]: e for e in container(deployments[name])["env"]}
    # host:port, not a URL: the controllers assign it to url.Host of the artifact URL.
    assert env["SOURCE_CONTROLLER_LOCALHOST"] == {"name": "SOURCE_CONTROLLER_LOCALHOST",
                                                  "value": f"{LOOPBACK}:{storage}"}


@pytest.mark.parametrize("name", sorted(LOOPBACK_ONLY))
def test_artifacts_and_events_listen_on_loopback_only(deployments, name):
    value = addr_flags(deployments[name])[LOOPBACK_ONLY[name]]
    assert value.rpartition(":")[0] == LOOPBACK, f"{name} {LOOPBACK_ONLY[name]}={value}"


@pytest.mark.parametrize("name", CONTROLLERS)
def test_probes_of_loopback_listeners_go_to_loopback(deployments, name):
    """The kubelet probes the pod IP (the node's, on the host network) unless `host` says
    otherwise: a probe of a loopback-only listener must name the loopback address."""
    deployment = deployments[name]
    loopback_ports = {listen_port(v) for f, v in addr_flags(deployment).items()
                      if "://" not in v and f != "--storage-adv-addr"
                      and v.rpartition(":")[0] == LOOPBACK}
    for probe in ("livenessProbe", "readinessProbe", "startupProbe"):
        get = container(deployment).get(probe, {}).get("httpGet")
        if get and port_number(deployment, get["port"]) in loopback_ports:
            assert get.get("host") == LOOPBACK, f"{name} {probe}"


def test_advertised_storage_address_is_consistent(built, deployments, reference_deployments):
    source = deployments["source-controller"]
    advertised = addr_flags(source)["--storage-adv-addr"]
    # Kept as upstream: artifact URLs name the Service, never a node-local address.
    assert advertised == addr_flags(reference_deployments["source-controller"])["--storage-adv-addr"]
    assert ":" not in advertised  # no port: artifact URLs use http on port 80
    service_name, namespace_ref = advertised.split(".")[:2]
    assert namespace_ref == "$(RUNTIME_NAMESPACE)"
    assert any(e["name"] == "RUNTIME_NAMESPACE" for e in container(source)["env"])
    service = next(o for o in built if o["kind"] == "Service" and o["metadata"]["name"] == service_name)
    assert selects({"matchLabels": service["spec"]["selector"]}, source["spec"]["template"]["metadata"]["labels"])
    (http,) = [p for p in service["spec"]["ports"] if p["port"] == 80]
    storage = listen_ports(source)["--storage-addr"]
    # Through the Service (once Cilium runs) and through the localhost override, the same
    # listener answers.
    assert port_number(source, http["targetPort"]) == storage
    for name in CONSUMERS:
        env = {e["name"]: e.get("value") for e in container(deployments[name])["env"]}
        assert env["SOURCE_CONTROLLER_LOCALHOST"].rpartition(":")[2] == str(storage)


# --------------------------------------------------------------------------- same node


@pytest.mark.parametrize("name", FOLLOWERS)
def test_followers_must_share_the_node_of_source_controller(deployments, name):
    source_labels = deployments["source-controller"]["spec"]["template"]["metadata"]["labels"]
    own_labels = deployments[name]["spec"]["template"]["metadata"]["labels"]
    terms = deployments[name]["spec"]["template"]["spec"]["affinity"]["podAffinity"][
        "requiredDuringSchedulingIgnoredDuringExecution"]
    assert len(terms) == 1
    (term,) = terms
    assert term["topologyKey"] == "kubernetes.io/hostname"
    assert selects(term["labelSelector"], source_labels)
    assert not selects(term["labelSelector"], own_labels)
    assert "namespaces" not in term and "namespaceSelector" not in term  # own namespace


def test_source_controller_prefers_the_node_of_the_others(deployments):
    terms = deployments["source-controller"]["spec"]["template"]["spec"]["affinity"]["podAffinity"][
        "preferredDuringSchedulingIgnoredDuringExecution"]
    for name in FOLLOWERS:
        labels = deployments[name]["spec"]["template"]["metadata"]["labels"]
        assert any(t["podAffinityTerm"]["topologyKey"] == "kubernetes.io/hostname"
                   and selects(t["podAffinityTerm"]["labelSelector"], labels) for t in terms), name


@pytest.mark.parametrize("name", CONTROLLERS)
def test_rollout_frees_the_host_ports_first(deployments, name):
    """The replacement pod needs the same host ports on the same node as the old one."""
    spec = deployments[name]["spec"]
    assert spec["replicas"] == 1
    strategy = spec.get("strategy", {})
    if strategy.get("type") != "Recreate":
        assert strategy["type"] == "RollingUpdate"
        assert str(strategy["rollingUpdate"]["maxSurge"]) in ("0", "0%")


# --------------------------------------------------------------------------- guards


def test_json_patches_refuse_a_changed_upstream(tmp_path, reference):
    """The `test` ops stop the build when the entry a patch would replace is not the expected one."""
    changed = json.loads(json.dumps(reference))
    kustomize_controller = next(d for d in changed
                                if d["kind"] == "Deployment" and d["metadata"]["name"] == "kustomize-controller")
    args = container(kustomize_controller)["args"]
    args.insert(0, args.pop())  # reorder: args/0 is no longer --events-addr
    result = kustomize(flux_system_dir(tmp_path, "".join(
        "---\n" + json.dumps(doc) + "\n" for doc in changed)))
    assert result.returncode != 0
    assert "test failed" in result.stderr
