"""AKM720-AKM730: rollout waves and extra Cilium values (generator/rules/day2.py)."""

import pytest

from conftest import THREE, WAVES, expected, mutate


@pytest.mark.parametrize("waves", [
    """\
rollout:
  waves:
    - name: canary
      clusters: [fc, wee]  # !AKM720
    - name: rest
      clusters: [ne, we]
""",
    """\
rollout:
  waves:
    - name: canary
      clusters: [fc]
    - name: rest
      clusters: [ne, we, fc]  # !AKM721
""",
    """\
rollout:
  waves:  # !AKM721
    - name: canary
      clusters: [fc, ne]
""",
    """\
rollout:
  waves:
    - name: canary
      clusters: [fc]
    - name: canary  # !AKM723
      clusters: [ne, we]
""",
])
def test_waves_name_every_cluster_once(found, waves):
    text = THREE + waves
    assert found(text) == expected(text)


def test_waves_more_than_one_cilium_minor_apart_are_refused():
    from generator import facts
    from generator.rules.day2 import check_rollout
    from generator.inputs import load_schema
    from generator.plan import plan_topology
    from ruamel.yaml import YAML

    data = YAML(typ="safe").load(WAVES.replace(
        "      clusters: [fc]\n", '      clusters: [fc]\n      cilium: {version: "1.22.0"}\n'))
    plan = plan_topology(data, load_schema())
    # Only 1.20 is rendered today (AKM404 says so); the skew rule stands on its own.
    codes = [f.code for f in check_rollout(plan)]
    assert codes == ["AKM404", "AKM722"]
    assert facts.CILIUM_MESH_MAX_MINOR_SKEW == 1
    [skew] = [f for f in check_rollout(plan) if f.code == "AKM722"]
    assert skew.path == ("rollout", "waves", 0, "cilium", "version")
    assert "Cilium's upgrade guide" in skew.hint


def test_a_channel_that_upgrades_minors_by_itself_conflicts_with_waves(found):
    text = WAVES.replace("aks:\n", "aks:\n  upgradeChannel: stable  # !AKM724\n", 1)
    assert found(text) == expected(text)


def with_values(block: str) -> str:
    return mutate(("    serviceCidr: 10.220.0.0/16\n",
                   "    serviceCidr: 10.220.0.0/16\n    ciliumValues:\n" + block))


@pytest.mark.parametrize("block", [
    "      cluster:\n        id: 9  # !AKM730\n",
    "      hubble:\n        relay:\n          enabled: false  # !AKM730\n",
    "      clustermesh:\n        config:\n          clusters:  # !AKM730\n            x: {ips: [10.0.0.1]}\n",
    "      ipam: pool  # !AKM730\n",
])
def test_a_value_aksmesh_sets_is_refused_where_it_is_written(found, block):
    text = with_values(block)
    assert found(text) == expected(text)
