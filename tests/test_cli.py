"""The command line end to end, in process: exit codes, formats, output trees."""

import json
import shutil
import sys

import pytest

from conftest import PROJECT, VALID, run_cli
from generator.write import MANIFEST

DEFAULT = PROJECT / "topologies" / "eu-three-regions.yaml"


run = run_cli


def snapshot(root):
    return {p.relative_to(root).as_posix(): p.read_bytes()
            for p in sorted(root.rglob("*")) if p.is_file()}


@pytest.fixture
def topology(tmp_path):
    path = tmp_path / "mesh.yaml"
    path.write_text(VALID)
    return path


def test_validate_default_topology_is_clean():
    result = run("validate", DEFAULT)
    assert result.exit_code == 0 and result.output == ""


def test_validate_reports_findings_as_file_line_col_code(tmp_path):
    path = tmp_path / "bad.yaml"
    path.write_text(VALID.replace("    id: 2\n", "    id: 1\n"))
    result = run("validate", path)
    assert result.exit_code == 1
    assert f"{path}:12:9: AKM202 cluster id 1 is already used" in result.output
    assert "  hint: " in result.output


def test_validate_json_format(tmp_path):
    path = tmp_path / "bad.yaml"
    path.write_text(VALID.replace("    id: 2\n", "    id: 1\n"))
    result = run("validate", "--format", "json", path)
    [record] = json.loads(result.stdout)
    assert (record["code"], record["line"], record["col"]) == ("AKM202", 12, 9)
    assert record["path"] == ["clusters", 1, "id"]


@pytest.mark.parametrize("fmt", ["json", "sarif"])
def test_a_render_that_succeeds_reports_its_warnings_in_machine_formats(tmp_path, fmt):
    """Before: render --format json|sarif printed nothing when it wrote the tree, so a CI
    reading its stdout never saw the warnings (text prints them before writing)."""
    topology = tmp_path / "seed-demo.yaml"
    text = (PROJECT / "topologies" / "seed-demo.yaml").read_text(encoding="utf-8")
    topology.write_text(text.replace("podCidr: 10.", "podCidr: 198.", 1), encoding="utf-8")
    shutil.copytree(PROJECT / "topologies" / "seed-demo", tmp_path / "seed-demo")
    result = run("render", "--format", fmt, "-o", tmp_path / "out", topology)
    assert result.exit_code == 0, result.output
    assert (tmp_path / "out" / "seed-demo" / ".aksmesh-files").is_file()
    report = json.loads(result.stdout)
    records = report if fmt == "json" else report["runs"][0]["results"]
    codes = [r["code"] if fmt == "json" else r["ruleId"] for r in records]
    assert "AKM308" in codes, codes  # the public pod range


def test_strict_turns_warnings_into_errors(tmp_path):
    path = tmp_path / "public.yaml"
    path.write_text(VALID.replace("10.120.0.0/16", "198.170.0.0/16"))
    assert run("validate", path).exit_code == 0
    assert run("validate", "--strict", path).exit_code == 1


@pytest.mark.parametrize("args, message", [
    (["validate"], "the following arguments are required: TOPOLOGY"),
    (["render", "--format", "xml", DEFAULT], "invalid choice: 'xml'"),
    (["render", "--bicep-types", DEFAULT, DEFAULT], "is not a directory"),
    (["render", "--cilium-values-schema", PROJECT, DEFAULT], "is not a file"),
    (["render", "-o", DEFAULT, DEFAULT], "is not a directory"),
    (["example", "--clusters", "512"], "not a number of clusters from 2 to 511"),
    (["example", "--clusters", "two"], "not a number of clusters from 2 to 511"),
    (["ca"], "the following arguments are required: COMMAND"),
    (["ca", "init", PROJECT / "topologies", "--age-recipient", "age1x"], "is a directory"),
])
def test_usage_errors_exit_2_and_say_what_is_wrong(args, message):
    result = run(*args)
    assert result.exit_code == 2 and message in result.stderr, result.stderr
    assert result.stderr.startswith("usage: aksmesh") and result.stdout == ""


def test_version_comes_from_the_installed_package():
    from importlib.metadata import version

    result = run("--version")
    assert (result.exit_code, result.stdout) == (0, f"aksmesh {version('aksmesh')}\n")


def test_plan_json_lists_every_resolved_value():
    result = run("plan", "--json", DEFAULT)
    plan = json.loads(result.stdout)
    ne = plan["clusters"][0]
    assert {k: ne[k] for k in ("name", "id", "region", "dnsServiceIP", "clustermeshIP")} == {
        "name": "ne", "id": 1, "region": "northeurope",
        "dnsServiceIP": "10.210.0.10", "clustermeshIP": "10.10.3.250"}
    assert [p["name"] for p in ne["meshPeers"]] == ["fc", "we"]


def test_plan_table_is_readable():
    result = run("plan", DEFAULT)
    assert result.exit_code == 0
    assert "ne  " in result.output and "10.10.3.250" in result.output


def test_render_twice_gives_identical_bytes(tmp_path, topology):
    assert run("render", "-o", tmp_path / "a", topology).exit_code == 0
    assert run("render", "-o", tmp_path / "b", topology).exit_code == 0
    first, second = snapshot(tmp_path / "a" / "mesh"), snapshot(tmp_path / "b" / "mesh")
    assert first == second and MANIFEST in first


def test_bad_input_leaves_out_untouched(tmp_path, topology):
    out = tmp_path / "out"
    run("render", "-o", out, topology)
    before = snapshot(out)
    topology.write_text(VALID.replace("    id: 2\n", "    id: 1\n"))
    result = run("render", "-o", out, topology)
    assert result.exit_code == 1 and snapshot(out) == before


def test_render_keeps_foreign_files_and_removes_its_own_stale_ones(tmp_path, topology):
    out = tmp_path / "out"
    run("render", "-o", out, topology)
    root = out / "mesh"
    foreign = root / "clusters" / "ne" / "flux-system" / "gotk-components.yaml"
    foreign.parent.mkdir(parents=True, exist_ok=True)
    foreign.write_text("kind: flux\n")
    # Pretend an earlier version of aksmesh wrote a file it no longer produces.
    (root / "old.yaml").write_text("stale\n")
    (root / MANIFEST).write_text((root / MANIFEST).read_text() + "old.yaml\n")
    (root / "README.md").write_text("edited\n")
    assert run("render", "-o", out, topology).exit_code == 0
    assert foreign.read_text() == "kind: flux\n"
    assert not (root / "old.yaml").exists()
    assert (root / "README.md").read_text() != "edited\n"


def test_check_passes_on_fresh_output_and_lists_stale_files(tmp_path, topology):
    out = tmp_path / "out"
    run("render", "-o", out, topology)
    assert run("check", "-o", out, topology).exit_code == 0
    (out / "mesh" / "README.md").write_text("edited\n")
    result = run("check", "-o", out, topology)
    assert result.exit_code == 1
    assert f"{out / 'mesh' / 'README.md'}:1:1: AKM901 changed" in result.output


def test_check_reports_missing_tree(tmp_path, topology):
    result = run("check", "-o", tmp_path / "empty", topology)
    assert result.exit_code == 1 and "AKM901 missing" in result.output


def test_module_entry_point():
    import subprocess
    import sys

    result = subprocess.run([sys.executable, "-m", "generator", "validate", str(DEFAULT)],
                            capture_output=True, text=True, cwd=PROJECT)
    assert result.returncode == 0, result.stderr


def test_a_bug_is_reported_briefly_with_exit_3(monkeypatch, capsys):
    from generator import cli as cli_module

    def broken(*args, **kwargs):
        raise RuntimeError("boom")

    monkeypatch.setattr(cli_module.compiler, "validate", broken)
    monkeypatch.setattr(sys, "argv", ["aksmesh", "validate", str(DEFAULT)])
    monkeypatch.delenv("AKSMESH_DEBUG", raising=False)
    with pytest.raises(SystemExit) as exit_:
        cli_module.main()
    assert exit_.value.code == 3
    err = capsys.readouterr().err
    assert "internal error: RuntimeError: boom" in err and "Traceback" not in err


def test_an_output_that_cannot_be_written_is_an_error_not_a_bug(tmp_path):
    blocker = tmp_path / "a-file"
    blocker.write_text("")
    result = run("render", "-o", blocker / "out", DEFAULT)
    assert result.exit_code == 1
    assert f"aksmesh: error: cannot write {blocker / 'out' / 'eu-three-regions'}: Not a " \
           "directory" in result.stderr
    assert "internal error" not in result.stderr and blocker.read_text() == ""
