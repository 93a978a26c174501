"""The verify stage catches what a broken template or table would render (AKM5xx).

Each test takes the real rendered tree of the example and breaks one thing in it.
"""

from __future__ import annotations

import pytest

from conftest import PROJECT, REFERENCE
from generator import compiler, verify
from generator.verify import References

REFERENCES = References(REFERENCE / "bicep-types", (REFERENCE / "flux",),
                        REFERENCE / "cilium" / "values.schema.json")
DEFAULT = PROJECT / "topologies" / "eu-three-regions.yaml"


@pytest.fixture(scope="module")
def compiled():
    result = compiler.compile_topology(DEFAULT, compiler.Options(references=REFERENCES))
    assert result.ok, result.diagnostics
    return result.plan, result.files


def codes(plan, files, references=REFERENCES):
    return [d.code for d in verify.verify(plan, files, references)]


def test_the_example_verifies_clean_with_every_schema(compiled):
    assert codes(*compiled) == []


def test_without_schemas_render_says_what_it_did_not_check(compiled):
    assert codes(*compiled, References()) == ["AKM503", "AKM513"]


def test_an_unknown_field_in_a_helmrelease_is_akm511(compiled):
    plan, files = compiled
    path = "clusters/ne/cilium/helmrelease.yaml"
    broken = {**files, path: files[path].replace("  releaseName:", "  releaseNmae: x\n  releaseName:")}
    assert codes(plan, broken) == ["AKM511"]


def test_an_unserved_api_version_is_akm511(compiled):
    plan, files = compiled
    path = "clusters/ne/cilium/helmrelease.yaml"
    broken = {**files, path: files[path].replace("helm.toolkit.fluxcd.io/v2", "helm.toolkit.fluxcd.io/v2beta2")}
    [diagnostic] = verify.verify(plan, broken, REFERENCES)
    assert diagnostic.code == "AKM511" and "not a served API" in diagnostic.message


def test_a_wrongly_typed_cilium_value_is_akm512(compiled):
    plan, files = compiled
    path = "clusters/we/cilium/values.yaml"
    broken = {**files, path: files[path].replace("  relay:\n    enabled: true",
                                                 "  relay:\n    enabled: 'yes'")}
    assert codes(plan, broken) == ["AKM512"]


@pytest.mark.parametrize("old, new", [
    ("  id: 2\n", "  id: 1\n"),
    ("      - 10.120.0.0/16\n", "      - 10.0.0.0/8\n"),
    ("          - 10.10.3.250\n", "          - 10.10.3.251\n"),
    ("      ne:\n", "      we:\n"),
    ("azure-load-balancer-ipv4: 10.20.3.250", "azure-load-balancer-ipv4: 10.20.3.251"),
    ("  maxConnectedClusters: 255", "  maxConnectedClusters: 511"),
], ids=["id", "pod-pool", "peer-ip", "peer-itself", "lb-ip", "max-clusters"])
def test_values_that_disagree_with_the_plan_are_akm514(compiled, old, new):
    plan, files = compiled
    path = "clusters/we/cilium/values.yaml"
    assert old in files[path]
    assert "AKM514" in codes(plan, {**files, path: files[path].replace(old, new)})


def test_a_private_key_in_clear_is_akm515(compiled):
    plan, files = compiled
    broken = {**files, "clusters/ne/leak.txt": "x\n-----BEGIN RSA PRIVATE KEY-----\n"}
    [diagnostic] = verify.verify(plan, broken, REFERENCES)
    assert (diagnostic.code, diagnostic.line) == ("AKM515", 2)


def test_a_secret_in_clear_is_akm515(compiled):
    plan, files = compiled
    secret = "apiVersion: v1\nkind: Secret\nmetadata:\n  name: x\nstringData:\n  token: hunter2\n"
    assert codes(plan, {**files, "cilium-ca/extra.yaml": secret}) == ["AKM515"]
