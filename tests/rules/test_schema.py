"""AKM1xx: schema violations (generator/rules/schema.py), located at the offending node,
with useful hints."""

import pytest

from conftest import VALID, expected


def test_valid_topology_has_no_findings(found):
    assert found(VALID) == []


def test_unknown_key_points_at_the_key_and_suggests_the_right_one(diagnose):
    text = VALID.replace("    podCidr: 10.110.0.0/16\n",
                         "    podCidr: 10.110.0.0/16\n    podCIDR: 10.111.0.0/16  # !AKM101\n")
    [d] = diagnose(text)
    assert (d.code, d.line, d.col) == (expected(text)[0][0], expected(text)[0][1], 5)
    assert "podCidr" in d.hint


def test_unknown_top_level_key_lists_known_keys_when_nothing_is_close(diagnose):
    [d] = diagnose(VALID + "zzz: 1\n")
    assert d.code == "AKM101" and "kubernetesVersion" in d.hint


def test_missing_required_key_points_at_its_mapping(found):
    text = VALID.replace("    region: westeurope\n", "").replace(
        "  - name: we\n", "  - name: we  # !AKM102\n")
    assert found(text) == expected(text)


@pytest.mark.parametrize("written", ["1.36", "1.30", "1.30  # the current release"])
def test_unquoted_version_is_a_type_error_with_a_quoting_hint(diagnose, written):
    # YAML reads 1.30 as the number 1.3: the hint quotes what was written, not that number.
    [d] = diagnose(VALID.replace('"1.36"', written))
    assert (d.code, d.line) == ("AKM103", 2)
    assert d.hint == f'quote it: "{written.split()[0]}"'


def test_a_name_of_digits_is_quoted_as_written(diagnose):
    [d] = diagnose(VALID.replace("  - name: we\n", "  - name: 08\n"))
    assert (d.code, d.hint) == ("AKM103", 'quote it: "08"')


def test_id_as_string_is_a_type_error(found):
    text = VALID.replace("    id: 2\n", '    id: "2"  # !AKM103\n')
    assert found(text) == expected(text)


def test_enum_violation_suggests_a_value(diagnose):
    [d] = diagnose(VALID.replace("aks:\n", "aks:\n  tier: standard\n"))
    assert (d.code, d.line) == ("AKM104", 19)
    assert "Standard" in d.hint


def test_pattern_violation_on_cluster_name(found):
    text = VALID.replace("  - name: we\n", "  - name: We_1  # !AKM104\n")
    assert found(text) == expected(text)


def test_name_with_path_separators_is_refused(found):
    text = VALID.replace("name: mesh\n", "name: ../evil  # !AKM104\n")
    assert found(text) == expected(text)


def test_range_violations(found):
    text = VALID.replace("    id: 2\n", "    id: 600  # !AKM105\n")
    assert found(text) == expected(text)


def test_one_cluster_is_not_a_mesh(found):
    text = VALID[: VALID.index("  - name: we")].replace("clusters:\n",
                                                       "clusters:  # !AKM105\n")
    assert found(text) == expected(text)


def test_long_cluster_name_is_out_of_range(found):
    text = VALID.replace("  - name: we\n", "  - name: " + "w" * 33 + "  # !AKM105\n")
    assert found(text) == expected(text)


def test_a_name_with_a_trailing_newline_is_refused(diagnose):
    # Python's `$` also matches before a final newline; the topology name becomes a
    # directory name, so the schema must be enforced to the very end of the string.
    [d] = diagnose(VALID.replace("name: mesh\n", 'name: "mesh\\n"\n'))
    assert (d.code, d.line) == ("AKM104", 1)


def test_an_integral_float_is_not_an_integer(found):
    text = VALID.replace("    id: 2\n", "    id: 2.0  # !AKM103\n")
    assert found(text) == expected(text)


def test_gitops_path_may_not_climb_out_of_the_repository(found):
    text = VALID + "gitops:\n  path: ../../elsewhere  # !AKM104\n"
    assert found(text) == expected(text)


def test_admin_groups_are_object_ids(found):
    text = VALID.replace("[00000000-0000-0000-0000-000000000000]", "[cluster-admins]  # !AKM104")
    assert found(text) == expected(text)


def test_a_hybrid_member_needs_its_mesh_ip(found):
    text = VALID.replace(
        "  - name: we\n", "  - name: we  # !AKM102\n    managed: false\n")
    assert found(text) == expected(text)
