"""The cache of derived data: it must only ever save time, never change a finding.

Clearing the functools caches stands for a new process; the on-disk entries are real.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import textwrap

import pytest

from conftest import PROJECT, REFERENCE
from generator import cache
from generator.bicep import type_data
from generator.bicep.read import resource_declarations
from generator.bicep.type_data import TypeLibrary
from generator.bicep.typecheck import check_body

AKS = "Microsoft.ContainerService/managedClusters@2026-05-01"
TYPES_FILE = "microsoft.containerservice/2026-05-01/types.json"
# Two findings: a mistyped property, and one the type data does not know.
BODY = textwrap.dedent(f"""\
    resource aks '{AKS}' = {{
      name: 'aks-weu-1'
      location: 'westeurope'
      properties: {{
        dnsPrefix: 'aks-weu-1'
        enableRBAC: 'yes'
        nodeResourceGroupe: 'x'
      }}
    }}
    """)


@pytest.fixture
def cache_root(tmp_path, monkeypatch):
    root = tmp_path / "cache"
    monkeypatch.setenv(cache.CACHE_DIR_ENV, str(root))
    new_process()
    yield root
    new_process()


def new_process():
    cache.cache_dir.cache_clear()
    type_data._load_resource_type.cache_clear()
    type_data._load_type_file.cache_clear()
    type_data._file_digest.cache_clear()


def findings(types_dir):
    [declaration] = resource_declarations(BODY)
    return [(f.line, f.col, f.message) for f in
            check_body(TypeLibrary.from_directory(types_dir), declaration)]


def test_a_warm_cache_finds_what_a_cold_parse_finds(cache_root):
    cold = findings(REFERENCE / "bicep-types")
    assert len(cold) == 2
    assert list((cache_root / "bicep-types").iterdir())
    new_process()
    assert findings(REFERENCE / "bicep-types") == cold
    assert type_data._load_type_file.cache_info().misses == 0  # the file was not parsed


def test_a_fresh_checkout_of_the_same_data_finds_its_entries(cache_root, tmp_path):
    cold = findings(REFERENCE / "bicep-types")
    checkout = tmp_path / "checkout"
    shutil.copytree(REFERENCE / "bicep-types", checkout)
    for path in checkout.rglob("types.json"):
        os.utime(path, (1, 1))  # a checkout's own file times
    new_process()
    assert findings(checkout) == cold
    assert type_data._load_type_file.cache_info().misses == 0


def test_a_changed_types_file_is_read_again(cache_root, tmp_path):
    types_dir = tmp_path / "types"
    shutil.copytree(REFERENCE / "bicep-types", types_dir)
    assert [m for *_, m in findings(types_dir)] == [
        "`properties.enableRBAC`: expected bool, got string",
        "unknown property `nodeResourceGroupe` in `properties`"]
    # Drop enableRBAC from the data: a stale entry would still know it.
    path = types_dir / TYPES_FILE
    path.chmod(0o644)
    types = json.loads(path.read_text())
    [resource] = [t for t in types if t.get("name") == AKS]
    body = types[int(resource["body"]["$ref"][2:])]
    aks_properties = types[int(body["properties"]["properties"]["type"]["$ref"][2:])]
    del aks_properties["properties"]["enableRBAC"]
    path.write_text(json.dumps(types))
    new_process()
    assert [m for *_, m in findings(types_dir)] == [
        "unknown property `enableRBAC` in `properties`",
        "unknown property `nodeResourceGroupe` in `properties`"]


def test_a_damaged_entry_is_derived_again(cache_root):
    cold = findings(REFERENCE / "bicep-types")
    entries = list((cache_root / "bicep-types").iterdir())
    for entry in entries:
        entry.write_bytes(b'{"truncated": ')
    new_process()
    assert findings(REFERENCE / "bicep-types") == cold
    assert all(json.loads(entry.read_bytes()) for entry in entries)  # written anew


def _a_file_in_the_way(tmp_path, monkeypatch):
    blocker = tmp_path / "a-file"
    blocker.write_text("")
    monkeypatch.setenv(cache.CACHE_DIR_ENV, str(blocker / "cache"))


def _no_home_directory(tmp_path, monkeypatch):
    for variable in (cache.CACHE_DIR_ENV, "XDG_CACHE_HOME", "HOME"):
        monkeypatch.delenv(variable, raising=False)
    monkeypatch.setattr("pwd.getpwuid", _no_such_user)


def _no_such_user(uid):
    raise KeyError(uid)


@pytest.mark.parametrize("unusable", [_a_file_in_the_way, _no_home_directory])
def test_without_a_usable_cache_directory_only_time_is_lost(tmp_path, monkeypatch, unusable):
    unusable(tmp_path, monkeypatch)
    new_process()
    try:
        assert cache.cache_dir("bicep-types") is None
        assert len(findings(REFERENCE / "bicep-types")) == 2
    finally:
        new_process()


def test_render_matches_the_golden_tree_with_no_usable_cache(tmp_path):
    # Every Azure type extract derived again, in memory only.
    blocker = tmp_path / "a-file"
    blocker.write_text("")
    env = {**os.environ, cache.CACHE_DIR_ENV: str(blocker / "cache")}
    result = subprocess.run(
        [sys.executable, "-m", "generator", "check", "-o", str(PROJECT / "out"),
         "--bicep-types", str(REFERENCE / "bicep-types"),
         str(PROJECT / "topologies" / "eu-three-regions.yaml")],
        env=env, capture_output=True, text=True, cwd=PROJECT)
    assert result.returncode == 0, result.stderr
