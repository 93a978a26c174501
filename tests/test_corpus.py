"""Bad input never hurts: every malformed or hostile topology gets a located diagnostic.

The corpus is `tests/corpus/*.yaml` (small files; the first line says which code is
expected: `# expect: AKMnnn -- what the file does wrong`) plus the cases below that cannot
or should not be committed (a 50 MB file, binary data, a directory, a BOM, CRLF, deep
nesting...), written at test time.

Each case goes through the real command line in a subprocess, with a safety timeout and a
cap on its address space:

- one `validate` call for the whole corpus (and one `--format json` for its committed
  part): exit code 1, and for each case at least one `path:line:col: AKMnnn ` line, its
  expected code among them, every code registered, positions inside the file;
- `render CASE -o OUT`, where OUT already holds the rendered tree of a valid topology with
  the same name (one run per case; one run for all the cases that fail while the file is
  read): exit code 1, a located diagnostic, and OUT byte for byte (names, contents,
  modification times) as it was;
- never a traceback or an internal error, on stdout or stderr.

A time-out is a failure, never a pass. The timeout is for safety only: nothing here
measures speed.
"""

from __future__ import annotations

import json
import os
import random
import re
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

import pytest

from conftest import PROJECT, VALID, mutate, run_cli
from generator.diagnostics import codes
from generator.load import MAX_DEPTH, MAX_FILE_BYTES

CORPUS = Path(__file__).resolve().parent / "corpus"
TIMEOUT_SECONDS = 60  # safety only: a run that needs it is a defect
MEMORY_BYTES = 1 << 30  # RLIMIT_AS of every subprocess: hostile input must not need more
JOBS = max(1, min(4, os.cpu_count() or 1))
EXPECT = re.compile(r"\A# expect: (AKM\d{3})\b")
DIAGNOSTIC = re.compile(r"^(.*):(\d+):(\d+): (AKM\d{3}) ", re.MULTILINE)
CRASH_MARKERS = ("Traceback (most recent call last)", "internal error")


# ------------------------------------------------------------------ running the CLI


@dataclass
class Run:
    args: tuple[str, ...]
    returncode: int | None  # None: killed at the safety timeout
    stdout: str
    stderr: str
    seconds: float

    def describe(self) -> str:
        status = (f"timed out after {TIMEOUT_SECONDS} s" if self.returncode is None
                  else f"exit {self.returncode}")
        return (f"aksmesh {' '.join(self.args)[:300]}: {status} in {self.seconds:.1f} s\n"
                f"--- stdout (start)\n{self.stdout[:3000]}\n"
                f"--- stderr (end)\n{self.stderr[-3000:]}")


def _limit_memory() -> None:  # runs in the child, between fork and exec
    resource.setrlimit(resource.RLIMIT_AS, (MEMORY_BYTES, MEMORY_BYTES))


def run_many(commands: list[list[str]], jobs: int = JOBS) -> list[Run]:
    """Run `python -m generator ARGS` for each command, `jobs` at a time.

    Processes are started from this (the only) thread, so preexec_fn is safe; output goes to
    temporary files, not pipes, so that no process blocks on a full pipe while we wait.
    """
    results: list[Run | None] = [None] * len(commands)
    pending = list(enumerate(commands))
    running: list[tuple[int, subprocess.Popen, float, object, object]] = []
    while pending or running:
        while pending and len(running) < jobs:
            index, args = pending.pop(0)
            out, err = tempfile.TemporaryFile(), tempfile.TemporaryFile()
            process = subprocess.Popen(
                [sys.executable, "-m", "generator", *args], cwd=PROJECT,
                stdin=subprocess.DEVNULL, stdout=out, stderr=err, preexec_fn=_limit_memory)
            running.append((index, process, time.monotonic(), out, err))
        time.sleep(0.01)
        for entry in list(running):
            index, process, started, out, err = entry
            elapsed = time.monotonic() - started
            if process.poll() is None and elapsed < TIMEOUT_SECONDS:
                continue
            if process.poll() is None:
                process.kill()  # our own child, by its handle
                process.wait()
                returncode = None
            else:
                returncode = process.returncode
            texts = []
            for handle in (out, err):
                handle.seek(0)
                texts.append(handle.read().decode("utf-8", errors="replace"))
                handle.close()
            results[index] = Run(tuple(args), returncode, texts[0], texts[1], elapsed)
            running.remove(entry)
    return [r for r in results if r is not None]


def run(*args: str) -> Run:
    return run_many([list(args)])[0]


def diagnostics_for(stdout: str, path: str) -> list[tuple[int, int, str]]:
    """(line, col, code) of every diagnostic printed for `path`, as `path:line:col: CODE `."""
    pattern = re.compile(rf"^{re.escape(path)}:(\d+):(\d+): (AKM\d{{3}}) ", re.MULTILINE)
    return [(int(line), int(col), code) for line, col, code in pattern.findall(stdout)]


def assert_no_crash(result: Run) -> None:
    assert result.returncode is not None, result.describe()
    assert result.returncode >= 0, f"killed by signal {-result.returncode}\n{result.describe()}"
    for marker in CRASH_MARKERS:
        assert marker not in result.stdout and marker not in result.stderr, result.describe()


def assert_registered(result: Run) -> None:
    printed = {code for *_, code in DIAGNOSTIC.findall(result.stdout)}
    assert printed <= codes().keys(), f"unregistered {printed - codes().keys()}\n{result.describe()}"


# ------------------------------------------------------------------ the cases


@dataclass(frozen=True)
class Case:
    name: str
    path: Path
    code: str | None  # a code that must be among the printed ones
    line: int | None = None  # the line that code must be reported on, when it matters

    @property
    def arg(self) -> str:
        """The path as given on the command line (and as printed back in diagnostics)."""
        try:
            return str(self.path.relative_to(PROJECT))
        except ValueError:
            return str(self.path)

    def bounds(self) -> tuple[int, int] | None:
        """(lines + 1, longest line + 1) of a readable text file, else None."""
        if not self.path.is_file() or self.path.is_symlink():
            return None
        text = self.path.read_bytes().decode("utf-8", errors="replace")
        # YAML 1.2's line breaks: str.splitlines() also breaks at NEL, LS, PS and more.
        lines = re.split(r"\r\n|\r|\n", text)
        return len(lines) + 1, max(len(line) for line in lines) + 1


def _committed() -> dict[str, tuple[str, int | None]]:
    cases = {}
    for path in sorted(CORPUS.glob("*.yaml")):
        first = path.read_text(encoding="utf-8").partition("\n")[0]
        match = EXPECT.match(first)
        assert match, f"{path.name}: the first line must be `# expect: AKMnnn -- ...`"
        cases[path.stem] = (match.group(1), None)
    return cases


COMMITTED = _committed()


# VALID with a duplicate cluster id: AKM202 on line 12, column 9, whatever the encoding
# details around it.
DUPLICATE_ID = mutate(("    id: 2\n", "    id: 1\n"))


def _bomb(prefix: str, level0: str, level: Callable[[int], str]) -> str:
    return "\n".join([f"{prefix}0: &{prefix}0 {level0}"]
                     + [f"{prefix}{i}: &{prefix}{i} {level(i)}" for i in range(1, 9)]) + "\n"


LIST_BOMB = _bomb("a", "[x, x, x, x, x, x, x, x, x, x]",
                  lambda i: "[" + ", ".join([f"*a{i - 1}"] * 10) + "]")
MAP_BOMB = _bomb("m", "{k: v}",
                 lambda i: "{" + ", ".join(f"k{j}: *m{i - 1}" for j in range(10)) + "}")


def _write(content: bytes | str) -> Callable[[Path], Path]:
    def build(path: Path) -> Path:
        path.write_bytes(content.encode() if isinstance(content, str) else content)
        return path
    return build


def _huge(size: int) -> Callable[[Path], Path]:
    def build(path: Path) -> Path:
        chunk = b"# padding: a topology is a few kilobytes, this file is not\n"
        with open(path, "wb") as handle:
            for _ in range(size // len(chunk)):
                handle.write(chunk)
            handle.write(b"#" * (size % len(chunk)))
        return path
    return build


def _directory(path: Path) -> Path:
    path.mkdir()
    (path / "topology.yaml").write_text(VALID)
    return path


def _missing(path: Path) -> Path:
    return path


def _symlink_loop(path: Path) -> Path:
    path.symlink_to(path.name)
    return path


def _symlink_to_directory(path: Path) -> Path:
    target = path.parent / f"{path.name}.d"
    target.mkdir()
    path.symlink_to(target.name)
    return path


def _random_binary(path: Path) -> Path:
    data = bytearray(random.Random(20261125).randbytes(8192))
    data[100] = 0
    path.write_bytes(bytes(data))
    return path


def _deep_block(depth: int) -> str:
    return "".join(f"{'  ' * i}a:\n" for i in range(depth)) + f"{'  ' * depth}b: 1\n"


# name → (how to create it in a fresh directory, expected code, expected line)
GENERATED: dict[str, tuple[Callable[[Path], Path], str, int | None]] = {
    "huge-50mb": (_huge(50 * 1024 * 1024), "AKM005", 1),
    "one-byte-over-the-limit": (_huge(MAX_FILE_BYTES + 1), "AKM005", 1),
    "empty-file": (_write(b""), "AKM004", 1),
    "only-newlines": (_write("\n" * 1000), "AKM004", 1),
    "only-separators": (_write("---\n---\n---\n"), "AKM004", 1),
    "three-documents": (_write(VALID + "---\n" + VALID + "...\n---\n" + VALID), "AKM004", 1),
    "directory": (_directory, "AKM001", 1),
    "missing-file": (_missing, "AKM001", 1),
    "symlink-loop": (_symlink_loop, "AKM001", 1),
    "symlink-to-directory": (_symlink_to_directory, "AKM001", 1),
    "random-binary": (_random_binary, "AKM001", 1),
    "elf-header": (_write(b"\x7fELF\x02\x01\x01\x00" + bytes(56)), "AKM001", 1),
    "nul-byte": (_write(VALID.replace("mesh", "me\0sh")), "AKM001", 1),
    "invalid-utf8-on-line-11": (_write(VALID.encode().replace(b"  - name: we\n",
                                                             b"  - name: w\xc3\x28\n")),
                                "AKM001", 11),
    "latin1": (_write(VALID.encode().replace(b"region: westeurope",
                                             "region: westeuropé".encode("latin-1"))),
               "AKM001", 13),
    "utf16": (_write(VALID.encode("utf-16")), "AKM001", 1),
    "bom-and-duplicate-id": (_write(b"\xef\xbb\xbf" + DUPLICATE_ID.encode()), "AKM202", 12),
    "crlf-and-duplicate-id": (_write(DUPLICATE_ID.replace("\n", "\r\n")), "AKM202", 12),
    "cr-only-and-duplicate-id": (_write(DUPLICATE_ID.replace("\n", "\r")), "AKM202", 12),
    "no-final-newline-and-duplicate-id": (_write(DUPLICATE_ID.rstrip("\n")), "AKM202", 12),
    # NEL, LS and PS are ordinary characters in YAML 1.2: the line of the finding after them
    # is the line a YAML 1.2 reader (and the user's editor) counts.
    "nel-in-every-line-and-duplicate-id": (_write("".join(
        line + "  # \x85 x: [\n" for line in DUPLICATE_ID.splitlines())), "AKM202", 12),
    "ls-and-ps-in-a-leading-comment-and-duplicate-id": (_write(
        "# \u2028\u2029\u2028\n" + DUPLICATE_ID), "AKM202", 13),
    "nel-with-crlf-and-duplicate-id": (_write(DUPLICATE_ID.replace(
        "  - name: ne\n", "  - name: ne  # a\x85b\n").replace("\n", "\r\n")), "AKM202", 12),
    "alias-bomb-lists": (_write(LIST_BOMB), "AKM005", None),
    "alias-bomb-mappings": (_write(MAP_BOMB), "AKM005", None),
    "alias-bomb-beside-a-valid-topology": (_write(VALID + LIST_BOMB), "AKM005", None),
    "nesting-10000-lists-at-the-root": (_write("[" * 10_000 + "]" * 10_000 + "\n"),
                                        "AKM005", 1),
    "nesting-10000-lists-as-the-name": (_write("name: " + "[" * 10_000 + "]" * 10_000 + "\n"),
                                        "AKM005", None),
    "nesting-10000-mappings": (_write("a: " + "{a: " * 10_000 + "1" + "}" * 10_000 + "\n"),
                               "AKM005", None),
    "nesting-block-mappings": (_write(_deep_block(4 * MAX_DEPTH)), "AKM005", None),
    "very-long-line": (_write(mutate(("name: mesh\n", "name: " + "m" * 500_000 + "\n"))),
                       "AKM105", 1),
    "very-long-key": (_write("k" * 500_000 + ": 1\n"), "AKM002", 1),
    "512-clusters": (_write("name: mesh\nkubernetesVersion: \"1.36\"\nclusters:\n" + "".join(
        f"  - {{name: c{i}, id: {i % 511 + 1}, region: westeurope, vnetCidr: 10.0.0.0/16, "
        f"nodeSubnetCidr: 10.0.0.0/22, podCidr: 10.1.0.0/16, serviceCidr: 10.2.0.0/16}}\n"
        for i in range(512))), "AKM105", 3),
}

NAMES = sorted(COMMITTED) + sorted(GENERATED)
assert not set(COMMITTED) & set(GENERATED)


@pytest.fixture(scope="module")
def cases(tmp_path_factory) -> dict[str, Case]:
    made = {name: Case(name, CORPUS / f"{name}.yaml", code, line)
            for name, (code, line) in COMMITTED.items()}
    root = tmp_path_factory.mktemp("generated")
    for name, (build, code, line) in GENERATED.items():
        made[name] = Case(name, build(root / f"{name}.yaml"), code, line)
    return made


# ------------------------------------------------------------------ the output tree


def snapshot(root: Path) -> dict[str, tuple]:
    """Every entry under `root`: directories, symlinks, file bytes and modification times."""
    entries: dict[str, tuple] = {}
    for directory, dirnames, filenames in os.walk(root):
        for name in dirnames + filenames:
            path = Path(directory) / name
            key = path.relative_to(root).as_posix()
            info = path.lstat()
            if path.is_symlink():
                entries[key] = ("symlink", os.readlink(path))
            elif path.is_dir():
                entries[key] = ("dir",)
            else:
                entries[key] = ("file", path.read_bytes(), info.st_mtime_ns)
    return entries


@pytest.fixture(scope="module")
def rendered(tmp_path_factory) -> Path:
    """A tree rendered from a valid topology named `mesh`, like the corpus files, plus a
    file aksmesh does not own."""
    root = tmp_path_factory.mktemp("rendered")
    topology = root / "valid.yaml"
    topology.write_text(VALID)
    out = root / "out"
    result = run("render", str(topology), "-o", str(out))
    assert_no_crash(result)
    assert result.returncode == 0, result.describe()
    assert (out / "mesh" / "bicep" / "main.bicep").is_file(), result.describe()
    (out / "mesh" / "gotk-components.yaml").write_text("# committed by flux bootstrap\n")
    return out


# ------------------------------------------------------------------ all the runs


USAGE = {
    "validate without a topology": ["validate"],
    "render without a topology": ["render"],
    "check without a topology": ["check"],
    "plan without a topology": ["plan"],
    "plan of two topologies": ["plan", "topologies/eu-three-regions.yaml", "x.yaml"],
    "an unknown option": ["validate", "--no-such-option", "topologies/eu-three-regions.yaml"],
    "an unknown command": ["frobnicate"],
    "validate --format xml": ["validate", "--format", "xml", "topologies/eu-three-regions.yaml"],
    "render --format xml": ["render", "--format", "xml", "topologies/eu-three-regions.yaml",
                            "-o", "{out}"],
    "--format without a value": ["validate", "--format"],
    "render -o ''": ["render", "topologies/eu-three-regions.yaml", "-o", ""],
    "check --out ''": ["check", "--out", "", "topologies/eu-three-regions.yaml"],
}


@dataclass
class Runs:
    validate: Run  # validate of every case at once
    validate_json: Run  # the committed cases, --format json
    renders: dict[str, tuple[Run, dict, dict]]  # name → (render run, tree before, after)
    usage: dict[str, Run]


# The cases that fail while the file is read (AKM0xx) share one `render` run: they never
# reach a plan, and that run shows that none of them writes. Every other case, the ones
# that parse and might get further, has a `render` of its own.
RENDER_TOGETHER = sorted([name for name, (code, _) in COMMITTED.items()
                          if code.startswith("AKM00")]
                         + [name for name, (_, code, _) in GENERATED.items()
                            if code.startswith("AKM00")])
RENDER_ALONE = [name for name in NAMES if name not in RENDER_TOGETHER]


@pytest.fixture(scope="module")
def runs(cases, rendered, tmp_path_factory) -> Runs:
    """Every subprocess of this module, in one pool, the batches first (they take longest).

    Each `render` writes into its own copy of the rendered tree.
    """
    root = tmp_path_factory.mktemp("renders")
    outs = {}
    for name in ["together", *RENDER_ALONE]:
        out = root / name
        shutil.copytree(rendered, out, symlinks=True)
        outs[name] = (out, snapshot(out))
    paths = [case.arg for case in cases.values()]
    usage_out = str(root / "usage-out")  # never the project's out/
    commands = {
        "validate": ["validate", *paths],
        # JSON prints the same diagnostics: the committed cases are enough to check it.
        "validate-json": ["validate", "--format", "json",
                          *(cases[name].arg for name in sorted(COMMITTED))],
        "together": ["render", *(cases[name].arg for name in RENDER_TOGETHER),
                     "-o", str(outs["together"][0])],
        **{name: ["render", cases[name].arg, "-o", str(outs[name][0])]
           for name in RENDER_ALONE},
        **{f"usage: {name}": [arg.replace("{out}", usage_out) for arg in args]
           for name, args in USAGE.items()},
    }
    results = dict(zip(commands, run_many(list(commands.values()))))
    renders = {name: (results[name], outs[name][1], snapshot(outs[name][0]))
               for name in ["together", *RENDER_ALONE]}
    renders.update({name: renders["together"] for name in RENDER_TOGETHER})
    return Runs(results["validate"], results["validate-json"], renders,
                {name: results[f"usage: {name}"] for name in USAGE})


# ------------------------------------------------------------------ validate, in batches


def test_the_corpus_is_large_and_covers_every_reading_code():
    assert len(NAMES) >= 40
    expected = {code for code, _ in COMMITTED.values()} | {c for _, c, _ in GENERATED.values()}
    assert {"AKM001", "AKM002", "AKM003", "AKM004", "AKM005"} <= expected


@pytest.mark.parametrize("fmt", ["text", "json"])
def test_validate_of_the_whole_corpus_fails_cleanly(runs, fmt):
    result = runs.validate if fmt == "text" else runs.validate_json
    assert_no_crash(result)
    assert result.returncode == 1, result.describe()
    if fmt == "text":
        assert_registered(result)
    else:
        assert {record["code"] for record in json.loads(result.stdout)} <= codes().keys()


@pytest.mark.parametrize("name", NAMES)
def test_validate_locates_a_finding(cases, runs, name):
    case = cases[name]
    assert_no_crash(runs.validate)
    found = diagnostics_for(runs.validate.stdout, case.arg)
    assert found, f"no located diagnostic for {case.arg}\n{runs.validate.describe()}"
    found_codes = {code for _, _, code in found}
    assert found_codes <= codes().keys()
    if case.code:
        assert case.code in found_codes, f"{case.arg}: expected {case.code}, got {found}"
    if case.line:
        assert (case.line, case.code) in {(line, code) for line, _, code in found}, found
    bounds = case.bounds()
    for line, col, code in found:
        assert line >= 1 and col >= 1, (line, col, code)
        if bounds:
            assert line <= bounds[0] and col <= bounds[1], (line, col, code, bounds)


@pytest.mark.parametrize("name", sorted(COMMITTED))
def test_validate_json_locates_a_finding(cases, runs, name):
    assert_no_crash(runs.validate_json)
    records = [r for r in json.loads(runs.validate_json.stdout) if r["file"] == cases[name].arg]
    assert records, f"no JSON record for {cases[name].arg}"
    for record in records:
        assert record["code"] in codes()
        assert record["line"] >= 1 and record["col"] >= 1
        assert record["severity"] in ("error", "warning", "note")
    if cases[name].code:
        assert cases[name].code in {record["code"] for record in records}


# ------------------------------------------------------------------ render, one case each


@pytest.mark.parametrize("name", NAMES)
def test_render_fails_cleanly_and_leaves_the_tree_alone(cases, runs, name):
    case = cases[name]
    result, before, after = runs.renders[name]
    assert_no_crash(result)
    assert result.returncode == 1, result.describe()
    found = diagnostics_for(result.stdout, case.arg)
    assert found, f"no located diagnostic for {case.arg}\n{result.describe()}"
    if case.code:
        assert case.code in {code for _, _, code in found}, result.describe()
    assert_registered(result)
    assert after.keys() == before.keys(), (sorted(after.keys() ^ before.keys()), result.describe())
    changed = sorted(path for path in before if before[path] != after[path])
    assert not changed, (changed, result.describe())


# ------------------------------------------------------------------ plan and check, in process


@pytest.mark.parametrize("name", sorted(COMMITTED))
def test_plan_and_check_fail_cleanly(rendered, tmp_path, name):
    """The other commands on the committed corpus, in process (no subprocess: they share
    validate's and render's code paths, and these files are small)."""
    path = str(CORPUS / f"{name}.yaml")
    out = tmp_path / "out"
    shutil.copytree(rendered, out, symlinks=True)
    before = snapshot(out)
    for args in (["plan", path], ["check", path, "-o", str(out)]):
        result = run_cli(*args)
        assert result.exit_code == 1, (args, result.output)
        assert diagnostics_for(result.stdout, path), (args, result.output)
    assert snapshot(out) == before


# ------------------------------------------------------------------ usage errors


@pytest.mark.parametrize("name", USAGE)
def test_usage_errors_exit_2(runs, name):
    result = runs.usage[name]
    assert_no_crash(result)
    assert result.returncode == 2, result.describe()
    assert "error:" in result.stderr and result.stdout == "", result.describe()
