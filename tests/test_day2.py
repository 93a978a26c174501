"""Day 2: changes to a running mesh, over a real git fleet repository.

Each test renders a topology into a fleet repository (`git init` in a tmp dir), commits,
changes the topology as a user would, and runs the CLI again: the committed tree's state
record (.aksmesh-state.json) is what the change is classified against.
"""

from __future__ import annotations

import json
import subprocess
import textwrap

import pytest

from conftest import REFERENCE, THREE, VALID, WAVES, expected, run_cli
from generator.state import STATE_FILE
from generator.write import MANIFEST


class Fleet:
    """A fleet repository: a topology, its output tree, and git."""

    def __init__(self, root):
        self.root = root
        self.topology = root / "mesh.yaml"
        self.out = root / "out"
        self.tree = self.out / "mesh"
        self.git("init", "-q")
        self.git("config", "user.email", "ops@example.com")
        self.git("config", "user.name", "ops")

    def git(self, *args: str) -> str:
        return subprocess.run(["git", *args], cwd=self.root, check=True, capture_output=True,
                              text=True).stdout

    def write(self, text: str) -> None:
        self.topology.write_text(textwrap.dedent(text))

    def run(self, command: str, *args: object):
        options = [] if command == "ca" else ["-o", self.out]
        return run_cli(command, *options, *args, self.topology)

    def commit(self, message: str) -> None:
        self.git("add", "-A")
        self.git("commit", "-q", "-m", message)

    def deploy(self, text: str) -> None:
        """Render `text` and commit it: the state the mesh runs in."""
        self.write(text)
        result = self.run("render")
        assert result.exit_code == 0, result.output
        self.commit("render")

    def untouched(self) -> bool:
        return self.git("status", "--porcelain", "--", "out") == ""

    def state(self) -> dict:
        return json.loads((self.tree / STATE_FILE).read_text())


@pytest.fixture
def fleet(tmp_path):
    return Fleet(tmp_path)


def codes_at(result) -> list[tuple[str, int]]:
    return sorted((d["code"], d["line"]) for d in json.loads(result.stdout)
                  if d["severity"] == "error")


def test_render_records_the_running_mesh_in_an_owned_file(fleet):
    fleet.deploy(VALID)
    state = fleet.state()
    assert STATE_FILE in (fleet.tree / MANIFEST).read_text().splitlines()
    assert state["formatVersion"] == 1 and state["topology"] == "mesh"
    assert [(c["name"], c["id"], c["podCidr"], c["clustermeshIP"]) for c in state["clusters"]] \
        == [("ne", 1, "10.110.0.0/16", "10.10.3.250"), ("we", 2, "10.120.0.0/16", "10.20.3.250")]
    assert (state["maxConnectedClusters"], state["encryption"], state["kubernetesVersion"]) \
        == (255, "wireguard", "1.36")
    # Deterministic: a second render changes nothing.
    assert fleet.run("render").exit_code == 0 and fleet.untouched()


@pytest.mark.parametrize("change, acknowledgement", [
    (("    id: 2\n", "    id: 5  # !AKM701\n"), "clusters.we.id"),
    (("  - name: we\n", "  - name: west  # !AKM702\n"), "clusters.we.name"),
    (("    podCidr: 10.120.0.0/16\n", "    podCidr: 10.121.0.0/16  # !AKM703\n"),
     "clusters.we.podCidr"),
    (("clusters:\n", "cilium:\n  maxConnectedClusters: 511  # !AKM704\nclusters:\n"),
     "AKM704"),
    (("clusters:\n", "cilium:\n  encryption: none  # !AKM705\nclusters:\n"),
     "cilium.encryption"),
    (("    region: westeurope\n", "    region: swedencentral  # !AKM713\n"),
     "clusters.we.region"),
    (("aks:\n", "aks:\n  systemPool:\n    vmSize: Standard_D8ds_v5  # !AKM714\n"),
     "aks.systemPool.vmSize"),
    (("aks:\n", 'aks:\n  systemPool:\n    zones: ["1", "2"]  # !AKM714\n'),
     "aks.systemPool.zones"),
    (("aks:\n", "aks:\n  systemPool:\n    maxPods: 60  # !AKM714\n"), "AKM714"),
    (("aks:\n", "aks:\n  systemPool:\n    osDiskType: Managed  # !AKM714\n"),
     "aks.systemPool.osDiskType"),
    (("    serviceCidr: 10.220.0.0/16\n", "    serviceCidr: 10.220.0.0/16\n    systemPool:\n"
      "      vmSize: Standard_D8ds_v5  # !AKM714\n"), "clusters.we.systemPool.vmSize"),
    (("aks:\n", "aks:\n  encryptionAtHost: true  # !AKM715\n"), "aks.encryptionAtHost"),
    (("  authorizedIpRanges: [203.0.113.0/24]\n", "  privateCluster: true  # !AKM715\n"),
     "aks.privateCluster"),
    (("aks:\n", "aks:\n  azureRbac: false\n  disableLocalAccounts: false  # !AKM715\n"),
     "aks.disableLocalAccounts"),
])
def test_a_disruptive_change_is_refused_located_until_acknowledged(fleet, change,
                                                                   acknowledgement):
    fleet.deploy(VALID)
    changed = VALID.replace(*change, 1)
    fleet.write(changed)
    for command in ("validate", "render", "check"):
        result = fleet.run(command, "--format", "json")
        assert result.exit_code == 1, result.output
        assert codes_at(result) == expected(changed), command
    assert fleet.untouched()
    record = json.loads(fleet.run("validate", "--format", "json").stdout)[0]
    assert "--allow-disruptive" in record["hint"] and acknowledgement in record["message"] + \
        record["hint"]

    accepted = fleet.run("render", "--allow-disruptive", acknowledgement)
    assert accepted.exit_code == 0, accepted.output
    assert not fleet.untouched()
    fleet.commit("acknowledged")
    # The committed tree now records the new mesh: nothing left to acknowledge.
    assert fleet.run("check").exit_code == 0
    assert fleet.run("validate").exit_code == 0


def test_plan_diff_prints_each_change_its_class_and_effect(fleet):
    fleet.deploy(VALID)
    fleet.write(THREE.replace('kubernetesVersion: "1.36"', 'kubernetesVersion: "1.37"')
                .replace("    id: 2\n", "    id: 7\n"))
    result = fleet.run("plan", "--diff")
    assert result.exit_code == 1  # the disruptive change still fails the run
    lines = result.stdout.splitlines()
    assert lines[0] == f"mesh: 3 changes against {fleet.tree}"
    assert "  disruptive  clusters.we.id: cluster `we` id 2 -> 7 (AKM701)" in lines
    assert "  safe        clusters.fc: new cluster `fc`" in lines
    assert "  rolling     kubernetesVersion: Kubernetes 1.36 -> 1.37" in lines
    assert any("every running cluster (ne, we) adds `fc`" in line for line in lines)
    as_json = json.loads(fleet.run("plan", "--diff", "--json").stdout)
    assert as_json["formatVersion"] == 1
    assert sorted(c["class"] for c in as_json["changes"]) == ["disruptive", "rolling", "safe"]


def test_safe_and_rolling_changes_pass(fleet):
    fleet.deploy(VALID)
    fleet.write(THREE.replace('kubernetesVersion: "1.36"', 'kubernetesVersion: "1.37"'))
    assert fleet.run("validate").exit_code == 0
    assert fleet.run("render").exit_code == 0


def test_system_pool_count_and_os_sku_change_in_place_or_rolling(fleet):
    """AKS scales a pool in place and reimages it to a new OS SKU (resize-cluster.md,
    upgrade-os-version.md): neither needs an acknowledgement; plan --diff says which."""
    fleet.deploy(VALID)
    fleet.write(VALID.replace("aks:\n", "aks:\n  systemPool:\n    count: 5\n"
                              "    osSku: Ubuntu\n", 1))
    result = fleet.run("plan", "--diff")
    assert result.exit_code == 0, result.output
    assert "  safe        aks.systemPool.count: system pool count 3 -> 5 on ne, we" \
        in result.stdout.splitlines()
    assert "  rolling     aks.systemPool.osSku: system pool osSku AzureLinux -> Ubuntu on " \
        "ne, we" in result.stdout.splitlines()
    assert fleet.run("render").exit_code == 0


def test_a_record_from_before_the_system_pool_was_kept_compares_nothing_of_it(fleet):
    fleet.deploy(VALID)
    record = fleet.state()
    del record["aks"]
    for cluster in record["clusters"]:
        del cluster["systemPool"]
    (fleet.tree / STATE_FILE).write_text(json.dumps(record))
    fleet.write(VALID.replace("aks:\n", "aks:\n  systemPool:\n    vmSize: Standard_D8ds_v5\n"
                              "  encryptionAtHost: true\n", 1))
    assert fleet.run("validate").exit_code == 0
    assert fleet.run("render").exit_code == 0  # and the record keeps them from now on
    assert fleet.state()["clusters"][0]["systemPool"]["vmSize"] == "Standard_D8ds_v5"


@pytest.mark.parametrize("before, after", [("1.37", "1.35"), ("1.35", "1.37")])
def test_kubernetes_downgrade_or_skipped_minor_is_refused_even_when_acknowledged(
        fleet, before, after):
    fleet.deploy(VALID.replace('"1.36"', f'"{before}"'))
    changed = VALID.replace('kubernetesVersion: "1.36"',
                            f'kubernetesVersion: "{after}"  # !AKM709')
    fleet.write(changed)
    result = fleet.run("render", "--format", "json", "--allow-disruptive", "AKM709")
    assert result.exit_code == 1 and codes_at(result) == expected(changed)
    assert fleet.untouched()


def test_cilium_downgrade_is_refused(fleet, cilium_patch_release_data):
    fleet.deploy(VALID.replace("clusters:\n", 'cilium:\n  version: "1.20.1"\nclusters:\n', 1))
    changed = VALID.replace("clusters:\n", 'cilium:\n  version: "1.20.0"  # !AKM710\nclusters:\n',
                            1)
    fleet.write(changed)
    result = fleet.run("validate", "--format", "json")
    assert codes_at(result) == expected(changed)


def test_removing_a_cluster_prints_its_cleanup_in_order(fleet):
    fleet.deploy(THREE)
    fleet.write(VALID)
    refused = fleet.run("render", "--format", "json")
    [record] = json.loads(refused.stdout)
    assert record["code"] == "AKM707" and "`fc` removed" in record["message"]
    assert fleet.untouched()

    accepted = fleet.run("render", "--allow-disruptive", "clusters.fc")
    assert accepted.exit_code == 0, accepted.output
    assert f"still running: fc; the cleanup, in order: {fleet.tree / 'REMOVED.md'}" \
        in accepted.stderr
    removed = (fleet.tree / "REMOVED.md").read_text()
    steps = ["Move its workloads away", "Commit and push this tree",
             "az network vnet peering delete --resource-group rg-mesh-ne --vnet-name "
             "vnet-mesh-ne --name vnet-mesh-fc",
             "az network vnet peering delete --resource-group rg-mesh-we --vnet-name "
             "vnet-mesh-we --name vnet-mesh-fc",
             "az group delete --name rg-mesh-fc --yes"]
    positions = [removed.index(step) for step in steps]
    assert positions == sorted(positions)
    assert not (fleet.tree / "clusters" / "fc").exists()
    fleet.commit("remove fc")
    # The cleanup stays until it is done: the record keeps the removed cluster.
    assert fleet.run("render").exit_code == 0 and fleet.untouched()
    assert [c["name"] for c in fleet.state()["removedClusters"]] == ["fc"]


def test_removing_the_first_cluster_moves_the_deployment_location(fleet):
    fleet.deploy(THREE)
    without_ne = THREE.replace(THREE[THREE.index("  - name: ne"):THREE.index("  - name: we")],
                               "")
    fleet.write(without_ne)
    result = fleet.run("validate", "--format", "json")
    assert sorted(d["code"] for d in json.loads(result.stdout)) == ["AKM707", "AKM708"]
    assert fleet.run("render", "--allow-disruptive", "AKM707").exit_code == 1
    ok = fleet.run("render", "--allow-disruptive", "AKM707", "--allow-disruptive",
                   "deploymentLocation")
    assert ok.exit_code == 0, ok.output


def test_a_damaged_state_record_is_an_error(fleet):  # !AKM711
    fleet.deploy(VALID)
    (fleet.tree / STATE_FILE).write_text("{not json")
    result = fleet.run("validate")
    assert result.exit_code == 1 and "AKM711" in result.output


def test_an_acknowledgement_that_matches_nothing_is_a_warning(fleet):  # !AKM712
    fleet.deploy(VALID)
    result = fleet.run("validate", "--allow-disruptive", "clusters.we.idd")
    assert result.exit_code == 0 and "AKM712 warning" in result.output
    assert fleet.run("validate", "--strict", "--allow-disruptive", "x").exit_code == 1


def test_replacing_the_ca_is_disruptive_adding_it_is_not(fleet):  # !AKM706
    import pyrage

    recipient = str(pyrage.x25519.Identity.generate().to_public())
    fleet.deploy(VALID)
    # Adding the first CA to a running mesh: recorded, not disruptive.
    assert fleet.run("ca", "init", "--age-recipient", recipient).exit_code == 0
    assert fleet.run("render").exit_code == 0
    fleet.commit("ca")
    assert fleet.state()["ca"].startswith("sha256:")
    assert fleet.run("ca", "init", "--age-recipient", recipient, "--force").exit_code == 0
    result = fleet.run("validate", "--format", "json")
    [record] = json.loads(result.stdout)
    assert record["code"] == "AKM706"
    assert record["file"] == str(fleet.root / "mesh" / "cilium-ca.sops.yaml")
    assert fleet.run("render", "--allow-disruptive", "AKM706").exit_code == 0


# ---------------------------------------------------------------- staged rollouts


def helmrelease_versions(tree) -> dict[str, str]:
    import yaml

    return {path.parent.parent.name: yaml.safe_load(path.read_text())["spec"]["chart"]["spec"]
            ["version"] for path in sorted(tree.glob("clusters/*/cilium/helmrelease.yaml"))}


def test_a_cilium_bump_rolls_out_one_wave_per_commit(fleet, cilium_patch_release_data):
    fleet.deploy(WAVES)
    assert helmrelease_versions(fleet.tree) == {"fc": "1.20.0", "ne": "1.20.0", "we": "1.20.0"}
    canary = WAVES.replace("      clusters: [fc]\n",
                           '      clusters: [fc]\n      cilium: {version: "1.20.1"}\n')
    fleet.write(canary)
    diff = fleet.run("plan", "--diff")
    assert diff.exit_code == 0, diff.output
    assert "  rolling     rollout.waves.canary.cilium.version: Cilium 1.20.0 -> 1.20.1 on fc" \
        in diff.stdout
    assert "to ne, we, still on their version" in diff.stdout
    fleet.deploy(canary)
    assert helmrelease_versions(fleet.tree) == {"fc": "1.20.1", "ne": "1.20.0", "we": "1.20.0"}
    changed = {line.split("/")[3] for line in
               fleet.git("show", "--name-only", "--format=", "HEAD").splitlines()
               if line.startswith("out/mesh/clusters/")}
    assert changed == {"fc"}  # the commit touches the canary's tree only
    # The second wave, then the mesh's own version: every cluster on 1.20.1.
    everyone = canary.replace("clusters:\n  - name: ne", 'cilium:\n  version: "1.20.1"\n'
                              "clusters:\n  - name: ne", 1)
    fleet.deploy(everyone)
    assert helmrelease_versions(fleet.tree) == {"fc": "1.20.1", "ne": "1.20.1", "we": "1.20.1"}


def rollout_findings(found, waves: str, extra: str = "") -> list[tuple[str, int]]:
    return found(THREE + extra + waves)


def test_the_fleet_stages_follow_the_waves_and_every_cluster_is_a_member(fleet):
    from generator import facts
    from generator.bicep.read import Expression, resource_declarations, top_level_declarations
    from generator.bicep.syntax import syntax_errors

    fleet.deploy(WAVES)
    main_text = (fleet.tree / "bicep" / "main.bicep").read_text()
    fleet_text = (fleet.tree / "bicep" / "modules" / "fleet.bicep").read_text()
    assert syntax_errors(main_text) == [] and syntax_errors(fleet_text) == []
    main = {d.name: d for d in top_level_declarations(main_text) if d.kind != "output"}
    module = main["fleet"]
    assert Expression("clusterStacks") in module.value["dependsOn"]
    params = module.value["params"]
    # Every Azure cluster is a member, in the update group of its wave...
    assert [(m["name"], m["group"]) for m in params["members"]] == [
        ("ne", "rest"), ("we", "rest"), ("fc", "canary")]
    assert [m["aksName"] for m in params["members"]] == ["aks-mesh-ne", "aks-mesh-we",
                                                          "aks-mesh-fc"]
    # ...and the strategy's stages are the waves, in the topology's order.
    assert params["waves"] == [{"name": "canary", "afterStageWaitInSeconds": 3600},
                               {"name": "rest", "afterStageWaitInSeconds": 0}]
    body = {d.symbol: d for d in resource_declarations(fleet_text)}
    assert {(d.type, d.api_version) for d in body.values()} == {
        (t, facts.API_VERSIONS[t]) for t in ("Microsoft.ContainerService/fleets",
                                             "Microsoft.ContainerService/fleets/members",
                                             "Microsoft.ContainerService/fleets/updateStrategies")}
    members = body["fleetMembers"].body["properties"]
    assert members["group"] == Expression("member.group")
    assert members["clusterResourceId"] == Expression(
        "resourceId(subscription().subscriptionId, member.resourceGroup, "
        "'Microsoft.ContainerService/managedClusters', member.aksName)")
    # One stage per wave, holding the one update group of that wave.
    assert body["waveStrategy"].body["parent"] == Expression("fleet")
    assert "stages: [for wave in waves: {\n        name: wave.name\n        groups: [\n" \
        "          {\n            name: wave.name\n" in fleet_text
    # The fleet's bodies are checked against their shipped type data, and pass.
    found = json.loads(fleet.run("check", "--format", "json").stdout)
    assert not [d for d in found if d["code"] in ("AKM440", "AKM502")], found


def test_kubernetes_version_and_fleet_update_runs_coexist(fleet):
    """The Bicep pins the version the clusters run, never a newer one, and no AKS channel
    moves minors on its own: Fleet update runs are the only minor upgrades."""
    fleet.deploy(WAVES)
    cluster = (fleet.tree / "bicep" / "modules" / "cluster.bicep").read_text()
    assert "kubernetesVersion: '1.36'" in cluster
    assert "upgradeChannel: 'patch'" in cluster
    readme = (fleet.tree / "README.md").read_text()
    run = readme.index("az fleet updaterun create --resource-group rg-mesh-fleet "
                       "--fleet-name fleet-mesh")
    assert "--update-strategy-name waves" in readme
    assert run < readme.index("once it has succeeded: kubernetesVersion")
    # The bump after the run is a rolling change, through Fleet.
    fleet.write(WAVES.replace('"1.36"', '"1.37"'))
    diff = fleet.run("plan", "--diff")
    assert "a Fleet update run upgrades the clusters wave by wave (canary, rest)" in diff.stdout


def test_unrolled_meshes_have_no_fleet(fleet):
    fleet.deploy(THREE)
    assert not (fleet.tree / "bicep" / "modules" / "fleet.bicep").exists()
    assert "fleet" not in (fleet.tree / "bicep" / "main.bicep").read_text().lower()


def test_adding_a_recipient_with_sops_updatekeys_keeps_the_ca_digest(tmp_path):
    """The record's CA digest tells a new CA from the same CA re-encrypted to more keys
    (what `sops updatekeys` does: it re-wraps the data key, the values stay)."""
    import os

    import pyrage

    from generator import ca, state
    from generator.backends import ca_wiring

    alice, bob = pyrage.x25519.Identity.generate(), pyrage.x25519.Identity.generate()
    first = ca.init_ca(ca.SECRET_NAME, ca_wiring().secret_namespace, [str(alice.to_public())])
    path = tmp_path / ca.CA_FILE_NAME
    path.write_text(first)
    (tmp_path / ".sops.yaml").write_text(
        "creation_rules:\n  - path_regex: .*\n    encrypted_regex: ^(data|stringData)$\n"
        f"    age: {alice.to_public()},{bob.to_public()}\n")
    env = {k: v for k, v in os.environ.items() if not k.startswith("SOPS_")}
    subprocess.run([ca.find_sops(), "updatekeys", "-y", str(path)], cwd=tmp_path, check=True,
                   capture_output=True, env=env | {"SOPS_AGE_KEY": str(alice)})
    updated = path.read_text()
    assert updated != first and len(ca.read_age_recipients(updated)) == 2
    digest = lambda text: state.ca_digest(ca.inspect_ca_file(text))  # noqa: E731
    assert digest(updated) == digest(first)
    replaced = ca.init_ca(ca.SECRET_NAME, ca_wiring().secret_namespace, [str(alice.to_public())])
    assert digest(replaced) != digest(first)


def test_a_wave_of_hybrid_members_only_is_no_fleet_stage(fleet):
    hybrid = WAVES.replace("    serviceCidr: 10.230.0.0/16\n", "    serviceCidr: 10.230.0.0/16\n"
                           "    managed: false\n    clustermeshIP: 10.30.3.250\n")
    fleet.deploy(hybrid)
    main = (fleet.tree / "bicep" / "main.bicep").read_text()
    fleet_module = main[main.index("module fleet"):]
    assert "name: 'rest'" in fleet_module and "name: 'canary'" not in fleet_module
    assert "name: 'fc'" not in fleet_module  # not a member: it is not in Azure
    assert helmrelease_versions(fleet.tree)["fc"] == "1.20.0"  # still in its Cilium wave


def test_a_wave_on_a_cilium_version_without_data_is_refused_at_the_wave(tmp_path):
    path = tmp_path / "mesh.yaml"
    path.write_text(WAVES.replace("      clusters: [fc]\n",
                                  '      clusters: [fc]\n      cilium: {version: "1.20.9"}\n'))
    result = run_cli("validate", path)
    assert result.exit_code == 1
    line = next(i for i, text in enumerate(path.read_text().splitlines(), 1) if "1.20.9" in text)
    assert f"mesh.yaml:{line}:" in result.stdout and "AKM420" in result.stdout


def test_each_wave_is_verified_against_its_own_charts_values_schema(tmp_path, monkeypatch):
    """A wave's HelmReleases install the chart version the wave pins, so its clusters'
    values are checked against that chart's schema, not the mesh's."""
    import copy

    from generator import compiler, shipped

    strict = tmp_path / "values.schema.json"  # a chart whose schema refuses the mesh's values
    strict.write_text(json.dumps({"type": "object", "properties": {
        "kubeProxyReplacement": {"type": "string"}}}))
    index = copy.deepcopy(shipped.index())
    index["cilium"]["1.20.1"] = dict(index["cilium"]["1.20.0"], values_schema=str(strict))
    monkeypatch.setattr(shipped, "index", lambda: index)
    path = tmp_path / "mesh.yaml"
    path.write_text(WAVES.replace("      clusters: [fc]\n",
                                  '      clusters: [fc]\n      cilium: {version: "1.20.1"}\n'))
    result = compiler.compile_topology(path)
    refused = {d.file.split("/")[2] for d in result.diagnostics if d.code == "AKM512"}
    assert refused == {"fc"}, [d.format_text() for d in result.diagnostics]
