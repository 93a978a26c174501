"""generator.bicep: tree-sitter syntax checks and body checks against the real bicep-types-az data.

Every expectation about the type data is first asserted against the types.json files
themselves (`prop()`), so a test states which fact of the data it relies on.
"""

from __future__ import annotations

import json
import textwrap
from functools import cache
from pathlib import Path
from typing import Any

import pytest

from conftest import REFERENCE

from generator.bicep.read import Expression, resource_declarations
from generator.bicep.syntax import syntax_errors
from generator.bicep.type_data import TypeLibrary
from generator.bicep.typecheck import check_body, verify_bicep
from generator.diagnostics import Diagnostic

# The shipped type data, plus the few types aksmesh does not emit that these tests need.
TYPES = REFERENCE / "bicep-types-tests"

AKS = "Microsoft.ContainerService/managedClusters@2026-05-01"
VNET = "Microsoft.Network/virtualNetworks@2025-09-01"


@pytest.fixture(scope="module")
def library() -> TypeLibrary:
    return TypeLibrary.from_directory(TYPES)


# --------------------------------------------------------------------------- helpers


@cache
def _types(namespace: str, version: str) -> list[dict[str, Any]]:
    return json.loads((TYPES / namespace.lower() / version / "types.json").read_text(encoding="utf-8"))


def prop(resource: str, *path: str) -> tuple[int, dict[str, Any]]:
    """(flags, type) of a property in the raw data; array item types are entered by '[]'."""
    type_name, version = resource.split("@")
    types = _types(type_name.split("/")[0], version)
    current = next(t for t in types if t["$type"] == "ResourceType" and t["name"] == resource)
    current = types[int(current["body"]["$ref"][2:])]
    flags = 0
    for key in path:
        if key == "[]":
            current = types[int(current["itemType"]["$ref"][2:])]
            continue
        entry = current["properties"][key]
        flags, current = entry["flags"], types[int(entry["type"]["$ref"][2:])]
    return flags, current


def bicep(text: str) -> str:
    return textwrap.dedent(text).lstrip("\n")


def at(text: str, needle: str, nth: int = 0) -> tuple[int, int]:
    """1-based (line, col) of the nth occurrence of `needle` in `text`."""
    index = -1
    for _ in range(nth + 1):
        index = text.index(needle, index + 1)
    line = text.count("\n", 0, index) + 1
    return line, index - (text.rfind("\n", 0, index) + 1) + 1


def where(findings: list[Diagnostic]) -> list[tuple[int, int]]:
    return [(f.line, f.col) for f in findings]


def aks(properties: str = "", top: str = "") -> str:
    """A valid managedClusters declaration with extra lines in the body and in `properties`."""
    return bicep(
        f"""
        param location string
        resource aks '{AKS}' = {{
          name: 'aks-weu-1'
          location: location
        {textwrap.indent(textwrap.dedent(top).strip(), "  ")}
          properties: {{
            dnsPrefix: 'aks-weu-1'
        {textwrap.indent(textwrap.dedent(properties).strip(), "    ")}
          }}
        }}
        """
    )


CLEAN = bicep(
    """
    targetScope = 'resourceGroup'

    @description('Azure region')
    param location string = resourceGroup().location
    param clusterName string = 'aks-weu-1'
    param nodeCount int = 3
    param extraSubnets array = []

    var networkContributor = subscriptionResourceId('Microsoft.Authorization/roleDefinitions', '4d97b98b-1d4f-4787-a291-c67834d212e7')

    resource uami 'Microsoft.ManagedIdentity/userAssignedIdentities@2024-11-30' = {
      name: 'id-${clusterName}'
      location: location
      tags: {
        'owner-team': 'platform'
      }
    }

    resource nsg 'Microsoft.Network/networkSecurityGroups@2025-09-01' = {
      name: 'nsg-${clusterName}'
      location: location
      properties: {
        securityRules: [
          {
            name: 'allow-clustermesh'
            properties: {
              priority: 100
              direction: 'Inbound'
              access: 'Allow'
              protocol: 'Tcp'
              sourceAddressPrefix: 'VirtualNetwork'
              sourcePortRange: '*'
              destinationAddressPrefix: 'VirtualNetwork'
              destinationPortRanges: [
                '2379'
                '4240'
              ]
            }
          }
        ]
      }
    }

    resource vnet 'Microsoft.Network/virtualNetworks@2025-09-01' = {
      name: 'vnet-${clusterName}'
      location: location
      properties: {
        addressSpace: {
          addressPrefixes: [
            '10.10.0.0/16'
          ]
        }
        subnets: [
          {
            name: 'nodes'
            properties: {
              addressPrefix: '10.10.0.0/20'
              networkSecurityGroup: {
                id: nsg.id
              }
            }
          }
        ]
      }
    }

    resource subnet 'Microsoft.Network/virtualNetworks/subnets@2025-09-01' existing = {
      parent: vnet
      name: 'nodes'
    }

    resource extra 'Microsoft.Network/virtualNetworks/subnets@2025-09-01' = [for (s, i) in extraSubnets: if (i > 0) {
      parent: vnet
      name: s.name
      properties: {
        addressPrefix: s.prefix
      }
    }]

    resource peering 'Microsoft.Network/virtualNetworks/virtualNetworkPeerings@2025-09-01' = {
      parent: vnet
      name: 'to-hub'
      properties: {
        allowVirtualNetworkAccess: true
        useRemoteGateways: false
        remoteVirtualNetwork: {
          id: resourceId('Microsoft.Network/virtualNetworks', 'vnet-hub')
        }
      }
    }

    resource aks 'Microsoft.ContainerService/managedClusters@2026-05-01' = {
      name: clusterName
      location: location
      identity: {
        type: 'UserAssigned'
        userAssignedIdentities: {
          '${uami.id}': {}
        }
      }
      sku: {
        name: 'Base'
        tier: 'Standard'
      }
      properties: {
        dnsPrefix: clusterName
        kubernetesVersion: '1.33'
        enableRBAC: true
        disableLocalAccounts: true
        aadProfile: {
          managed: true
          enableAzureRBAC: true
        }
        oidcIssuerProfile: {
          enabled: true
        }
        agentPoolProfiles: [
          {
            name: 'system'
            mode: 'System'
            count: nodeCount
            vmSize: 'Standard_D4ds_v5'
            osSKU: 'AzureLinux'
            vnetSubnetID: subnet.id
            availabilityZones: [
              '1'
              '2'
            ]
          }
        ]
        networkProfile: {
          networkPlugin: 'none'
          podCidr: '10.244.0.0/16'
          serviceCidr: '10.0.0.0/16'
          dnsServiceIP: '10.0.0.10'
        }
      }
    }

    resource pool 'Microsoft.ContainerService/managedClusters/agentPools@2026-05-01' = {
      parent: aks
      name: 'user1'
      properties: {
        mode: 'User'
        count: 2
      }
    }

    resource script 'Microsoft.Resources/deploymentScripts@2023-08-01' = {
      name: 'wait-for-mesh'
      location: location
      kind: 'AzureCLI'
      properties: {
        azCliVersion: '2.60.0'
        retentionInterval: 'PT1H'
        scriptContent: '''
    set -e
    echo "it's ready"
    '''
      }
    }

    module flux './flux.bicep' = {
      name: 'flux'
      params: {
        clusterName: aks.name
      }
    }
    """
)


# --------------------------------------------------------------------------- syntax


def test_clean_file_has_no_findings(library):
    assert syntax_errors(CLEAN) == []
    assert verify_bicep(CLEAN, library) == []


def test_missing_closing_brace_points_at_the_unclosed_brace():
    text = bicep(
        f"""
        resource vnet '{VNET}' = {{
          name: 'vnet'
          properties: {{
            enableDdosProtection: false
          }}
        """
    )
    [finding] = syntax_errors(text)
    assert (finding.line, finding.col) == at(text, "{")
    assert finding.message == "missing `}`"


def test_missing_closing_bracket_is_a_missing_node():
    text = bicep(
        """
        var a = 1
        resource x 'A/b@1' = {
          name: 'x'
          list: [
            1
        }
        var z = 1
        """
    )
    findings = syntax_errors(text)
    assert [f.message for f in findings] == ["missing `]`"]
    assert findings[0].line == 5


def test_stray_token_is_located():
    text = bicep(
        """
        resource x 'A/b@1' = {
          name: 'x'
          count: 1 2
        }
        """
    )
    [finding] = syntax_errors(text)
    assert (finding.line, finding.col) == at(text, "2")
    assert finding.message == "syntax error near `2`"


def test_stray_closing_brace_is_located():
    text = bicep(
        """
        var a = 1
        resource x 'A/b@1' = {
          name: 'x'
        }
        }
        var c = 3
        """
    )
    assert where(syntax_errors(text)) == [(5, 1)]


def test_unterminated_string_is_a_missing_quote():
    assert [f.message for f in syntax_errors("var a = 'abc\nvar b = 2\n")] == ["missing `'`"]


def test_syntax_errors_suppress_body_checks(library):
    text = aks(properties="enableRBAC: 'yes'") + "var broken = (\n"
    findings = verify_bicep(text, library)
    assert findings and all("expected bool" not in f.message for f in findings)


def test_columns_count_characters_not_bytes(library):
    text = bicep(
        f"""
        resource vnet '{VNET}' = {{
          name: 'vnet'
          tags: {{ note: 'ünïcödé', 'x': 1 }}
        }}
        """
    )
    [finding] = verify_bicep(text, library)
    assert (finding.line, finding.col) == at(text, "'x'")


# --------------------------------------------------------------------------- declarations


def test_declarations_convert_bodies_to_python_data():
    text = bicep(
        """
        param p string
        @batchSize(1)
        resource r 'Microsoft.Network/virtualNetworks@2025-09-01' = {
          name: 'a\\'b\\n\\u{41}\\${x}'
          n: -5
          t: true
          f: false
          z: null
          arr: [
            1
            'two'
          ]
          obj: { k: 'v', 'quoted-key': 2 }
          ref: p
          prop: other.id
          call: resourceId('x', 'y')
          interp: 'vnet-${p}'
          cond: p == 'a' ? 1 : 2
          multi: '''
        line1
        line2'''
        }
        """
    )
    [decl] = resource_declarations(text)
    assert (decl.symbol, decl.type, decl.api_version, decl.existing) == (
        "r",
        "Microsoft.Network/virtualNetworks",
        "2025-09-01",
        False,
    )
    assert (decl.line, decl.col) == at(text, "resource r")
    assert decl.body == {
        "name": "a'b\nA${x}",
        "n": -5,
        "t": True,
        "f": False,
        "z": None,
        "arr": [1, "two"],
        "obj": {"k": "v", "quoted-key": 2},
        "ref": Expression("p"),
        "prop": Expression("other.id"),
        "call": Expression("resourceId('x', 'y')"),
        "interp": Expression("'vnet-${p}'"),
        "cond": Expression("p == 'a' ? 1 : 2"),
        "multi": "line1\nline2",
    }
    assert decl.body_positions[("obj", "quoted-key")] == at(text, "'quoted-key'")
    assert decl.body_positions[("arr", 1)] == at(text, "'two'")


def test_declarations_unwrap_conditions_and_loops_and_nesting():
    text = bicep(
        f"""
        resource a '{VNET}' = if (deploy) {{
          name: 'a'
          resource sub 'subnets' = {{
            name: 's'
          }}
        }}
        resource b '{VNET}' = [for x in xs: {{
          name: x
        }}]
        resource c '{VNET}' = [for (x, i) in xs: if (i > 0) {{
          name: x
        }}]
        resource d '{VNET}' existing = {{
          name: 'd'
        }}
        module m './m.bicep' = {{
          name: 'm'
        }}
        """
    )
    decls = resource_declarations(text)
    assert [(d.symbol, d.type, d.api_version, d.existing) for d in decls] == [
        ("a", "Microsoft.Network/virtualNetworks", "2025-09-01", False),
        ("sub", "Microsoft.Network/virtualNetworks/subnets", "2025-09-01", False),
        ("b", "Microsoft.Network/virtualNetworks", "2025-09-01", False),
        ("c", "Microsoft.Network/virtualNetworks", "2025-09-01", False),
        ("d", "Microsoft.Network/virtualNetworks", "2025-09-01", True),
    ]
    assert decls[0].body == {"name": "a"}  # the nested declaration is not a property
    assert decls[2].body == {"name": Expression("x")}


# --------------------------------------------------------------------------- body checks


def test_misspelled_property_gets_a_hint(library):
    assert "addressSpace" in prop(VNET, "properties")[1]["properties"]
    text = bicep(
        f"""
        resource vnet '{VNET}' = {{
          name: 'vnet'
          properties: {{
            addresSpace: {{
              addressPrefixes: [
                '10.0.0.0/16'
              ]
            }}
          }}
        }}
        """
    )
    [finding] = verify_bicep(text, library)
    assert (finding.line, finding.col) == at(text, "addresSpace") == (4, 5)
    assert finding.message == "unknown property `addresSpace` in `properties`"
    assert "`addressSpace`" in finding.hint


def test_property_names_are_case_sensitive(library):
    assert prop(AKS, "location")[0] == 1  # required, so the misspelling also misses it
    text = aks().replace("  location: location", "  Location: location")
    findings = verify_bicep(text, library)
    unknown = [f for f in findings if f.message == "unknown property `Location`"]
    assert where(unknown) == [at(text, "Location")]
    assert "`location`" in unknown[0].hint
    assert any(f.message == "missing required property `location`" for f in findings)


def test_read_only_property_is_reported(library):
    assert prop(AKS, "properties", "provisioningState")[0] & 2
    text = aks(properties="provisioningState: 'Succeeded'")
    [finding] = verify_bicep(text, library)
    assert (finding.line, finding.col) == at(text, "provisioningState")
    assert "read-only" in finding.message


@pytest.mark.parametrize("key", ["id", "type", "apiVersion", "systemData"])
def test_top_level_read_only_keys(library, key):
    assert prop(AKS, key)[0] & 2
    text = aks(top=f"{key}: 'x'")
    assert [f.message for f in verify_bicep(text, library)] == [f"`{key}` is read-only and cannot be set"]


def test_wrong_scalar_types(library):
    assert prop(AKS, "properties", "enableRBAC")[1]["$type"] == "BooleanType"
    assert prop(AKS, "properties", "agentPoolProfiles", "[]", "count")[1]["$type"] == "IntegerType"
    text = aks(
        properties="""
        enableRBAC: 'yes'
        agentPoolProfiles: [
          {
            name: 'system'
            count: '3'
          }
        ]
        """
    )
    findings = verify_bicep(text, library)
    assert [(f.line, f.col, f.message) for f in findings] == [
        (*at(text, "enableRBAC"), "`properties.enableRBAC`: expected bool, got string"),
        (*at(text, "count"), "`properties.agentPoolProfiles[0].count`: expected int, got string"),
    ]


def test_object_and_array_kinds(library):
    text = aks(properties="agentPoolProfiles: { name: 'system' }\nnetworkProfile: []")
    assert [f.message for f in verify_bicep(text, library)] == [
        "`properties.agentPoolProfiles`: expected array, got object",
        "`properties.networkProfile`: expected object, got array",
    ]


def test_missing_required_property_points_at_the_declaration(library):
    assert prop(AKS, "location")[0] == 1
    assert prop(AKS, "name")[0] == 9  # Required | DeployTimeConstant
    text = bicep(
        f"""
        resource aks '{AKS}' = {{
          properties: {{}}
        }}
        """
    )
    findings = verify_bicep(text, library)
    assert sorted(f.message for f in findings) == [
        "missing required property `location`",
        "missing required property `name`",
    ]
    assert set(where(findings)) == {(1, 1)}


def test_missing_required_property_in_a_nested_object(library):
    assert prop(AKS, "properties", "agentPoolProfiles", "[]", "name")[0] == 1
    text = aks(properties="agentPoolProfiles: [\n  {\n    count: 1\n  }\n]")
    [finding] = verify_bicep(text, library)
    assert finding.message == "missing required property `name` in `properties.agentPoolProfiles[0]`"
    assert (finding.line, finding.col) == at(text, "{", nth=2)


def test_required_and_read_only_is_read_only(library):
    # flags 3 (Required|ReadOnly) occurs in the network data: neither required nor settable
    resource = "Microsoft.Network/expressRouteLags@2025-09-01"
    assert prop(resource, "properties", "links", "[]", "name")[0] == 3
    text = bicep(
        f"""
        resource lag '{resource}' = {{
          name: 'lag'
          properties: {{
            links: [
              {{
                properties: {{}}
              }}
              {{
                name: 'link2'
              }}
            ]
          }}
        }}
        """
    )
    [finding] = verify_bicep(text, library)
    assert finding.message == "`properties.links[1].name` is read-only and cannot be set"
    assert (finding.line, finding.col) == at(text, "name: 'link2'")


def test_cluster_name_pattern_and_length(library):
    _, name_type = prop(AKS, "name")
    assert name_type["pattern"] == "^[a-zA-Z0-9]$|^[a-zA-Z0-9][-_a-zA-Z0-9]{0,61}[a-zA-Z0-9]$"
    assert name_type["maxLength"] == 63
    bad = aks().replace("name: 'aks-weu-1'", "name: '-aks-'")
    [finding] = verify_bicep(bad, library)
    assert (finding.line, finding.col) == at(bad, "name")
    assert "does not match the pattern" in finding.message
    long = aks().replace("name: 'aks-weu-1'", f"name: '{'a' * 64}'")
    assert [f.message for f in verify_bicep(long, library)] == [f"`name`: '{'a' * 64}' is longer than 63 characters"]


def test_agent_pool_name_pattern_and_integer_bounds(library):
    assert prop(AKS, "properties", "agentPoolProfiles", "[]", "name")[1]["pattern"] == "^[a-z][a-z0-9]{0,11}$"
    assert prop(AKS, "properties", "agentPoolProfiles", "[]", "osDiskSizeGB")[1] == {
        "$type": "IntegerType",
        "minValue": 0,
        "maxValue": 2048,
    }
    text = aks(
        properties="""
        agentPoolProfiles: [
          {
            name: 'System-Pool'
            osDiskSizeGB: 4096
          }
          {
            name: 'user'
            osDiskSizeGB: -1
          }
        ]
        """
    )
    assert [(f.line, f.message) for f in verify_bicep(text, library)] == [
        (at(text, "'System-Pool'")[0], "`properties.agentPoolProfiles[0].name`: 'System-Pool' does not match the pattern `^[a-z][a-z0-9]{0,11}$`"),
        (at(text, "4096")[0], "`properties.agentPoolProfiles[0].osDiskSizeGB`: 4096 is above the maximum 2048"),
        (at(text, "osDiskSizeGB: -1")[0], "`properties.agentPoolProfiles[1].osDiskSizeGB`: -1 is below the minimum 0"),
    ]


def test_array_length_bound(library):
    assert prop(AKS, "properties", "serviceMeshProfile", "istio", "revisions")[1]["maxLength"] == 2
    text = aks(
        properties="serviceMeshProfile: {\n  mode: 'Istio'\n  istio: {\n    revisions: ['asm-1-25', 'asm-1-26', 'asm-1-27']\n  }\n}"
    )
    [finding] = verify_bicep(text, library)
    assert finding.message == "`properties.serviceMeshProfile.istio.revisions` has 3 items, more than 2"
    assert (finding.line, finding.col) == at(text, "revisions")


def test_closed_enum_rejects_other_values(library):
    resource = "Microsoft.Network/publicIPAddresses@2025-09-01"
    scope_type = prop(resource, "properties", "dnsSettings", "domainNameLabelScope")[1]
    members = [_types("Microsoft.Network", "2025-09-01")[int(e["$ref"][2:])] for e in scope_type["elements"]]
    assert {m["$type"] for m in members} == {"StringLiteralType"}  # closed: no plain string member
    text = bicep(
        f"""
        resource pip '{resource}' = {{
          name: 'pip'
          properties: {{
            dnsSettings: {{
              domainNameLabelScope: 'NoReuses'
            }}
          }}
        }}
        """
    )
    [finding] = verify_bicep(text, library)
    assert (finding.line, finding.col) == at(text, "domainNameLabelScope")
    assert "'NoReuses' is not one of" in finding.message
    assert finding.hint == "did you mean `NoReuse`?"


def test_open_enum_accepts_any_string(library):
    plugin = prop(AKS, "properties", "networkProfile", "networkPlugin")[1]
    types = _types("Microsoft.ContainerService", "2026-05-01")
    assert any(types[int(e["$ref"][2:])]["$type"] == "StringType" for e in plugin["elements"])
    assert verify_bicep(aks(properties="networkProfile: { networkPlugin: 'someday' }"), library) == []


def test_union_reports_the_kind_mismatch(library):
    text = aks(properties="networkProfile: { networkPlugin: 3 }")
    [finding] = verify_bicep(text, library)
    assert finding.message == "`properties.networkProfile.networkPlugin`: expected 'azure' | 'kubenet' | 'none' | string, got int"


def test_expressions_are_accepted_anywhere(library):
    text = bicep(
        f"""
        param location string
        param suffix string
        param count int
        param zones array
        param rbac bool
        resource uami 'Microsoft.ManagedIdentity/userAssignedIdentities@2024-11-30' existing = {{
          name: 'id'
        }}
        resource aks '{AKS}' = {{
          name: 'aks-${{suffix}}'
          location: location
          identity: {{
            type: 'UserAssigned'
            userAssignedIdentities: {{
              '${{uami.id}}': {{}}
            }}
          }}
          properties: {{
            dnsPrefix: toLower(suffix)
            enableRBAC: rbac
            disableLocalAccounts: !rbac
            agentPoolProfiles: [
              {{
                name: suffix
                count: count
                osDiskSizeGB: count * 1000
                availabilityZones: zones
                vnetSubnetID: resourceId('Microsoft.Network/virtualNetworks/subnets', 'vnet', 'nodes')
              }}
            ]
            networkProfile: rbac ? {{ networkPlugin: 'none' }} : {{ networkPlugin: 1 }}
          }}
        }}
        """
    )
    assert verify_bicep(text, library) == []


def test_resources_in_loops_and_conditions_are_checked(library):
    text = bicep(
        f"""
        resource a '{VNET}' = [for x in xs: {{
          name: x
          properties: {{
            enableDdosProtecton: true
          }}
        }}]
        resource b '{VNET}' = if (deploy) {{
          name: 'b'
          properties: {{
            flowTimeoutInMinutes: '10'
          }}
        }}
        resource c '{VNET}' = [for (x, i) in xs: if (i > 0) {{
          name: x
          properties: {{
            provisioningState: 'Succeeded'
          }}
        }}]
        """
    )
    assert where(verify_bicep(text, library)) == [
        at(text, "enableDdosProtecton"),
        at(text, "flowTimeoutInMinutes"),
        at(text, "provisioningState"),
    ]


def test_nested_child_declaration_is_checked(library):
    text = bicep(
        f"""
        resource vnet '{VNET}' = {{
          name: 'vnet'
          resource nodes 'subnets' = {{
            name: 'nodes'
            properties: {{
              addresPrefix: '10.0.0.0/24'
            }}
          }}
        }}
        """
    )
    [finding] = verify_bicep(text, library)
    assert (finding.line, finding.col) == at(text, "addresPrefix")
    assert "`addressPrefix`" in finding.hint


def test_unknown_api_version_is_bcp081(library):
    text = bicep(
        """
        resource vnet 'Microsoft.Network/virtualNetworks@2026-01-01' = {
          name: 'vnet'
          whatever: 1
        }
        resource aks 'Microsoft.ContainerService/managedClusters@2026-08-01' existing = {
          name: 'aks'
        }
        """
    )
    findings = verify_bicep(text, library)
    assert [(f.line, f.col) for f in findings] == [(1, 1), (5, 1)]
    assert findings[0].message == (
        "no type data for Microsoft.Network/virtualNetworks@2026-01-01: "
        "the Bicep compiler would not check this body (BCP081)"
    )
    assert "managedClusters@2026-08-01" in findings[1].message


def test_unknown_type_in_a_known_version_is_bcp081(library):
    text = bicep(
        """
        resource x 'Microsoft.Network/virtualNetworkz@2025-09-01' = {
          name: 'x'
        }
        """
    )
    assert ["BCP081" in f.message for f in verify_bicep(text, library)] == [True]


def test_type_names_are_matched_case_insensitively(library):
    # the data spells it `ExpressRoutePorts`
    assert any(t.get("name") == "Microsoft.Network/ExpressRoutePorts@2025-09-01" for t in _types("Microsoft.Network", "2025-09-01"))
    text = bicep(
        """
        resource port 'Microsoft.Network/expressRoutePorts@2025-09-01' = {
          name: 'port'
          location: 'westeurope'
        }
        """
    )
    assert verify_bicep(text, library) == []


def test_existing_resource_body_is_not_checked(library):
    text = bicep(
        f"""
        resource vnet '{VNET}' existing = {{
          name: 'vnet'
          anything: 'goes'
        }}
        """
    )
    assert verify_bicep(text, library) == []


def test_read_only_resource_type_must_be_existing(library):
    resource = "Microsoft.ContainerService/managedClusters/upgradeProfiles@2026-05-01"
    types = _types("Microsoft.ContainerService", "2026-05-01")
    assert next(t for t in types if t.get("name") == resource)["writableScopes"] == 0
    text = f"resource up '{resource}' = {{\n  name: 'default'\n}}\n"
    [finding] = verify_bicep(text, library)
    assert (finding.line, finding.col, finding.hint) == (1, 1, "declare it `existing`")
    assert verify_bicep(text.replace("' = {", "' existing = {"), library) == []


def test_role_assignment_scoped_to_a_subnet_is_clean(library):
    resource = "Microsoft.Authorization/roleAssignments@2022-04-01"
    assert "scope" not in prop(resource)[1]["properties"]  # the top-level `scope` is Bicep's
    assert prop(resource, "properties", "roleDefinitionId")[0] == 1
    assert prop(resource, "properties", "principalId")[0] == 1
    text = bicep(
        f"""
        param principalId string
        resource vnet '{VNET}' existing = {{
          name: 'vnet'
        }}
        resource subnet 'Microsoft.Network/virtualNetworks/subnets@2025-09-01' existing = {{
          parent: vnet
          name: 'nodes'
        }}
        resource ra '{resource}' = {{
          name: guid(subnet.id, principalId, 'network-contributor')
          scope: subnet
          properties: {{
            roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', '4d97b98b-1d4f-4787-a291-c67834d212e7')
            principalId: principalId
            principalType: 'ServicePrincipal'
          }}
        }}
        """
    )
    assert verify_bicep(text, library) == []


def test_role_assignment_without_principal(library):
    text = bicep(
        """
        resource ra 'Microsoft.Authorization/roleAssignments@2022-04-01' = {
          name: guid('x')
          properties: {
            roleDefinitionId: 'x'
          }
        }
        """
    )
    [finding] = verify_bicep(text, library)
    assert finding.message == "missing required property `principalId` in `properties`"
    assert (finding.line, finding.col) == at(text, "properties")


def test_subscription_scope_resource_group_is_clean(library):
    resource = "Microsoft.Resources/resourceGroups@2025-04-01"
    assert prop(resource, "name")[1]["pattern"] == r"^[-\w\._\(\)]+$"
    text = bicep(
        f"""
        targetScope = 'subscription'
        param location string
        resource rg '{resource}' = {{
          name: 'rg-aksmesh-weu'
          location: location
          tags: {{
            app: 'aksmesh'
          }}
        }}
        """
    )
    assert verify_bicep(text, library) == []
    bad = text.replace("'rg-aksmesh-weu'", "'rg aksmesh'")
    assert [f.message for f in verify_bicep(bad, library)] == [
        "`name`: 'rg aksmesh' does not match the pattern `^[-\\w\\._\\(\\)]+$`"
    ]


def test_tags_must_be_strings(library):
    tags = prop(VNET, "tags")[1]["additionalProperties"]["$ref"]
    assert _types("Microsoft.Network", "2025-09-01")[int(tags[2:])]["$type"] == "StringType"
    text = bicep(
        f"""
        resource vnet '{VNET}' = {{
          name: 'vnet'
          tags: {{
            ok: 'yes'
            count: 3
          }}
        }}
        """
    )
    assert [f.message for f in verify_bicep(text, library)] == ["`tags.count`: expected string, got int"]


def test_optional_property_accepts_null(library):
    assert verify_bicep(aks(properties="kubernetesVersion: null"), library) == []


def test_discriminated_object(library):
    resource = "Microsoft.Resources/deploymentScripts@2023-08-01"
    base = "resource s '{r}' = {{\n  name: 's'\n  location: 'westeurope'\n{extra}}}\n"

    def check(extra: str) -> list[str]:
        return [f.message for f in verify_bicep(base.format(r=resource, extra=extra), library)]

    assert check("  kind: 'AzureCLI'\n  properties: {\n    azCliVersion: '2.60.0'\n    retentionInterval: 'PT1H'\n  }\n") == []
    assert check("  kind: 'AzureCLI'\n  properties: {\n    retentionInterval: 'PT1H'\n  }\n") == [
        "missing required property `azCliVersion` in `properties`"
    ]
    [finding] = verify_bicep(base.format(r=resource, extra="  kind: 'AzureCli'\n"), library)
    assert "'AzureCli' is not one of 'AzureCLI', 'AzurePowerShell'" in finding.message
    assert finding.hint == "did you mean `AzureCLI`?"
    assert check("") == ["missing required property `kind`"]
    assert check("  kind: scriptKind\n  whatever: 1\n") == []  # branch unknown offline


def test_module_is_syntax_checked_but_not_type_checked(library):
    text = bicep(
        """
        module m './m.bicep' = {
          name: 'm'
          params: {
            unknownToTypes: 1
          }
        }
        """
    )
    assert verify_bicep(text, library) == []
    broken = text.replace("unknownToTypes: 1", "unknownToTypes: 1 )")
    assert where(verify_bicep(broken, library)) == [at(broken, ")")]


def test_verify_without_library_only_checks_syntax():
    assert verify_bicep(aks(properties="enableRBAC: 'yes'"), None) == []


def test_check_body_on_a_single_declaration(library):
    [decl] = resource_declarations(aks(properties="enableRBAC: 'yes'"))
    assert [f.message for f in check_body(library, decl)] == ["`properties.enableRBAC`: expected bool, got string"]


# --------------------------------------------------------------------------- library and speed


def test_type_files_are_loaded_once():
    first = TypeLibrary.from_directory(TYPES).resource_type("Microsoft.Network/virtualNetworks", "2025-09-01")
    second = TypeLibrary.from_directory(TYPES).resource_type("microsoft.network/VIRTUALNETWORKS", "2025-09-01")
    assert first is not None and second is not None
    assert first[0] is second[0]
    assert TypeLibrary.from_directory(TYPES).resource_type("Microsoft.Network/virtualNetworks", "1999-01-01") is None


def test_twenty_short_files_verify_clean(library):
    files = [
        aks(properties=f"agentPoolProfiles: [\n  {{\n    name: 'pool{i}'\n    count: {i}\n  }}\n]") for i in range(10)
    ] + [
        bicep(
            f"""
            resource vnet{i} '{VNET}' = {{
              name: 'vnet{i}'
              location: 'westeurope'
              properties: {{
                addressSpace: {{
                  addressPrefixes: [
                    '10.{i}.0.0/16'
                  ]
                }}
              }}
            }}
            """
        )
        for i in range(10)
    ]
    for text in files:
        assert verify_bicep(text, library) == []
