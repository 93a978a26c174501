"""Hubble Relay reaches the nodes of every cluster: TCP 4244 is mesh traffic, admitted by
every node subnet's NSG and listed for hybrid members. Before the fix neither admitted it
(checked on the tree at the start of issue 13)."""

from __future__ import annotations

import re

import pytest

from bootstrap_model import example_topologies
from conftest import VALID
from generator import compiler, facts

SEED_DEMO = example_topologies()["seed-demo"]


def _compiled(path):
    result = compiler.compile_topology(path)
    assert result.ok, [d.format_text() for d in result.diagnostics]
    return result


def test_hubble_relay_traffic_is_mesh_traffic():
    plan = _compiled(SEED_DEMO).plan
    assert plan.hubble_relay
    assert ("Tcp", str(facts.HUBBLE_PORT)) in {(t.protocol, t.port) for t in plan.mesh_traffic}


def test_every_nsg_admits_4244_from_the_mesh_node_subnets():
    files = _compiled(SEED_DEMO).files
    rules = re.findall(r"protocol: '(\w+)'\s+sourceAddressPrefixes: meshNodeSubnetCidrs\s+"
                       r"sourcePortRange: '\*'\s+destinationAddressPrefix: nodeSubnetCidr\s+"
                       r"destinationPortRange: '([^']+)'", files["bicep/modules/cluster.bicep"])
    assert ("Tcp", "4244") in rules


def test_the_hybrid_member_is_told_to_open_4244():
    readme = _compiled(SEED_DEMO).files["README.md"]
    section = readme.split("### onprem")[1].split("```")[0]
    assert "TCP 4244" in section
    for traffic in _compiled(SEED_DEMO).plan.mesh_traffic:
        assert traffic.protocol.upper() in section


def test_without_relay_4244_stays_closed(tmp_path):
    path = tmp_path / "mesh.yaml"
    path.write_text(VALID.replace('kubernetesVersion: "1.36"\n',
                                  'kubernetesVersion: "1.36"\ncilium:\n  hubble:\n    relay: false\n'),
                    encoding="utf-8")
    plan = compiler.validate(path).plan
    assert str(facts.HUBBLE_PORT) not in {t.port for t in plan.mesh_traffic}
