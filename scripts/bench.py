"""Time the whole pipeline, cold process, on generated topologies of growing size.

Prints one row per (size, command): wall time, peak memory of the process, and the size of
the rendered tree, so the growth of time against output size can be read off the table.
No thresholds: the numbers are for people, not for pass/fail.

aksmesh is timed as pip installs it, its modules byte-compiled, with a cache of its own:
"render, empty cache" is the first run on a machine (templates compiled, Azure type data
parsed whole), the other rows the runs after it.
"""

from __future__ import annotations

import compileall
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

SIZES = (3, 16, 64, 255)
PROJECT = Path(__file__).resolve().parent.parent
COMMANDS = ("validate", "plan", "render", "check")
REPEAT = 10  # take the best of several runs: the machine's noise only ever adds time


def run(args: list[str], cache: Path) -> tuple[float, int]:
    """Wall seconds and peak RSS (MiB) of one cold process."""
    start = time.perf_counter()
    process = subprocess.Popen(args, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                               env={**os.environ, "AKSMESH_CACHE_DIR": str(cache)})
    _, status, usage = os.wait4(process.pid, 0)
    elapsed = time.perf_counter() - start
    if os.waitstatus_to_exitcode(status) != 0:
        sys.exit(f"{' '.join(args)} failed:\n{process.stderr.read().decode()}")
    return elapsed, usage.ru_maxrss // 1024


def tree_size(root: Path) -> tuple[int, int]:
    files = [p for p in root.rglob("*") if p.is_file()]
    return len(files), sum(p.stat().st_size for p in files)


def main() -> None:
    # An editable checkout run with PYTHONDONTWRITEBYTECODE (as on this project's machines)
    # would otherwise compile every module of aksmesh in every process.
    compileall.compile_dir(PROJECT / "generator", quiet=1)
    aksmesh = [sys.executable, "-m", "generator"]
    commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=PROJECT,
                            capture_output=True, text=True).stdout.strip() or "unknown"
    print(f"commit {commit}, {os.cpu_count()} cores, best of {REPEAT} cold processes, render "
          "and check verifying against the shipped data")
    print(f"{'clusters':>8} {'command':<20} {'seconds':>8} {'peak MiB':>9} {'files':>6} "
          f"{'output KiB':>10} {'ms/KiB':>7}")
    with tempfile.TemporaryDirectory() as scratch:
        work = Path(scratch)
        cache = work / "cache"
        for size in SIZES:
            topology = work / f"mesh-{size}.yaml"
            topology.write_text(subprocess.run([*aksmesh, "example", "--clusters", str(size)],
                                               check=True, capture_output=True,
                                               text=True).stdout)
            out = work / "out"
            tree = out / f"mesh-{size}"
            runs = {command: [*aksmesh, command, str(topology)] for command in COMMANDS}
            for command in ("render", "check"):
                runs[command] += ["-o", str(out)]
            first = run(runs["render"], work / f"empty-cache-{size}")
            # Round-robin, so that every command samples the same spells of noise.
            timings: dict[str, list[tuple[float, int]]] = {command: [] for command in runs}
            for _ in range(REPEAT):
                for command, args in runs.items():
                    timings[command].append(run(args, cache))
            for command in COMMANDS:
                if command == "render":
                    report(size, "render, empty cache", [first], tree)
                on_tree = command in ("render", "check")
                report(size, command, timings[command], tree if on_tree else None)
        start_up(aksmesh, work, cache)
        output_sizes(aksmesh, work, cache)
        growth(aksmesh, work, cache)


def example(aksmesh: list[str], work: Path, size: int) -> Path:
    topology = work / f"mesh-{size}.yaml"
    topology.write_text(subprocess.run([*aksmesh, "example", "--clusters", str(size),
                                        "--name", "mesh"],
                                       check=True, capture_output=True, text=True).stdout)
    return topology


def start_up(aksmesh: list[str], work: Path, cache: Path) -> None:
    """A 3-cluster render with every check against a bare interpreter start, interleaved
    so that all sample the same spells of the machine's noise (issue 17: at most 6x).

    Beside them, two floors: a process that imports every module the render imports and
    runs none of aksmesh's code, and one that imports only the libraries it installs
    (ruamel.yaml, PyYAML, jsonschema-rs, Jinja2, tree-sitter...), which is what no change to
    aksmesh's own code can take away."""
    topology = example(aksmesh, work, 3)
    render = [*aksmesh, "render", str(topology), "-o", str(work / "start-up")]
    imported, libraries = _modules_a_render_imports(render)
    commands = {"render": render, "bare": [sys.executable, "-I", "-c", "pass"],
                "imports": [sys.executable, "-I", "-c", _importing(imported)],
                "libraries": [sys.executable, "-I", "-c", _importing(libraries)]}
    run(render, cache)
    samples: dict[str, list[float]] = {name: [] for name in commands}
    for _ in range(REPEAT * 2):
        for name, args in commands.items():
            samples[name].append(run(args, cache)[0])
    best = {name: min(times) for name, times in samples.items()}
    ratio = {name: best[name] / best["bare"] for name in best}
    print(f"start-up: 3-cluster render with full verification {best['render'] * 1000:.0f} ms, "
          f"`python -I -c pass` {best['bare'] * 1000:.1f} ms: {ratio['render']:.1f} times "
          "(target 6)")
    print(f"start-up floor: importing all it imports, running none of aksmesh: "
          f"{ratio['imports']:.1f} times; importing only its libraries "
          f"({', '.join(libraries)}): {ratio['libraries']:.1f} times")


def _modules_a_render_imports(render: list[str]) -> tuple[list[str], list[str]]:
    """The modules a render has imported by its end, but aksmesh's own; and of them the
    top-level packages installed beside the standard library."""
    probe = ("import sys, sysconfig, generator.cli\n"
             f"sys.argv = {render[2:]!r}\n"
             "try:\n    generator.cli.main(sys.argv[1:])\nexcept SystemExit:\n    pass\n"
             "installed = sysconfig.get_paths()['purelib']\n"
             "print(' '.join(sorted(sys.modules)))\n"
             "print(' '.join(sorted(name for name, module in sys.modules.items()\n"
             "    if '.' not in name and not name.startswith(('_', 'generator'))\n"
             "    and any(str(place).startswith(installed) for place in\n"
             "            [getattr(module, '__file__', None) or '', *getattr(module, '__path__', [])]))))")
    imported, libraries = subprocess.run(
        [sys.executable, "-c", probe], cwd=PROJECT, check=True, capture_output=True,
        text=True).stdout.splitlines()[-2:]
    return ([name for name in imported.split() if name.split(".")[0] not in
             ("generator", "__main__")], libraries.split())


def _importing(modules: list[str]) -> str:
    # Some entries of sys.modules are aliases that cannot be imported by their name.
    return (f"import importlib\nfor name in {modules!r}:\n    try:\n"
            "        importlib.import_module(name)\n    except ImportError:\n        pass")


def output_sizes(aksmesh: list[str], work: Path, cache: Path) -> None:
    """The tree grows linearly with the mesh (issue 17: 3 MiB at 255, 6 MiB at 511)."""
    for size, limit in ((255, 3), (511, 6)):
        out = work / f"size-{size}"
        run([*aksmesh, "render", str(example(aksmesh, work, size)), "-o", str(out)], cache)
        files, size_bytes = tree_size(out / "mesh")
        print(f"output: {size} clusters, {files} files, {size_bytes / 2**20:.2f} MiB "
              f"(target {limit} MiB)")


def growth(aksmesh: list[str], work: Path, cache: Path) -> None:
    """Existing files that adding one cluster changes (issue 17: the same at any size,
    at most 8), `.aksmesh-files` included."""
    for size in (10, 30):
        out = work / f"growth-{size}"
        run([*aksmesh, "render", str(example(aksmesh, work, size)), "-o", str(out)], cache)
        before = snapshot(out / "mesh")
        run([*aksmesh, "render", str(example(aksmesh, work, size + 1)), "-o", str(out)],
            cache)
        after = snapshot(out / "mesh")
        changed = sorted(p for p in before.keys() & after.keys() if before[p] != after[p])
        print(f"growth: cluster {size + 1} added to {size} changes {len(changed)} existing "
              f"files (target at most 8): {', '.join(changed)}")


def snapshot(root: Path) -> dict[str, bytes]:
    return {str(p.relative_to(root)): p.read_bytes() for p in root.rglob("*") if p.is_file()}


def report(size: int, command: str, timings: list[tuple[float, int]], tree: Path | None
           ) -> None:
    seconds, peak = min(t for t, _ in timings), max(m for _, m in timings)
    files, size_bytes = tree_size(tree) if tree else (0, 0)
    kib = size_bytes / 1024
    per_kib = f"{seconds * 1000 / kib:7.2f}" if command == "render" and kib else ""
    print(f"{size:>8} {command:<20} {seconds:>8.3f} {peak:>9} {files:>6} {kib:>10.0f} "
          f"{per_kib:>7}".rstrip(), flush=True)


if __name__ == "__main__":
    main()
