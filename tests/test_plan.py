"""The plan: every value resolved once, immutable, defaults from the schema."""

import dataclasses
import json
from ipaddress import IPv4Address

import pytest

from conftest import PROJECT, VALID
from generator import compiler, facts, plan as planning
from generator.example import example_topology


@pytest.fixture
def plan(tmp_path):
    path = tmp_path / "mesh.yaml"
    path.write_text(VALID)
    return compiler.validate(path).plan


def test_defaults_are_the_schema_defaults(plan):
    schema = json.loads((PROJECT / "topology.schema.json").read_text())
    pool = schema["properties"]["aks"]["properties"]["systemPool"]["properties"]
    assert plan.aks.system_pool.vm_size == pool["vmSize"]["default"]
    # No mesh-wide default for zones: each cluster gets its region's.
    assert plan.aks.system_pool.zones is None and "default" not in pool["zones"]
    assert [c.zones for c in plan.clusters] == [facts.REGION_ZONES[c.region]
                                                 for c in plan.clusters]
    assert plan.cilium_version == schema["properties"]["cilium"]["properties"]["version"]["default"]


def test_derived_addresses(plan):
    ne = plan.clusters[0]
    assert ne.dns_service_ip == IPv4Address("10.210.0.10")
    # 10.10.0.0/22 ends at 10.10.3.255; five below it:
    assert ne.clustermesh_ip == IPv4Address("10.10.3.250")


def test_explicit_addresses_win(tmp_path):
    path = tmp_path / "mesh.yaml"
    path.write_text(VALID.replace("    serviceCidr: 10.220.0.0/16\n",
                                  "    serviceCidr: 10.220.0.0/16\n    dnsServiceIP: 10.220.0.53\n"
                                  "    clustermeshIP: 10.20.1.7\n"))
    we = compiler.validate(path).plan.clusters[1]
    assert (str(we.dns_service_ip), str(we.clustermesh_ip)) == ("10.220.0.53", "10.20.1.7")


def test_full_mesh_of_n_has_n_times_n_minus_1_directed_peerings(tmp_path):
    path = tmp_path / "mesh.yaml"
    path.write_text(example_topology(7))
    plan = compiler.validate(path).plan
    pairs = {(p.local, p.remote) for p in plan.peerings}
    assert len(pairs) == len(plan.peerings) == 7 * 6
    assert all((b, a) in pairs for a, b in pairs)


def test_every_cluster_meshes_with_every_other_exactly_once(tmp_path):
    path = tmp_path / "mesh.yaml"
    path.write_text(example_topology(5))
    plan = compiler.validate(path).plan
    names = {c.name for c in plan.clusters}
    for cluster in plan.clusters:
        peers = [p.name for p in cluster.mesh_peers]
        assert sorted(peers) == sorted(names - {cluster.name}) and len(set(peers)) == len(peers)
        by_name = {c.name: c for c in plan.clusters}
        assert all(p.ip == str(by_name[p.name].clustermesh_ip) and p.port == 2379
                   for p in cluster.mesh_peers)


def test_azure_names_are_unique_per_cluster(plan):
    for field in ("resource_group", "aks_name", "dns_prefix", "vnet_name", "identity_name"):
        values = [getattr(c, field) for c in plan.clusters]
        assert len(set(values)) == len(values)


def test_plan_is_immutable(plan):
    with pytest.raises(dataclasses.FrozenInstanceError):
        plan.clusters[0].id = 9


@pytest.mark.parametrize("size", [2, 3, 16, 255])
def test_example_topologies_validate(tmp_path, size):
    path = tmp_path / "mesh.yaml"
    path.write_text(example_topology(size))
    assert compiler.validate(path).diagnostics == []


@pytest.mark.parametrize("size, peering", [(2, "full-mesh"), (255, "full-mesh"),
                                           (256, "full-mesh"), (400, "full-mesh"),
                                           (401, "avnm"), (511, "avnm")])
def test_every_example_the_cli_writes_passes_its_checks(tmp_path, size, peering):
    """`aksmesh example --clusters N` for every N it accepts: full-mesh peering up to the
    Azure limits, then avnm (only AKM406 remains: a warning, above AVNM's default 250)."""
    text = example_topology(size)
    assert ("peering: avnm\n" in text) is (peering == "avnm")
    path = tmp_path / "mesh.yaml"
    path.write_text(text)
    result = compiler.validate(path)
    assert result.ok, [str(d) for d in result.diagnostics]
    assert result.plan.peering == peering
    assert [d.code for d in result.diagnostics] == (["AKM406"] if peering == "avnm" else [])


def test_a_mesh_past_azure_limits_says_which(tmp_path):
    path = tmp_path / "mesh.yaml"
    path.write_text(example_topology(511).replace("peering: avnm\n", "peering: full-mesh\n"))
    # 511 VNets cannot be fully peered, nor deployed from one template.
    assert [d.code for d in compiler.validate(path).diagnostics] == ["AKM403", "AKM405"]
