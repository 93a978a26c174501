"""AKM4xx: what AKS, Azure and Cilium support (generator/rules/platform.py): versions,
regions and zones, limits, encryption, access to the clusters."""

import pytest

from conftest import VALID, expected, large_mesh, mutate
from generator.inputs import load_schema


CASES = {
    "old kubernetes": mutate(('kubernetesVersion: "1.36"\n', 'kubernetesVersion: "1.27"  # !AKM401\n')),
    "unknown region": mutate(("    region: westeurope\n", "    region: westeurop  # !AKM402\n")),
    "unsupported cilium": mutate(('kubernetesVersion: "1.36"\n',
                                  'kubernetesVersion: "1.36"\ncilium:\n  version: "1.14.2"  # !AKM404\n')),
    "mixed encryption": VALID.replace("    id: 2\n", "    id: 2\n    encryption: none  # !AKM407\n"),
}


@pytest.mark.parametrize("text", CASES.values(), ids=CASES.keys())
def test_rule_reports_code_and_line(found, text):
    assert found(text) == expected(text)


def test_region_hint_suggests_the_closest_region(diagnose):
    [d] = diagnose(CASES["unknown region"])
    assert d.hint == "did you mean `westeurope`?"


def test_the_cilium_hint_suggests_the_schema_default(diagnose):
    # facts.CILIUM_DEFAULT_VERSION and the schema's default are two copies; this holds
    # them equal (and the default itself passes AKM404: VALID has no cilium key).
    [d] = diagnose(CASES["unsupported cilium"])
    default = load_schema()["properties"]["cilium"]["properties"]["version"]["default"]
    assert d.hint == f'use "{default}"'
    assert diagnose(VALID) == []


def test_more_peerings_than_azure_allows_is_akm403(diagnose):
    diagnostics = diagnose(large_mesh(502, "cilium:\n  maxConnectedClusters: 511"))
    assert [(d.code, d.line) for d in diagnostics] == [("AKM403", 5), ("AKM405", 5)]


def test_a_hybrid_member_may_have_a_free_text_region(found):
    text = VALID.replace("  - name: we\n    id: 2\n    region: westeurope\n",
                         "  - name: we\n    id: 2\n    managed: false\n    region: Lyon DC 3\n"
                         "    clustermeshIP: 10.20.3.250\n")
    assert found(text) == []


def test_no_admin_group_while_local_accounts_are_disabled(found):
    text = VALID.replace("  adminGroupObjectIds: [00000000-0000-0000-0000-000000000000]\n",
                         "  adminGroupObjectIds: []  # !AKM431\n")
    assert found(text) == expected(text)


def test_no_admin_group_key_at_all_points_at_aks(diagnose):
    text = VALID.replace("  adminGroupObjectIds: [00000000-0000-0000-0000-000000000000]\n", "")
    [d] = diagnose(text)
    assert (d.code, d.line) == ("AKM431", VALID.splitlines().index("aks:") + 1)


ZONELESS = mutate(("region: westeurope", "region: ukwest"))


def test_zones_asked_for_a_region_without_zones(found):
    text = ZONELESS.replace("region: ukwest", "region: ukwest  # !AKM430") + \
        '  systemPool:\n    zones: ["1", "2"]\n'
    assert found(text) == expected(text)


def test_a_public_api_server_without_ranges_is_refused(found):
    text = VALID.replace("  authorizedIpRanges: [203.0.113.0/24]\n",
                         "  authorizedIpRanges: []  # !AKM432\n")
    assert found(text) == expected(text)


def test_authorized_ranges_on_a_private_cluster_are_said_to_be_ignored(found):
    text = VALID.replace("  authorizedIpRanges: [203.0.113.0/24]\n",
                         "  privateCluster: true\n  authorizedIpRanges: [203.0.113.0/24]  # !AKM434\n")
    assert found(text) == expected(text)
