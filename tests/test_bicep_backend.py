"""The Bicep backend, read back through an independent parser (tree-sitter-bicep).

Facts are asserted on the parsed tree of every rendered file, for a 3- and a 20-cluster
mesh, against the plan, and every body is checked against the Bicep compiler's type data.
"""

from __future__ import annotations

import difflib

import pytest

from conftest import PROJECT, REFERENCE
from generator import compiler, facts
from generator.bicep.params import parameter_signatures
from generator.bicep.read import (Expression, declaration_decorators, resource_declarations,
                                  top_level_declarations)
from generator.bicep.syntax import syntax_errors
from generator.bicep.type_data import TypeLibrary
from generator.bicep.typecheck import verify_bicep
from generator.diagnostics import Severity
from generator.example import example_topology
from generator.verify import References

TYPES = REFERENCE / "bicep-types"


def topology_text(size: int, peering: str = "full-mesh") -> str:
    text = example_topology(size).replace("peering: avnm\n", "")  # its own choice, replaced
    return text.replace("clusters:\n", f"peering: {peering}\nclusters:\n", 1)


@pytest.fixture(scope="module", params=[(3, "full-mesh"), (20, "full-mesh"), (20, "avnm")],
                ids=["3-clusters", "20-clusters", "20-clusters-avnm"])
def rendered(request, tmp_path_factory):
    path = tmp_path_factory.mktemp("bicep") / "mesh.yaml"
    path.write_text(topology_text(*request.param))
    result = compiler.compile_topology(path, compiler.Options(references=References(TYPES)))
    assert result.ok, result.diagnostics
    return result.plan, result.files


def declarations(files, path):
    """Top-level declarations by name; outputs live in their own namespace, so they are left out."""
    return {d.name: d for d in top_level_declarations(files[path]) if d.kind != "output"}


def resources(files, path):
    return {d.symbol: d for d in resource_declarations(files[path])}


def test_every_bicep_file_parses_and_matches_the_type_data(rendered):
    _, files = rendered
    library = TypeLibrary.from_directory(TYPES)
    bicep_files = [p for p in files if p.endswith(".bicep")]
    connectivity = {"full-mesh": "peerings", "avnm": "network-manager"}[rendered[0].peering]
    assert sorted(bicep_files) == ["bicep/main.bicep", "bicep/modules/cluster-stack.bicep",
                                   "bicep/modules/cluster.bicep",
                                   f"bicep/modules/{connectivity}.bicep"]
    for path in bicep_files:
        assert syntax_errors(files[path]) == [], path
        assert [f.message for f in verify_bicep(files[path], library)] == [], path
    # No body is left unchecked: the reference data lacks no type.
    assert facts.TYPES_WITHOUT_REFERENCE_DATA == ()


def test_the_control_plane_log_bodies_are_checked_against_their_type_data(rendered):
    # Their type data came later than the rest (derived from Azure/bicep-types-az itself):
    # the bodies as rendered pass, and a misspelt key in either is found.
    _, files = rendered
    library = TypeLibrary.from_directory(TYPES)
    text = files["bicep/modules/cluster.bicep"]
    types = {d.type for d in resource_declarations(text)}
    assert {"Microsoft.OperationalInsights/workspaces", "Microsoft.Insights/diagnosticSettings"} <= types
    for good, bad in (("    retentionInDays:", "    retentionInDay:"),
                      ("    logAnalyticsDestinationType:", "    logAnalyticsDestinationTyp:"),
                      ("        enabled: true\n", "        enabled: 'true'\n")):
        assert good in text
        [finding] = verify_bicep(text.replace(good, bad, 1), library)
        assert not finding.message.startswith("no type data"), finding.message


def test_every_api_version_has_type_data(rendered):
    _, files = rendered
    library = TypeLibrary.from_directory(TYPES)
    for path in (p for p in files if p.endswith(".bicep")):
        for declaration in resource_declarations(files[path]):
            if declaration.type in facts.TYPES_WITHOUT_REFERENCE_DATA:
                continue
            assert library.resource_type(declaration.type, declaration.api_version), \
                f"{declaration.type}@{declaration.api_version} in {path}"


def test_type_data_exists_exactly_for_the_types_not_said_to_lack_it():
    """Once the reference data holds them, TYPES_WITHOUT_REFERENCE_DATA must shrink."""
    library = TypeLibrary.from_directory(TYPES)
    for type_name, version in facts.API_VERSIONS.items():
        has_data = library.resource_type(type_name, version) is not None
        assert has_data != (type_name in facts.TYPES_WITHOUT_REFERENCE_DATA), type_name


def test_main_lists_every_cluster_with_the_planned_values(rendered):
    plan, files = rendered
    main = declarations(files, "bicep/main.bicep")
    assert main["clusters"].kind == "variable"
    listed = main["clusters"].value
    assert [c["name"] for c in listed] == [c.name for c in plan.clusters]
    for entry, cluster in zip(listed, plan.clusters):
        assert (entry["podCidr"], entry["serviceCidr"], entry["dnsServiceIP"],
                entry["vnetCidr"], entry["nodeSubnetCidr"], entry["location"]) == (
            str(cluster.pod_cidr), str(cluster.service_cidr), str(cluster.dns_service_ip),
            str(cluster.vnet_cidr), str(cluster.node_subnet_cidr), cluster.region)
    prefixes = [c["dnsPrefix"] for c in listed]
    assert len(set(prefixes)) == len(prefixes)


def test_modules_receive_each_cluster_value_by_name(rendered):
    _, files = rendered
    main = declarations(files, "bicep/main.bicep")
    listed = set(main["clusters"].value[0])
    stack_input = main["clusterStacks"].value["params"]["cluster"]
    assert set(stack_input) == listed - {"peeringsDeployment"}
    assert all(value == Expression(f"c.{key}") for key, value in stack_input.items())
    stack = declarations(files, "bicep/modules/cluster-stack.bicep")
    forwarded = stack["resources"].value["params"]
    cluster_params = {d.name for d in top_level_declarations(files["bicep/modules/cluster.bicep"])
                      if d.kind == "parameter"}
    assert set(forwarded) == cluster_params
    for name in ("podCidr", "serviceCidr", "dnsServiceIP", "dnsPrefix", "vnetCidr"):
        assert forwarded[name] == Expression(f"cluster.{name}")
    assert stack["resources"].value["scope"] == Expression("clusterResourceGroup")


def test_cluster_brings_its_own_cni_with_the_planned_ranges(rendered):
    _, files = rendered
    cluster = resources(files, "bicep/modules/cluster.bicep")["cluster"].body
    network = cluster["properties"]["networkProfile"]
    assert network["networkPlugin"] == "none"
    assert (network["podCidr"], network["serviceCidr"], network["dnsServiceIP"]) == (
        Expression("podCidr"), Expression("serviceCidr"), Expression("dnsServiceIP"))
    for unset in ("networkPolicy", "networkDataplane", "networkPluginMode"):
        assert unset not in network
    [pool] = cluster["properties"]["agentPoolProfiles"]
    assert pool["mode"] == "System" and pool["vnetSubnetID"] == Expression("nodeSubnet.id")


def test_secure_defaults(rendered):
    _, files = rendered
    properties = resources(files, "bicep/modules/cluster.bicep")["cluster"].body["properties"]
    assert properties["enableRBAC"] is True and properties["disableLocalAccounts"] is True
    assert properties["aadProfile"]["enableAzureRBAC"] is True
    assert properties["oidcIssuerProfile"]["enabled"] is True
    assert properties["securityProfile"]["workloadIdentity"]["enabled"] is True
    assert properties["addonProfiles"]["azurepolicy"]["enabled"] is True
    assert properties["autoUpgradeProfile"]["upgradeChannel"] == "patch"
    # No public API server open to all, an admin group required, control-plane logs sent,
    # cluster stacks deployed one at a time.
    assert properties["apiServerAccessProfile"]["authorizedIPRanges"] == Expression(
        "authorizedIpRanges")
    main = parameter_signatures(files["bicep/main.bicep"])
    assert main["adminGroupObjectIds"].decorators.get("minLength") == 1
    assert main["authorizedIpRanges"].decorators.get("minLength") == 1
    assert not (main["adminGroupObjectIds"].has_default or main["authorizedIpRanges"].has_default)
    logs = resources(files, "bicep/modules/cluster.bicep")["controlPlaneLogs"].body
    assert {"kube-audit-admin", "guard"} <= {log["category"] for log in logs["properties"]["logs"]}
    assert declaration_decorators(files["bicep/main.bicep"])["clusterStacks"] == {"batchSize": 1}


def test_role_assignment_exists_before_the_cluster(rendered):
    _, files = rendered
    module = resources(files, "bicep/modules/cluster.bicep")
    assignment = module["subnetNetworkContributor"].body
    assert assignment["scope"] == Expression("nodeSubnet")
    assert assignment["properties"]["principalId"] == Expression(
        "controlPlaneIdentity.properties.principalId")
    assert "4d97b98b-1d4f-4787-a291-c67834d212e7" in files["bicep/modules/cluster.bicep"]
    cluster = module["cluster"].body
    assert cluster["identity"]["type"] == "UserAssigned"
    assert Expression("subnetNetworkContributor") in cluster["dependsOn"]


def test_full_mesh_peering_after_every_vnet(rendered):
    plan, files = rendered
    if plan.peering != "full-mesh":
        pytest.skip("this mesh is connected by Azure Virtual Network Manager")
    main = declarations(files, "bicep/main.bicep")
    peerings_module = main["peeringDeployments"]
    assert peerings_module.loop_over == "clusters"
    assert Expression("clusterStacks") in peerings_module.value["dependsOn"]
    peerings = declarations(files, "bicep/modules/peerings.bicep")["peerings"]
    # Each cluster's module loops over the whole mesh and skips its own VNet.
    assert peerings.loop_over == "mesh"
    assert peerings.condition == "peer.vnetName != localVnetName"
    assert peerings.value["name"] == Expression("peer.vnetName")
    vnets = [c["vnetName"] for c in main["clusters"].value]
    # (VNet the peering is created in, its name): the plan's peerings, as Azure names them.
    created = {(local, remote) for local in vnets for remote in vnets if remote != local}
    vnet_of = {c.name: c.vnet_name for c in plan.clusters}
    assert created == {(vnet_of[p.local], p.name) for p in plan.peerings}
    assert len(created) == len(plan.peerings) == len(plan.clusters) * (len(plan.clusters) - 1)
    properties = peerings.value["properties"]
    assert properties["allowVirtualNetworkAccess"] is True
    # VXLAN runs between node IPs of the peered VNets: nothing is forwarded.
    assert "allowForwardedTraffic" not in properties
    # The remote VNet by id, without an `existing` resource per peer.
    assert properties["remoteVirtualNetwork"]["id"] == Expression(
        "resourceId(peer.resourceGroup, 'Microsoft.Network/virtualNetworks', peer.vnetName)")
    module = resources(files, "bicep/modules/peerings.bicep")
    assert [d.symbol for d in module.values() if d.existing] == ["localVnet"]


def test_avnm_mesh_holds_every_vnet_and_is_committed(rendered):
    plan, files = rendered
    if plan.peering != "avnm":
        pytest.skip("this mesh is connected by VNet peerings")
    main = declarations(files, "bicep/main.bicep")
    module = main["networkManager"]
    assert Expression("clusterStacks") in module.value["dependsOn"]
    assert module.value["params"]["regions"] == sorted({c.region for c in plan.clusters})
    manager = declarations(files, "bicep/modules/network-manager.bicep")
    assert manager["members"].loop_over == "mesh" and manager["members"].condition is None
    config = manager["meshConnectivity"].value["properties"]
    assert (config["connectivityTopology"], config["isGlobal"]) == ("Mesh", "True")
    [group] = config["appliesToGroups"]
    assert group["networkGroupId"] == Expression("meshGroup.id")
    # The commit is declared (networkManagers/commits), not a deployment script on an
    # Azure CLI without the virtual-network-manager extension.
    module = resources(files, "bicep/modules/network-manager.bicep")
    commit = module["commit"]
    assert (commit.type, commit.api_version) == (
        "Microsoft.Network/networkManagers/commits",
        facts.API_VERSIONS["Microsoft.Network/networkManagers/commits"])
    assert commit.body["parent"] == Expression("networkManager")
    assert commit.body["properties"]["commitType"] == "Connectivity"
    assert commit.body["properties"]["configurationIds"] == [Expression("meshConnectivity.id")]
    assert commit.body["properties"]["targetLocations"] == Expression("regions")
    assert {d.type for d in module.values()} == {
        "Microsoft.Network/networkManagers", "Microsoft.Network/networkManagers/networkGroups",
        "Microsoft.Network/networkManagers/networkGroups/staticMembers",
        "Microsoft.Network/networkManagers/connectivityConfigurations",
        "Microsoft.Network/networkManagers/commits"}
    assert manager["members"].value["properties"]["resourceId"] == Expression(
        "resourceId(member.resourceGroup, 'Microsoft.Network/virtualNetworks', member.vnetName)")


def test_arm_limits_hold(rendered):
    plan, files = rendered
    main = declarations(files, "bicep/main.bicep")
    deployed = [d for d in main.values() if d.kind in ("resource", "module")]
    count = sum(len(plan.clusters) if d.loop_over == "clusters" else 1 for d in deployed)
    per_cluster, fixed = facts.MAIN_TEMPLATE_RESOURCES[plan.peering]
    assert count == per_cluster * len(plan.clusters) + fixed
    for path in (p for p in files if p.endswith(".bicep")):
        declared = top_level_declarations(files[path])
        # Loops in modules run over the mesh: at most one resource per cluster each.
        resources = sum(len(plan.clusters) if d.loop_over else 1 for d in declared
                        if d.kind in ("resource", "module"))
        assert resources <= facts.MAX_RESOURCES_PER_TEMPLATE, path
        assert len([d for d in declared if d.kind == "parameter"]) <= 256
        assert len(files[path].encode()) < 4 * 1024 * 1024
    names = [c[key] for c in main["clusters"].value
             for key in ("clusterDeployment", "peeringsDeployment")]
    assert max(map(len, names)) <= 64 and len(set(names)) == len(names)


def test_adding_a_cluster_changes_only_what_it_must(tmp_path):
    def bicep(size):
        path = tmp_path / f"mesh-{size}.yaml"
        path.write_text(example_topology(size, name="mesh"))
        return compiler.compile_topology(path).files

    before, after = bicep(3), bicep(4)
    for module in ("cluster-stack", "cluster", "peerings"):
        path = f"bicep/modules/{module}.bicep"
        assert before[path] == after[path]
    old, new = before["bicep/main.bicep"].splitlines(), after["bicep/main.bicep"].splitlines()
    changes = [op for op in difflib.SequenceMatcher(a=old, b=new).get_opcodes() if op[0] != "equal"]
    # Lines were only inserted: the new cluster's entry, and its node subnet and VNet in
    # the lists the network security groups read. Nothing changed or removed.
    assert {tag for tag, *_ in changes} == {"insert"}
    inserted = ["\n".join(new[first:last]) for _, _, _, first, last in changes]
    vnet = after["bicep/main.bicep"].split("name: 'c004'")[1].split("vnetCidr: '")[1].split("'")[0]
    assert len(inserted) == 3 and "name: 'c004'" in inserted[0]
    assert inserted[2].strip() == f"'{vnet}'"


def test_render_checks_bodies_against_the_shipped_type_data(tmp_path, monkeypatch):
    # No --bicep-types: the shipped data is used, so an outdated table stops the render.
    path = tmp_path / "mesh.yaml"
    path.write_text(example_topology(2))
    result = compiler.compile_topology(path)
    assert result.ok and [d.code for d in result.diagnostics] == ["AKM601"]  # no CA here
    monkeypatch.setitem(facts.API_VERSIONS, "Microsoft.Network/virtualNetworks", "2019-01-01")
    found = compiler.compile_topology(path).diagnostics
    bodies = [d for d in found if d.code != "AKM601"]
    assert bodies and all(d.code == "AKM502" and "no type data for Microsoft.Network/"
                          "virtualNetworks@2019-01-01" in d.message for d in bodies)


def test_a_type_data_violation_stops_the_render(tmp_path, monkeypatch):
    # An API version without type data is what an outdated table would produce.
    monkeypatch.setitem(facts.API_VERSIONS, "Microsoft.Network/virtualNetworks", "2019-01-01")
    path = tmp_path / "mesh.yaml"
    path.write_text(example_topology(2))
    result = compiler.compile_topology(path, compiler.Options(references=References(TYPES)))
    assert not result.ok and result.files is None
    errors = {d.code for d in result.diagnostics if d.severity is Severity.ERROR}
    assert errors == {"AKM502"}


def test_broken_bicep_is_akm501(monkeypatch, tmp_path):
    from generator.bicep.verify import verify_bicep_files

    path = tmp_path / "mesh.yaml"
    path.write_text(example_topology(2))
    plan = compiler.validate(path).plan
    diagnostics = verify_bicep_files(plan, {"bicep/main.bicep": "resource x 'a@b' = {\n"},
                                            None)
    assert [d.code for d in diagnostics][:1] == ["AKM501"]


@pytest.mark.parametrize("size, peering, codes", [
    (400, "full-mesh", []),
    (401, "full-mesh", ["AKM405"]),
    (502, "full-mesh", ["AKM403", "AKM405"]),
    (250, "avnm", []),
    (511, "avnm", ["AKM406"]),
])
def test_the_checks_say_when_full_mesh_stops_working(tmp_path, size, peering, codes):
    path = tmp_path / "mesh.yaml"
    path.write_text(topology_text(size, peering))
    diagnostics = compiler.validate(path).diagnostics
    assert [d.code for d in diagnostics] == codes
    assert all("peering: avnm" in d.hint for d in diagnostics if d.code in ("AKM403", "AKM405"))
