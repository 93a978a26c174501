"""The Azure side as ARM will take it: Entra integration, zones, the API server's exposure,
control-plane logs, node disks, the rollout order and the parameters file.

Each test reads the rendered Bicep back through tree-sitter-bicep (as test_bicep_backend
does) or validates an inline topology; each failed on the tree before issue 15: no aadProfile
with `azureRbac: false`, zones 1-3 in every region, public API servers open to all, no logs,
one unordered deployment of every cluster, and no main.bicepparam.
"""

from __future__ import annotations

import shutil
import textwrap

import pytest

from conftest import REFERENCE, VALID, expected, mutate
from generator import compiler, facts
from generator.bicep.lint import shadowed_functions, unused_parameters
from generator.bicep.params import bicepparam_findings, parameter_signatures
from generator.bicep.read import (Expression, declaration_decorators, resource_declarations,
                                  top_level_declarations)
from generator.diagnostics import Severity
from generator.verify import References

TYPES = REFERENCE / "bicep-types"
ACCESS = """\
aks:
  adminGroupObjectIds: [00000000-0000-0000-0000-000000000000]
  authorizedIpRanges: [203.0.113.0/24]
"""


def compile_text(tmp_path, text, references=References(TYPES)):
    path = tmp_path / "mesh.yaml"
    path.write_text(textwrap.dedent(text))
    result = compiler.compile_topology(path, compiler.Options(references=references))
    assert result.ok, [d.format_text() for d in result.diagnostics]
    return result


def with_aks(*lines: str) -> str:
    """VALID with more keys in its aks section."""
    return VALID.replace("aks:\n", "aks:\n" + "".join(f"  {line}\n" for line in lines))


def cluster_body(files):
    return {d.symbol: d for d in resource_declarations(files["bicep/modules/cluster.bicep"])}


def params_of(files, path):
    return {d.name for d in top_level_declarations(files[path]) if d.kind == "parameter"}


# ---------------------------------------------------------------- 1. Entra ID integration


def test_kubernetes_rbac_with_local_accounts_disabled_keeps_entra_integration(tmp_path):
    # AKS refuses disableLocalAccounts without AKS-managed Entra ID integration.
    files = compile_text(tmp_path, with_aks("azureRbac: false")).files
    properties = cluster_body(files)["cluster"].body["properties"]
    assert properties["disableLocalAccounts"] is True
    assert properties["aadProfile"] == {"managed": True, "enableAzureRBAC": False,
                                        "adminGroupObjectIDs": Expression("adminGroupObjectIds")}


def test_local_accounts_without_entra_need_no_admin_groups(tmp_path):
    text = VALID.replace("  adminGroupObjectIds: [00000000-0000-0000-0000-000000000000]\n",
                         "  azureRbac: false\n  disableLocalAccounts: false\n")
    files = compile_text(tmp_path, text).files
    assert "aadProfile" not in cluster_body(files)["cluster"].body["properties"]
    for path in ("bicep/main.bicep", "bicep/modules/cluster-stack.bicep",
                 "bicep/modules/cluster.bicep"):
        assert "adminGroupObjectIds" not in params_of(files, path)
    assert "adminGroupObjectIds" not in files["bicep/main.bicepparam"]


# ---------------------------------------------------------------- 2. availability zones


ZONELESS = mutate(("region: westeurope", "region: ukwest"))


def test_zones_are_decided_per_cluster_by_region(tmp_path):
    result = compile_text(tmp_path, ZONELESS)
    assert [c.zones for c in result.plan.clusters] == [("1", "2", "3"), ()]
    listed = {d.name: d for d in top_level_declarations(result.files["bicep/main.bicep"])
              if d.kind == "variable"}["clusters"].value
    assert [c["zones"] for c in listed] == [["1", "2", "3"], []]
    # The shared module places the cluster's own zones, and none as no zones.
    [pool] = cluster_body(result.files)["cluster"].body["properties"]["agentPoolProfiles"]
    assert pool["availabilityZones"] == Expression(
        "empty(availabilityZones) ? null : availabilityZones")
    assert "'1'" not in result.files["bicep/modules/cluster.bicep"]


def test_a_cluster_can_ask_for_its_own_zones(found, tmp_path):
    text = ZONELESS.replace("    podCidr: 10.120.0.0/16\n",
                            '    podCidr: 10.120.0.0/16\n    zones: ["1"]  # !AKM430\n')
    assert found(text) == expected(text)
    text = ZONELESS + '  systemPool:\n    zones: ["1", "2"]\n'
    text = text.replace("    podCidr: 10.120.0.0/16\n", "    podCidr: 10.120.0.0/16\n    zones: []\n")
    assert [c.zones for c in compile_text(tmp_path, text).plan.clusters] == [("1", "2"), ()]


def test_the_zones_table_covers_every_region():
    assert set(facts.REGION_ZONES) == facts.AZURE_REGIONS
    for region in ("ukwest", "australiasoutheast", "westus"):  # named by the review
        assert facts.REGION_ZONES[region] == ()
    assert facts.REGION_ZONES["northeurope"] == ("1", "2", "3")


# ---------------------------------------------------------------- 4. API server exposure


def test_the_default_api_server_admits_only_the_authorized_ranges(tmp_path):
    files = compile_text(tmp_path, VALID).files
    access = cluster_body(files)["cluster"].body["properties"]["apiServerAccessProfile"]
    assert access == {"enablePrivateCluster": False,
                      "authorizedIPRanges": Expression("authorizedIpRanges")}
    main = parameter_signatures(files["bicep/main.bicep"])
    assert not main["authorizedIpRanges"].has_default
    assert main["authorizedIpRanges"].decorators["minLength"] == 1


def test_opening_the_api_server_is_loud(diagnose, tmp_path):
    text = VALID.replace("  authorizedIpRanges: [203.0.113.0/24]\n",
                         "  unrestrictedApiServer: true  # !AKM433\n")
    findings = diagnose(text)
    assert [(d.code, d.line, d.severity) for d in findings] == [
        (code, line, Severity.WARNING) for code, line in expected(text)]
    assert [d.code for d in diagnose(text, strict=True)] == ["AKM433"]
    files = compile_text(tmp_path, text).files
    access = cluster_body(files)["cluster"].body["properties"]["apiServerAccessProfile"]
    assert access == {"enablePrivateCluster": False}
    assert "authorizedIpRanges" not in files["bicep/main.bicepparam"]


def test_a_private_cluster_declares_no_authorized_ranges(tmp_path):
    # no-unused-params: the parameter used to stay declared, and unused, in every file.
    text = VALID.replace("  authorizedIpRanges: [203.0.113.0/24]\n", "  privateCluster: true\n")
    files = compile_text(tmp_path, text).files
    for path in (p for p in files if p.endswith(".bicep")):
        assert "authorizedIpRanges" not in params_of(files, path), path
        assert unused_parameters(files[path]) == [], path
    access = cluster_body(files)["cluster"].body["properties"]["apiServerAccessProfile"]
    assert access == {"enablePrivateCluster": True}


# ---------------------------------------------------------------- 6. control-plane logs


def test_control_plane_logs_go_to_a_workspace_per_cluster(tmp_path):
    result = compile_text(tmp_path, VALID)
    module = cluster_body(result.files)
    workspace, setting = module["logWorkspace"], module["controlPlaneLogs"]
    assert workspace.body["name"] == Expression("logWorkspaceName")
    assert workspace.body["properties"]["retentionInDays"] == Expression("logRetentionDays")
    assert setting.body["scope"] == Expression("cluster")
    assert setting.body["properties"]["workspaceId"] == Expression("logWorkspace.id")
    assert setting.body["properties"]["logAnalyticsDestinationType"] == "Dedicated"
    categories = [log["category"] for log in setting.body["properties"]["logs"]]
    assert {"kube-audit-admin", "guard"} <= set(categories)
    names = [c.log_workspace_name for c in result.plan.clusters]
    assert len(set(names)) == len(names)
    assert all(len(n) <= facts.MAX_NAME_LENGTH["log analytics workspace"] for n in names)


def test_control_plane_logs_retention_and_opt_out(tmp_path):
    files = compile_text(tmp_path, with_aks("controlPlaneLogs:", "  retentionDays: 90")).files
    assert "param logRetentionDays = 90\n" in files["bicep/main.bicepparam"]
    files = compile_text(tmp_path, with_aks("controlPlaneLogs:", "  enabled: false")).files
    assert {"logWorkspace", "controlPlaneLogs"}.isdisjoint(cluster_body(files))
    assert "logRetentionDays" not in params_of(files, "bicep/main.bicep")
    assert "logRetentionDays" not in files["bicep/main.bicepparam"]


def test_the_log_bodies_are_checked_and_nothing_is_noted(tmp_path):
    # The workspace and diagnostic-setting bodies have shipped type data (no AKM440 note).
    result = compile_text(tmp_path, VALID)
    assert not [d for d in result.diagnostics if d.code == "AKM440"]
    assert "AKM440" not in result.files["README.md"]
    assert "except the bodies of" not in result.files["README.md"]


LOG_TYPES = ("Microsoft.OperationalInsights/workspaces", "Microsoft.Insights/diagnosticSettings")


def test_the_bodies_without_type_data_are_noted(tmp_path, monkeypatch):
    # A synthetic gap: type data without the two log types, which facts says it lacks.
    types = tmp_path / "types"
    shutil.copytree(TYPES, types)
    for namespace in ("microsoft.operationalinsights", "microsoft.insights"):
        shutil.rmtree(types / namespace)
    monkeypatch.setattr(facts, "TYPES_WITHOUT_REFERENCE_DATA", LOG_TYPES)
    result = compile_text(tmp_path, VALID, References(types))
    notes = [d for d in result.diagnostics if d.code == "AKM440"]
    assert sorted(n.message.split()[4].split("@")[0] for n in notes) == sorted(LOG_TYPES)
    assert all(n.severity is Severity.NOTE and n.line > 1 for n in notes)
    readme = result.files["README.md"]
    assert all(t in readme for t in LOG_TYPES) and "note AKM440" in readme


def test_a_body_without_type_data_facts_does_not_declare_is_an_error(tmp_path):
    types = tmp_path / "types"
    shutil.copytree(TYPES, types)
    shutil.rmtree(types / "microsoft.insights")
    path = tmp_path / "mesh.yaml"
    path.write_text(textwrap.dedent(VALID))
    result = compiler.compile_topology(path, compiler.Options(references=References(types)))
    assert not result.ok
    [error] = [d for d in result.diagnostics if d.severity is Severity.ERROR]
    assert error.code == "AKM502" and "Microsoft.Insights/diagnosticSettings" in error.message


# ---------------------------------------------------------------- 7. node disks


def system_pools(files):
    """Each cluster's system pool as main.bicep passes it down to its cluster module."""
    main = {d.name: d for d in top_level_declarations(files["bicep/main.bicep"])
            if d.kind != "output"}
    return {c["name"]: c["systemPool"] for c in main["clusters"].value}


def test_encryption_at_host_and_os_disk_type(tmp_path):
    files = compile_text(tmp_path, VALID).files
    [pool] = cluster_body(files)["cluster"].body["properties"]["agentPoolProfiles"]
    # The pool's settings are the cluster's (per-cluster systemPool): an empty osDiskType
    # is sent as null, which lets AKS pick.
    assert pool["osDiskType"] == Expression(
        "empty(systemPool.osDiskType) ? null : systemPool.osDiskType")
    assert pool["enableEncryptionAtHost"] is False
    assert {p["osDiskType"] for p in system_pools(files).values()} == {""}
    text = with_aks("encryptionAtHost: true", "systemPool:", "  osDiskType: Ephemeral")
    files = compile_text(tmp_path, text).files
    [pool] = cluster_body(files)["cluster"].body["properties"]["agentPoolProfiles"]
    assert pool["enableEncryptionAtHost"] is True
    assert {p["osDiskType"] for p in system_pools(files).values()} == {"Ephemeral"}


def test_a_cluster_may_have_its_own_system_pool(tmp_path):
    text = VALID.replace("    serviceCidr: 10.220.0.0/16\n", "    serviceCidr: 10.220.0.0/16\n"
                         "    systemPool: {vmSize: Standard_D8ds_v5, count: 5, "
                         "osDiskType: Managed}\n")
    files = compile_text(tmp_path, text).files
    pools = system_pools(files)
    assert pools["ne"] == {"vmSize": "Standard_D4ds_v5", "count": 3, "maxPods": 110,
                           "osSku": "AzureLinux", "osDiskType": ""}
    assert pools["we"] == {"vmSize": "Standard_D8ds_v5", "count": 5, "maxPods": 110,
                           "osSku": "AzureLinux", "osDiskType": "Managed"}
    [pool] = cluster_body(files)["cluster"].body["properties"]["agentPoolProfiles"]
    assert (pool["vmSize"], pool["count"]) == (Expression("systemPool.vmSize"),
                                               Expression("systemPool.count"))


# ---------------------------------------------------------------- 8. rollout


def test_cluster_stacks_deploy_one_after_the_other(tmp_path):
    files = compile_text(tmp_path, VALID).files
    main = files["bicep/main.bicep"]
    assert declaration_decorators(main)["clusterStacks"]["batchSize"] == 1
    stacks = {d.name: d for d in top_level_declarations(main)}["clusterStacks"]
    assert stacks.kind == "module" and stacks.loop_over == "clusters"


# ---------------------------------------------------------------- main.bicepparam


def test_main_bicepparam_holds_the_topology_parameters(tmp_path):
    text = with_aks("controlPlaneLogs:", "  retentionDays: 60") + \
        "tags:\n  cost-center: \"42\"\n  owner: it's me\n  note: \"${not} interpolated\"\n"
    result = compile_text(tmp_path, text)
    params = result.files["bicep/main.bicepparam"]
    assert params.splitlines()[5] == "using 'main.bicep'"
    assert bicepparam_findings(params, "main.bicep", result.files["bicep/main.bicep"]) == []
    assert "param adminGroupObjectIds = [\n  '00000000-0000-0000-0000-000000000000'\n]" in params
    assert "param authorizedIpRanges = [\n  '203.0.113.0/24'\n]" in params
    assert "param logRetentionDays = 60\n" in params
    assert "'cost-center': '42'" in params and "'owner': 'it\\'s me'" in params
    assert "'note': '\\${not} interpolated'" in params
    # The deployment location the README and the CI workflow read.
    assert f"// deployment location: {result.plan.deployment_location}\n" in params


@pytest.mark.parametrize("params, problem", [
    ("using 'other.bicep'\nparam tags = {}\nparam n = 40\n", "must start with `using"),
    ("using 'main.bicep'\nparam tags = {}\n", "required parameter `n`"),
    ("using 'main.bicep'\nparam n = 40\nparam tagz = {}\n", "`tagz` is not a parameter"),
    ("using 'main.bicep'\nparam n = 20\n", "below its @minValue(30)"),
    ("using 'main.bicep'\nparam n = '40'\n", "is string, but main.bicep declares int"),
    ("using 'main.bicep'\nparam n = 40\nparam groups = []\n", "below its @minLength(1)"),
    ("using 'main.bicep'\nparam n = [\n", "missing `]`"),
])
def test_the_parameters_file_is_checked_against_main(params, problem):
    main = ("@minValue(30)\nparam n int\nparam tags object = {}\n"
            "@minLength(1)\nparam groups string[] = ['x']\n")
    findings = bicepparam_findings(params, "main.bicep", main)
    assert any(problem in f.message for f in findings), findings


def test_a_bad_parameters_file_stops_the_render(tmp_path, monkeypatch):
    from generator.bicep.verify import verify_bicep_files

    result = compile_text(tmp_path, VALID)
    files = dict(result.files)
    files["bicep/main.bicepparam"] = files["bicep/main.bicepparam"].replace(
        "param logRetentionDays = 30", "param logRetentionDays = 7")
    diagnostics = verify_bicep_files(result.plan, files, None)
    assert "AKM443" in [d.code for d in diagnostics]


# ---------------------------------------------------------------- 9. linter rules


def test_no_symbol_hides_a_function_and_no_parameter_is_unused(tmp_path):
    for text in (VALID, VALID.replace("clusters:\n", "peering: avnm\nclusters:\n")):
        files = compile_text(tmp_path, text).files
        for path in (p for p in files if p.endswith(".bicep")):
            assert shadowed_functions(files[path], facts.BICEP_FUNCTIONS) == [], path
            assert unused_parameters(files[path]) == [], path


def test_the_linter_rules_catch_what_the_review_found():
    text = ("targetScope = 'subscription'\nparam authorizedIpRanges string[]\nparam used string\n"
            "resource resourceGroup 'Microsoft.Resources/resourceGroups@2025-04-01' = {\n"
            "  name: used\n  location: 'x'\n}\n"
            "var names = [for (c, length) in [used]: '${c}-${length}']\n")
    [unused] = unused_parameters(text)
    assert (unused.line, "authorizedIpRanges" in unused.message) == (2, True)
    shadowing = shadowed_functions(text, facts.BICEP_FUNCTIONS)
    assert [(f.line, f.message.split("`")[1]) for f in shadowing] == [
        (4, "resourceGroup"), (8, "length")]


def test_generated_linter_findings_stop_the_render(tmp_path):
    from generator.bicep.verify import verify_bicep_files

    result = compile_text(tmp_path, VALID)
    files = dict(result.files)
    files["bicep/modules/peerings.bicep"] += "\nparam leftOver string\n"
    files["bicep/modules/cluster-stack.bicep"] = files["bicep/modules/cluster-stack.bicep"] \
        .replace("clusterResourceGroup", "resourceGroup")
    codes = [d.code for d in verify_bicep_files(result.plan, files, None)]
    assert {"AKM441", "AKM442"} <= set(codes)


# ---------------------------------------------------------------- the CI workflow


def test_the_ci_what_if_loop_deploys_with_the_parameters_file(tmp_path):
    """docs/ci/aksmesh.yml's what-if step, run by bash over a rendered tree, with `az`
    replaced by a script that records its arguments."""
    import subprocess

    import yaml

    from conftest import PROJECT

    workflow = yaml.safe_load((PROJECT / "docs/ci/aksmesh.yml").read_text())
    [script] = [step["run"] for step in workflow["jobs"]["what-if"]["steps"]
                if step.get("name") == "Preview every deployment"]
    result = compile_text(tmp_path, VALID)
    tree = tmp_path / "repo" / "out" / result.plan.name
    for path, text in result.files.items():
        (tree / path).parent.mkdir(parents=True, exist_ok=True)
        (tree / path).write_text(text)
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    (bin_dir / "az").write_text('#!/bin/sh\necho "$@" >> "$AZ_LOG"\n')
    (bin_dir / "az").chmod(0o755)
    log = tmp_path / "az.log"
    subprocess.run(["bash", "-euo", "pipefail", "-c", script], cwd=tmp_path / "repo",
                   check=True, env={"PATH": f"{bin_dir}:/usr/bin:/bin", "AZ_LOG": str(log)})
    [call] = log.read_text().splitlines()
    assert call.split() == [
        "deployment", "sub", "what-if", "--name", result.plan.name,
        "--location", result.plan.deployment_location,
        "--parameters", f"out/{result.plan.name}//bicep/main.bicepparam"]


def test_the_readme_says_which_options_need_a_feature_registration(tmp_path):
    readme = compile_text(tmp_path, with_aks("encryptionAtHost: true")).files["README.md"]
    namespace, name = facts.ENCRYPTION_AT_HOST_FEATURE
    assert f"az feature register --namespace {namespace} --name {name}" in readme
    readme = compile_text(tmp_path, VALID).files["README.md"]
    assert "az feature register" not in readme and "encryption at host off" in readme
