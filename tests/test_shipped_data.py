"""The verification data aksmesh ships (generator/data/): what it covers, where it comes from,
and that render uses it by default (AKM420, AKM421; core kinds under AKM511).

The re-derivation tests read ../shared/reference, this project's copy of the upstream files,
and a git directory of Azure/bicep-types-az named by $AKSMESH_BICEP_TYPES_AZ (for the Azure
types ../shared lacks), and skip (saying so) where they are absent; every other test needs
only the repository.
"""

from __future__ import annotations

import dataclasses
import hashlib
import importlib.util
import json
import os
import shutil
import sys

import pytest

from conftest import PROJECT, REFERENCE, expected, mutate, run_cli
from generator import compiler, facts, shipped, verify
from generator.inputs import load_shared_ca
from generator.render import Rendered, render
from generator.verify import References

SEED_DEMO = PROJECT / "topologies" / "seed-demo.yaml"
UPSTREAM = PROJECT.parent / "shared" / "reference"
REQUIRE_UPSTREAM = "AKSMESH_REQUIRE_REFERENCE"  # set by .ci/run: there a skip is a failure
# A git directory or checkout of Azure/bicep-types-az (.ci/run sets it where one exists).
BICEP_TYPES_AZ = "AKSMESH_BICEP_TYPES_AZ"


def derive_script():
    spec = importlib.util.spec_from_file_location("derive_data", PROJECT / "scripts" / "derive_data.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules.setdefault("derive_data", module)  # its dataclasses look themselves up there
    spec.loader.exec_module(sys.modules["derive_data"])
    return sys.modules["derive_data"]


@pytest.fixture(scope="module")
def demo():
    plan = compiler.validate(SEED_DEMO).plan
    return plan, render(plan, load_shared_ca(SEED_DEMO))


def with_file(rendered, path, text):
    return Rendered({**rendered.files, path: text}, rendered.data)


def messages(plan, rendered, references=References()):
    return [(d.code, d.file.split("/", 1)[1], d.message)
            for d in verify.verify(plan, rendered, references)]


def schema_messages(plan, rendered):
    """The schema findings alone: a damaged object also trips the consumer models (the
    apply order, the reachability model), which their own tests cover."""
    return [m for m in messages(plan, rendered) if m[0] == "AKM511"]


# ---------------------------------------------------------------- versions without data


def test_a_cilium_version_without_shipped_data_is_akm420(found):
    text = mutate(("kubernetesVersion: \"1.36\"\n",
                   'kubernetesVersion: "1.36"\ncilium:\n  version: "1.20.1"  # !AKM420\n'))
    assert found(text) == expected(text)


def test_a_kubernetes_version_without_shipped_data_is_akm421(found, monkeypatch):
    # Today every AKS-supported minor has schemas; a minor added to the support table
    # before `make data` is run must not render unverified.
    data = json.loads(json.dumps(shipped.index()))
    del data["kubernetes"]["1.36"]
    monkeypatch.setattr(shipped, "index", lambda: data)
    text = mutate(('kubernetesVersion: "1.36"\n', 'kubernetesVersion: "1.36"  # !AKM421\n'))
    assert found(text) == expected(text)


def test_every_supported_version_has_shipped_data():
    assert set(shipped.kubernetes_versions()) == set(facts.AKS_SUPPORTED_MINORS)
    assert facts.CILIUM_DEFAULT_VERSION in shipped.cilium_versions()


def test_verify_refuses_a_cilium_version_it_has_no_values_schema_for(demo):
    plan, rendered = demo
    # Each cluster's values are checked against the chart its HelmRelease pins.
    clusters = tuple(dataclasses.replace(c, cilium_version="1.20.1") for c in plan.clusters)
    found = messages(dataclasses.replace(plan, cilium_version="1.20.1", clusters=clusters),
                     rendered)
    assert {code for code, *_ in found} == {"AKM512", "AKM511"}
    assert any("no values schema for Cilium 1.20.1" in m for _, _, m in found)
    # The CCNP of the tree has no schema without the Cilium version's CRDs.
    assert any("cilium.io/v2 CiliumClusterwideNetworkPolicy" in m for _, _, m in found)


# ---------------------------------------------------------------- everything is checked


def test_the_demo_verifies_clean_against_the_shipped_data(demo):
    assert messages(*demo) == []


def test_a_service_is_checked_against_the_kubernetes_schemas(demo):
    # Core kinds were not schema-checked before the data was shipped: this passed.
    plan, rendered = demo
    path = "clusters/ne/mesh-apps/global-services.yaml"
    assert "kind: Service" in rendered.files[path]
    text = rendered.files[path].replace("  type: ClusterIP", "  type: ClusterIP\n  sessionAfinity: None", 1)
    [(code, where, message)] = schema_messages(plan, with_file(rendered, path, text))
    assert (code, where) == ("AKM511", path) and "sessionAfinity" in message
    text = rendered.files[path].replace("    - port: 80", "    - port: eighty", 1)
    [(code, where, message)] = schema_messages(plan, with_file(rendered, path, text))
    assert (code, where) == ("AKM511", path) and "spec.ports.0.port" in message


def test_the_shared_ca_secret_is_checked_as_kustomize_controller_applies_it(demo):
    # Decrypted and without its sops metadata (which the Secret schema does not know).
    plan, rendered = demo
    path = "cilium-ca/cilium-ca.sops.yaml"
    assert "\nsops:\n" in rendered.files[path]
    text = rendered.files[path].replace("type: Opaque\n", "type: Opaque\nimmutible: true\n")
    [(code, where, message)] = messages(plan, with_file(rendered, path, text))
    assert (code, where) == ("AKM511", path) and "immutible" in message


def test_objects_in_any_rendered_file_are_checked(demo):
    # Not a list of known files: a file a new template adds is checked as it appears.
    plan, rendered = demo
    path = "clusters/ne/namespaces.yaml"
    good = ("apiVersion: v1\nkind: Namespace\nmetadata:\n  name: rebel-base\n  annotations:\n"
            "    kustomize.toolkit.fluxcd.io/ssa: IfNotPresent\n"
            "    kustomize.toolkit.fluxcd.io/prune: disabled\n")
    assert messages(plan, with_file(rendered, path, good)) == []
    bad = good + "spec:\n  finalizer: [kubernetes]\n"
    [(code, where, message)] = schema_messages(plan, with_file(rendered, path, bad))
    assert (code, where) == ("AKM511", path) and "finalizer" in message


def test_an_unknown_core_kind_is_akm511(demo):
    plan, rendered = demo
    path = "clusters/ne/mesh-apps/global-services.yaml"
    text = rendered.files[path].replace("kind: Service", "kind: Servic", 1)
    [(code, _, message)] = schema_messages(plan, with_file(rendered, path, text))
    assert code == "AKM511" and "no Kubernetes schema for v1 Servic" in message


def test_render_needs_no_schema_options_and_prints_no_note(tmp_path):
    result = run_cli("render", "-o", tmp_path, SEED_DEMO)
    assert result.exit_code == 0, result.output
    assert "AKM5" not in result.output and "not checked" not in result.output
    readme = (tmp_path / "seed-demo" / "README.md").read_text()
    index = shipped.index()
    for words in (index["azure"]["source"], f"Flux {index['flux']['version']}",
                  "Cilium 1.20.0", "Kubernetes 1.36", index["kubernetes_source"]):
        assert words in readme, words


def test_the_readme_says_when_other_data_was_given(tmp_path):
    types = tmp_path / "types"
    shutil.copytree(shipped.bicep_types(), types)
    assert run_cli("render", "-o", tmp_path / "out", "--bicep-types", types, SEED_DEMO).exit_code == 0
    readme = (tmp_path / "out" / "seed-demo" / "README.md").read_text()
    assert "the Azure type data given with `--bicep-types`" in readme
    assert shipped.azure_source() not in readme
    # The shipped files themselves, given by another path, are the shipped data.
    same = References(REFERENCE / "bicep-types", (REFERENCE / "flux", REFERENCE / "cilium" / "crds"))
    plan = compiler.validate(SEED_DEMO).plan
    assert same.described(plan) == References().described(plan)


def test_damaged_shipped_data_is_akm604(demo, tmp_path, monkeypatch):
    plan, rendered = demo
    data = tmp_path / "data"
    shutil.copytree(shipped.DATA, data)
    broken = data / "cilium" / "values.schema.json"
    broken.write_text('{"type": "object",\n oops}\n')
    monkeypatch.setattr(shipped, "DATA", data)
    [damaged] = verify.verify(plan, rendered, References())
    assert (damaged.code, damaged.file, damaged.line) == ("AKM604", str(broken), 2)
    assert "reinstall aksmesh" in damaged.hint
    # The same file given by the user is the user's to fix (AKM603).
    given = tmp_path / "values.schema.json"
    shutil.copyfile(broken, given)
    [unusable] = verify.verify(plan, rendered, References(cilium_values_schema=given))
    assert unusable.code == "AKM603"


# ---------------------------------------------------------------- provenance


def test_every_shipped_file_is_recorded_with_its_sha256():
    for root in (shipped.DATA, REFERENCE):
        record = json.loads((root / "PROVENANCE.json").read_text())
        files = {p.relative_to(root).as_posix() for p in root.rglob("*")
                 if p.is_file() and not any(q.is_symlink() for q in [p, *p.parents])}
        listed = set(record["outputs"])
        assert files - listed <= {"PROVENANCE.json", "index.json", "NOTICE", "README.md"}
        assert listed <= files
        for relative, output in record["outputs"].items():
            digest = hashlib.sha256((root / relative).read_bytes()).hexdigest()
            assert digest == output["sha256"], f"{relative} was changed by hand: run make data"
            inputs = {i["file"] for i in record["inputs"]}
            assert set(output["from"]) <= inputs, relative
        for source in record["inputs"]:
            assert all(source[key] for key in ("repository", "version", "path", "sha256",
                                               "licence")), source
            assert source["licence"] in ("MIT", "Apache-2.0")


def test_the_notice_names_the_upstream_licences():
    notice = (PROJECT / "NOTICE").read_text()
    assert notice == (shipped.DATA / "NOTICE").read_text()
    for words in ("Azure/bicep-types-az", "MIT", "Apache-2.0", "Cilium", "Flux", "Kubernetes"):
        assert words in notice


def test_the_azure_data_holds_exactly_the_types_of_the_table():
    rows = derive_script().AZURE_TYPES
    shipped_types = set()
    for path in shipped.bicep_types().rglob("types.json"):
        types = json.loads(path.read_text())
        shipped_types |= {t["name"].lower() for t in types if t["$type"] == "ResourceType"}
        assert path.stat().st_size < 200_000, path  # the whole network file is 1.3 MB
    assert shipped_types == {row.lower() for row in rows}
    # Every type the Bicep declares is there; a row beyond those (the fleets types, ahead
    # of issue 18) is no stale version of a type the Bicep declares at another one.
    emitted = {f"{t}@{v}" for t, v in facts.API_VERSIONS.items()}
    assert emitted <= set(rows) | {f"{t}@{facts.API_VERSIONS[t]}"
                                   for t in facts.TYPES_WITHOUT_REFERENCE_DATA}
    assert not {row.rpartition("@")[0] for row in set(rows) - emitted} & set(facts.API_VERSIONS)


def test_the_gaps_the_data_has_are_the_ones_facts_declares():
    """TYPES_WITHOUT_REFERENCE_DATA (the AKM440 notes) is what the derive script left out."""
    record = json.loads((shipped.DATA / "PROVENANCE.json").read_text())
    left_out = {gap["type"].rpartition("@")[0] for gap in record.get("not_shipped", [])}
    assert left_out == set(facts.TYPES_WITHOUT_REFERENCE_DATA)


def test_a_missing_input_is_named_with_where_to_get_it(tmp_path, monkeypatch):
    script = derive_script()
    monkeypatch.setitem(facts.API_VERSIONS, "Microsoft.Example/widgets", "2025-02-01")
    monkeypatch.setitem(script.AZURE_TYPES, "Microsoft.Example/gadgets@2025-03-01",
                        "generated/example")
    with pytest.raises(script.MissingInput) as error:
        script.derive(tmp_path, None)
    message = str(error.value)
    # A type of API_VERSIONS without its row.
    assert "Microsoft.Example/widgets@2025-02-01: in generator/facts.py API_VERSIONS" in message
    assert "no row in AZURE_TYPES" in message
    # A row whose file is in no input: where it is upstream, and the input that has it.
    assert "bicep-types/microsoft.example/2025-03-01/types.json: missing" in message
    assert "generated/example/microsoft.example/2025-03-01/types.json" in message
    assert "--bicep-types-az" in message and script.BICEP_TYPES_COMMIT in message
    # The extracts derived from bicep-types-az before are kept without it: no error.
    assert "operationalinsights" not in message.lower()


def require_upstream():
    if not UPSTREAM.is_dir():
        if os.environ.get(REQUIRE_UPSTREAM):
            pytest.fail(f"{UPSTREAM} is missing, and {REQUIRE_UPSTREAM} is set")
        pytest.skip(f"no {UPSTREAM}: the upstream files to re-derive the data from are not "
                    "beside this checkout")


def bicep_types_az():
    """The git directory of Azure/bicep-types-az given by $AKSMESH_BICEP_TYPES_AZ."""
    given = os.environ.get(BICEP_TYPES_AZ)
    if not given:
        pytest.skip(f"no ${BICEP_TYPES_AZ}: no Azure/bicep-types-az to re-derive the Azure "
                    "types ../shared/reference lacks from (they are compared with their "
                    "recorded sha256 instead)")
    path = PROJECT / given
    if not path.is_dir():
        pytest.fail(f"${BICEP_TYPES_AZ} is {given}, which is no directory")
    return path


def test_a_type_without_upstream_data_is_recorded_as_not_shipped(monkeypatch):
    # None is today (every type the Bicep declares has its data): a synthetic gap.
    require_upstream()
    script = derive_script()
    monkeypatch.setitem(facts.API_VERSIONS, "Microsoft.Example/widgets", "2025-02-01")
    monkeypatch.setitem(script.AZURE_WITHOUT_UPSTREAM, "Microsoft.Example/widgets",
                        "no Microsoft.Example types.json in bicep-types-az")
    outputs = script.derive(UPSTREAM, None)
    record = json.loads(outputs["data"]["PROVENANCE.json"])
    assert record["not_shipped"] == [{"type": "Microsoft.Example/widgets@2025-02-01",
                                      "reason": "no Microsoft.Example types.json in "
                                                "bicep-types-az"}]
    assert not any("microsoft.example" in name for name in outputs["data"])


def test_without_bicep_types_az_a_kept_extract_must_hold_what_the_table_asks(monkeypatch):
    # One more type of a file derived from bicep-types-az: the kept extract lacks it.
    require_upstream()
    script = derive_script()
    monkeypatch.setitem(script.AZURE_TYPES, "Microsoft.ContainerService/fleets/gates@2026-06-01",
                        "generated/containerservice_3")
    with pytest.raises(script.MissingInput) as error:
        script.derive(UPSTREAM, None)
    message = str(error.value)
    assert "microsoft.containerservice/2026-06-01/types.json: missing" in message
    assert "fleets/gates@2026-06-01" in message and "--bicep-types-az" in message


def test_the_shipped_data_is_what_the_derive_script_makes_of_upstream():
    """`make data` from ../shared/reference (and the bicep-types-az directory, when
    $AKSMESH_BICEP_TYPES_AZ names one) gives the committed bytes (drift from upstream, or a
    hand edit, fails here). The Kubernetes schemas come from a wheel that is not kept beside
    the project, and without bicep-types-az the extracts derived from it are kept: those are
    compared with their recorded sha256 above."""
    require_upstream()
    mirror = PROJECT / os.environ[BICEP_TYPES_AZ] if os.environ.get(BICEP_TYPES_AZ) else None
    outputs = derive_script().derive(UPSTREAM, None, mirror)
    for where, root in (("data", shipped.DATA), ("tests", REFERENCE)):
        for relative, data in outputs[where].items():
            assert (root / relative).read_bytes() == data, f"{root / relative}: run make data"
    committed = {p.relative_to(shipped.DATA).as_posix() for p in shipped.DATA.rglob("*")
                 if p.is_file()} - {"README.md"}
    assert committed == set(outputs["data"])


def test_the_azure_data_is_what_the_derive_script_makes_of_bicep_types_az(tmp_path):
    """Every Azure extract (those from ../shared/reference too: the same commit), derived
    from the bicep-types-az directory alone, is the shipped one, from the recorded inputs."""
    script = derive_script()
    deriver = script.Deriver(tmp_path, None, script.GitTree(bicep_types_az(),
                                                            script.BICEP_TYPES_COMMIT))
    deriver.azure()
    deriver.azure("tests", "bicep-types-tests", script.AZURE_TEST_TYPES)
    assert deriver.missing == []
    for where, root in (("data", shipped.DATA), ("tests", REFERENCE)):
        used = {f for (w, _), made in deriver.made_from.items() if w == where
                for f in made["from"]}
        derived_inputs = {i["path"]: i["sha256"] for i in deriver.inputs if i["file"] in used}
        record = json.loads((root / "PROVENANCE.json").read_text())
        azure = {rel for rel in record["outputs"] if "/microsoft." in rel}
        assert set(deriver.outputs[where]) == azure, where
        for relative in azure:
            assert (root / relative).read_bytes() == deriver.outputs[where][relative], relative
        recorded = {i["path"]: i["sha256"] for i in record["inputs"]
                    if i["repository"] == script.BICEP_TYPES.repository}
        assert recorded == derived_inputs, where
