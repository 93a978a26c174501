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

from conftest import VALID, expected, run_cli
from generator.state import STATE_FILE
from generator.write import MANIFEST

THREE = VALID.replace("aks:\n", """\
  - name: fc
    id: 3
    region: francecentral
    vnetCidr: 10.30.0.0/16
    nodeSubnetCidr: 10.30.0.0/22
    podCidr: 10.130.0.0/16
    serviceCidr: 10.230.0.0/16
aks:
""", 1)


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


def test_cilium_downgrade_is_refused(fleet):
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
