"""The verify stage catches what a broken template or table would render (AKM5xx).

Each test takes the real rendered tree of the example and breaks one thing in it.
"""

from __future__ import annotations

import copy
import shutil

import pytest
import yaml

from conftest import PROJECT, REFERENCE
from generator import compiler, facts, verify
from generator.example import example_topology
from generator.flux.render import CiliumValues
from generator.inputs import load_shared_ca
from generator.render import Rendered, render
from generator.verify import References

REFERENCES = References(REFERENCE / "bicep-types", (REFERENCE / "flux",),
                        REFERENCE / "cilium" / "values.schema.json")
DEFAULT = PROJECT / "topologies" / "eu-three-regions.yaml"


@pytest.fixture(scope="module")
def compiled():
    plan = compiler.validate(DEFAULT).plan
    return plan, render(plan, load_shared_ca(DEFAULT))


def codes(plan, rendered, references=REFERENCES):
    """Codes found, but the notes on the types the reference data lacks (AKM440), which
    test_a_type_without_data_is_noted_once_not_failed counts (none today)."""
    return [d.code for d in without_type_gaps(verify.verify(plan, rendered, references))]


def without_type_gaps(diagnostics):
    return [d for d in diagnostics if d.code != "AKM440"]


def with_file(rendered, path, text):
    return Rendered({**rendered.files, path: text}, rendered.data)


def test_values_files_are_the_values_verified(tmp_path):
    path = tmp_path / "mesh.yaml"
    path.write_text(example_topology(20))
    plan = compiler.validate(path).plan
    rendered = render(plan, None)
    for cluster in plan.clusters:
        text = rendered.files[f"clusters/{cluster.name}/cilium/values.yaml"]
        assert yaml.safe_load(text) == rendered.data["flux"].clusters[cluster.name]
    assert yaml.safe_load(rendered.files["infrastructure/cilium-mesh/mesh-values.yaml"]) == \
        rendered.data["flux"].shared


def test_the_example_verifies_clean_with_every_schema(compiled):
    assert codes(*compiled) == []
    notes = [d for d in verify.verify(*compiled, REFERENCES) if d.code == "AKM440"]
    # The example has rollout waves, and so a fleet, whose type data is shipped too.
    assert compiled[0].fleet is not None
    assert len(notes) == len(facts.TYPES_WITHOUT_REFERENCE_DATA) == 0


def test_a_type_without_data_is_noted_once_not_failed(compiled, tmp_path, monkeypatch):
    # A synthetic gap: the workspace type's data removed, and declared missing in facts.
    plan, rendered = compiled
    types = tmp_path / "types"
    shutil.copytree(REFERENCE / "bicep-types", types)
    shutil.rmtree(types / "microsoft.operationalinsights")
    references = References(types, REFERENCES.crd_schemas, REFERENCES.cilium_values_schema)
    [error] = verify.verify(plan, rendered, references)  # undeclared: a finding
    assert error.code == "AKM502" and "Microsoft.OperationalInsights/workspaces" in error.message
    monkeypatch.setattr(facts, "TYPES_WITHOUT_REFERENCE_DATA",
                        ("Microsoft.OperationalInsights/workspaces",))
    [note] = verify.verify(plan, rendered, references)  # one per type, though 3 clusters
    assert note.code == "AKM440" and "workspaces@2026-03-01" in note.message
    assert note.file.endswith("bicep/modules/cluster.bicep")


def test_without_schemas_given_the_shipped_data_verifies_everything(compiled):
    plan, rendered = compiled
    assert codes(plan, rendered, References()) == []
    sources = References().resolved(plan)
    assert sources.bicep_types.is_dir() and sources.cilium_values_schema.is_file()
    assert sources.kubernetes_schemas.name == f"v{plan.kubernetes_version}"


def test_an_unknown_field_in_a_helmrelease_is_akm511(compiled):
    plan, rendered = compiled
    path = "clusters/ne/cilium/helmrelease.yaml"
    text = rendered.files[path].replace("  releaseName:", "  releaseNmae: x\n  releaseName:")
    assert codes(plan, with_file(rendered, path, text)) == ["AKM511"]


def test_an_unserved_api_version_is_akm511(compiled):
    plan, rendered = compiled
    path = "clusters/ne/cilium/helmrelease.yaml"
    text = rendered.files[path].replace("helm.toolkit.fluxcd.io/v2", "helm.toolkit.fluxcd.io/v2beta2")
    [diagnostic] = without_type_gaps(verify.verify(plan, with_file(rendered, path, text),
                                                   REFERENCES))
    assert diagnostic.code == "AKM511" and "not a served API" in diagnostic.message


def test_manifests_are_read_as_yaml_1_1_like_kubernetes_reads_them(compiled):
    # `on` is a string in YAML 1.2 but a boolean to Kubernetes' go-yaml, so the schema's
    # string-typed releaseName must refuse it.
    plan, rendered = compiled
    path = "clusters/ne/cilium/helmrelease.yaml"
    text = rendered.files[path]
    assert "  releaseName: cilium\n" in text
    text = text.replace("  releaseName: cilium\n", "  releaseName: on\n")
    assert codes(plan, with_file(rendered, path, text)) == ["AKM511"]


def test_unreadable_yaml_is_akm511_at_its_position(compiled):
    plan, rendered = compiled
    path = "clusters/ne/cilium/helmrelease.yaml"
    [diagnostic] = without_type_gaps(verify.verify(
        plan, with_file(rendered, path, "a: [1\nb: 2\n"), REFERENCES))
    assert (diagnostic.code, diagnostic.line, diagnostic.col) == ("AKM511", 2, 2)
    assert "not valid YAML" in diagnostic.message


def with_values(rendered, values):
    """The tree with other Cilium values behind its values files."""
    return Rendered(rendered.files, {**rendered.data, "flux": values})


def broken_values(rendered, cluster, change):
    """The tree with one cluster's merged values changed: verify checks what Flux merges."""
    flux = rendered.data["flux"]
    values = {name: copy.deepcopy(flux.effective(name)) for name in flux.clusters}
    change(values[cluster])
    return with_values(rendered, CiliumValues(values, {}))


def broken_mesh_values(rendered, change):
    shared = copy.deepcopy(rendered.data["flux"].shared)
    change(shared)
    return with_values(rendered, CiliumValues(rendered.data["flux"].clusters, shared))


def test_a_wrongly_typed_cilium_value_is_akm512(compiled):
    plan, rendered = compiled
    broken = broken_values(rendered, "we", lambda v: v["hubble"]["relay"].update(enabled="yes"))
    assert codes(plan, broken) == ["AKM512"]


@pytest.mark.parametrize("change", [
    lambda v: v["cluster"].update(id=1),
    lambda v: v["ipam"]["operator"].update(clusterPoolIPv4PodCIDRList=["10.0.0.0/8"]),
    lambda v: v["clustermesh"]["config"]["clusters"]["ne"].update(ips=["10.10.3.251"]),
    lambda v: v["clustermesh"]["config"]["clusters"].update(we={"ips": ["10.20.3.250"], "port": 2379}),
    lambda v: v["clustermesh"]["apiserver"]["service"]["annotations"].update(
        {"service.beta.kubernetes.io/azure-load-balancer-ipv4": "10.20.3.251"}),
    lambda v: v["clustermesh"].update(maxConnectedClusters=511),
], ids=["id", "pod-pool", "peer-ip", "peer-itself", "lb-ip", "max-clusters"])
def test_values_that_disagree_with_the_plan_are_akm514(compiled, change):
    plan, rendered = compiled
    assert "AKM514" in codes(plan, broken_values(rendered, "we", change))


@pytest.mark.parametrize("change", [
    lambda v: v["clustermesh"]["config"]["clusters"]["ne"].update(ips=["10.10.3.251"]),
    lambda v: v["clustermesh"]["config"]["clusters"].pop("fc"),
    lambda v: v["clustermesh"].update(maxConnectedClusters=511),
    lambda v: v["encryption"].update(enabled=False),
], ids=["peer-ip", "peer-missing", "max-clusters", "encryption"])
def test_shared_values_that_disagree_with_the_plan_are_akm514(compiled, change):
    plan, rendered = compiled
    found = verify.verify(plan, broken_mesh_values(rendered, change), REFERENCES)
    assert {d.code for d in found} == {"AKM514"}
    assert len({d.file for d in found}) >= 2  # the shared file reaches several clusters


def test_a_cluster_that_does_not_disable_its_own_entry_is_akm514(compiled):
    plan, rendered = compiled
    values = copy.deepcopy(rendered.data["flux"].clusters)
    del values["we"]["clustermesh"]["config"]
    [diagnostic] = verify.verify(
        plan, with_values(rendered, CiliumValues(values, rendered.data["flux"].shared)),
        REFERENCES)
    assert diagnostic.code == "AKM514" and "we/cilium/values.yaml" in diagnostic.file
    assert "['fc', 'ne', 'we']" in diagnostic.message


def test_a_wrongly_typed_shared_value_is_akm512_for_every_cluster(compiled):
    plan, rendered = compiled
    broken = broken_mesh_values(rendered, lambda v: v["hubble"]["relay"].update(enabled="yes"))
    assert codes(plan, broken) == ["AKM512"] * len(plan.clusters)


@pytest.mark.parametrize("old, new", [
    ("      name: cilium-mesh-values\n", "      name: cilium-values-shared\n"),  # !AKM560
    ("""    - kind: ConfigMap
      name: cilium-mesh-values
      valuesKey: values.yaml
    - kind: ConfigMap
      name: cilium-values
      valuesKey: values.yaml
""", """    - kind: ConfigMap
      name: cilium-values
      valuesKey: values.yaml
    - kind: ConfigMap
      name: cilium-mesh-values
      valuesKey: values.yaml
"""),
    ("      name: cilium-values\n      valuesKey: values.yaml\n",
     "      name: cilium-values\n      valuesKey: values.yaml\n      targetPath: cluster\n"),
], ids=["shared-missing", "wrong-order", "target-path"])
def test_a_helmrelease_that_does_not_merge_the_checked_values_is_akm560(compiled, old, new):
    plan, rendered = compiled
    path = "clusters/ne/cilium/helmrelease.yaml"
    assert old in rendered.files[path]
    broken = with_file(rendered, path, rendered.files[path].replace(old, new, 1))
    [diagnostic] = verify.verify(plan, broken, REFERENCES)
    assert (diagnostic.code, diagnostic.file) == ("AKM560", f"{plan.name}/{path}")


def test_a_cilium_kustomization_without_the_shared_values_is_akm560(compiled):
    plan, rendered = compiled
    path = "clusters/we/cilium/kustomization.yaml"
    text = rendered.files[path].replace("  - ../../../infrastructure/cilium-mesh\n", "")
    assert text != rendered.files[path]
    assert codes(plan, with_file(rendered, path, text)) == ["AKM560"]


def test_a_private_key_in_clear_is_akm515(compiled):
    plan, rendered = compiled
    broken = with_file(rendered, "clusters/ne/leak.txt", "x\n-----BEGIN RSA PRIVATE KEY-----\n")
    [diagnostic] = without_type_gaps(verify.verify(plan, broken, REFERENCES))
    assert (diagnostic.code, diagnostic.line) == ("AKM515", 2)


def test_a_secret_in_clear_is_akm515(compiled):
    plan, rendered = compiled
    secret = "apiVersion: v1\nkind: Secret\nmetadata:\n  name: x\nstringData:\n  token: hunter2\n"
    assert codes(plan, with_file(rendered, "cilium-ca/extra.yaml", secret)) == ["AKM515"]


# ---------------------------------------------------------------- unusable schema files


def copy_of(tmp_path, source):
    target = tmp_path / source.name
    shutil.copytree(source, target)
    for path in target.rglob("*"):
        path.chmod(0o755 if path.is_dir() else 0o644)
    return target


NETWORK_TYPES = "microsoft.network/2025-09-01/types.json"
BROKEN_TYPE_DATA = {
    "not JSON": ('[{"$type": ', (1, 12), "not JSON"),
    "not a list": ('{"$type": "ResourceType"}', (1, 1), "not a list of types"),
    "a dangling $ref": ('[{"$type": "ResourceType", "name": "Microsoft.Network/virtualNetworks'
                        '@2025-09-01", "body": {"$ref": "#/9"}}]', (1, 1), "#/9"),
    "a resource without a body": ('[{"$type": "ResourceType", "name": "Microsoft.Network/'
                                  'virtualNetworks@2025-09-01"}]', (1, 1),
                                  'the resource: "body" is a required property'),
    "a property without flags": ('[{"$type": "ResourceType", "name": "Microsoft.Network/'
                                 'virtualNetworks@2025-09-01", "body": {"$ref": "#/1"}}, '
                                 '{"$type": "ObjectType", "properties": {"name": {"type": '
                                 '{"$ref": "#/0"}}}}]', (1, 1),
                                 'type #1 at `properties.name`: "flags" is a required'),
}


@pytest.mark.parametrize("text, position, words", BROKEN_TYPE_DATA.values(),
                         ids=BROKEN_TYPE_DATA.keys())
def test_unusable_type_data_is_akm603_at_its_position(compiled, tmp_path, text, position,
                                                       words):
    plan, rendered = compiled
    types = copy_of(tmp_path, REFERENCE / "bicep-types")
    (types / NETWORK_TYPES).write_text(text)
    found = verify.verify(plan, rendered, References(bicep_types=types))
    [unusable] = [d for d in found if d.code == "AKM603"]
    assert (unusable.file, (unusable.line, unusable.col)) == (str(types / NETWORK_TYPES),
                                                               position)
    assert words in unusable.message


@pytest.mark.parametrize("text, words", [
    ("[]", "not a draft 7 JSON Schema: (root): [] is not of type 'object', 'boolean'"),
    ('{"properties": {"spec": {"type": 5}}}', "not a draft 7 JSON Schema: properties.spec.type"),
])
def test_json_that_is_not_a_schema_is_akm603(compiled, tmp_path, text, words):
    plan, rendered = compiled
    crds = copy_of(tmp_path, REFERENCE / "flux")
    broken = crds / "helm.toolkit.fluxcd.io" / "helmrelease_v2.json"
    broken.write_text(text)
    [unusable] = [d for d in verify.verify(plan, rendered, References(None, (crds,)))
                  if d.code == "AKM603"]
    assert unusable.file == str(broken) and words in unusable.message, unusable.message


@pytest.mark.parametrize("which", ["crd", "values"])
def test_an_unusable_schema_is_akm603_at_its_position(compiled, tmp_path, which):
    plan, rendered = compiled
    crds = copy_of(tmp_path, REFERENCE / "flux")
    values = tmp_path / "values.schema.json"
    values.write_text((REFERENCE / "cilium" / "values.schema.json").read_text())
    broken = crds / "helm.toolkit.fluxcd.io" / "helmrelease_v2.json" if which == "crd" \
        else values
    broken.write_text('{\n  "type": "object",\n  oops\n}\n')
    found = verify.verify(plan, rendered, References(None, (crds,), values))
    [unusable] = [d for d in found if d.code == "AKM603"]
    assert (unusable.file, unusable.line, unusable.col) == (str(broken), 3, 3)
    assert "not JSON" in unusable.message
