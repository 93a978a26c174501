"""The writer: all files or none, even when the process dies mid-write."""

import os
import signal
import subprocess
import sys
import time

import pytest

from conftest import PROJECT
from generator.example import example_topology
from generator.write import MANIFEST, UnsafePath, compare, write_tree


def snapshot(root):
    return {p.relative_to(root).as_posix(): p.read_bytes()
            for p in sorted(root.rglob("*")) if p.is_file()}


def test_a_failure_mid_write_leaves_the_previous_tree(tmp_path, monkeypatch):
    root = tmp_path / "mesh"
    write_tree(root, {"a.txt": "old a\n", "b/c.txt": "old c\n"})
    before = snapshot(root)
    written = []
    real_write_bytes = type(root).write_bytes

    def fail_on_the_second_file(path, data):
        written.append(path)
        if len(written) == 2:
            raise OSError(28, "No space left on device")
        return real_write_bytes(path, data)

    monkeypatch.setattr(type(root), "write_bytes", fail_on_the_second_file)
    with pytest.raises(OSError):
        write_tree(root, {"a.txt": "new a\n", "b/c.txt": "new c\n", "d.txt": "new d\n"})
    assert snapshot(root) == before
    assert [p.name for p in tmp_path.iterdir()] == ["mesh"]  # no staging left behind


def test_a_killed_render_leaves_the_old_tree_or_the_new_one(tmp_path):
    old_topology, new_topology = tmp_path / "old.yaml", tmp_path / "new.yaml"
    old_topology.write_text(example_topology(64, name="mesh"))
    new_topology.write_text(example_topology(64, name="mesh").replace("10.64.", "10.65.", 1))
    out = tmp_path / "out"

    def render(topology, *, kill_after=None):
        process = subprocess.Popen([sys.executable, "-m", "generator", "render", "-o", str(out),
                                    str(topology)], cwd=PROJECT, stdout=subprocess.DEVNULL,
                                   stderr=subprocess.DEVNULL)
        if kill_after is not None:
            time.sleep(kill_after)
            process.send_signal(signal.SIGKILL)
        process.wait(timeout=120)

    render(new_topology)
    new = snapshot(out / "mesh")
    render(old_topology)
    old = snapshot(out / "mesh")
    assert old != new
    # Kill at several points of the run; whatever the moment, the tree is whole.
    for delay in (0.4, 0.8, 1.2, 1.6):
        render(new_topology, kill_after=delay)
        assert snapshot(out / "mesh") in (old, new), f"a kill after {delay}s tore the tree"
        render(old_topology)


@pytest.mark.parametrize("path", ["../escape.txt", "/etc/passwd", "a/../../b", "./a", MANIFEST])
def test_paths_outside_the_tree_are_refused(tmp_path, path):
    with pytest.raises(UnsafePath):
        write_tree(tmp_path / "mesh", {path: "x"})
    assert not (tmp_path / "mesh").exists()


def test_compare_reports_created_changed_removed_unchanged(tmp_path):
    root = tmp_path / "mesh"
    write_tree(root, {"keep.txt": "same\n", "edit.txt": "v1\n", "gone.txt": "x\n"})
    changes = {c.path: c.status for c in compare(root, {"keep.txt": "same\n", "edit.txt": "v2\n",
                                                        "new.txt": "n\n"})}
    assert changes == {"keep.txt": "unchanged", "edit.txt": "changed", "gone.txt": "removed",
                       "new.txt": "created", MANIFEST: "changed"}


def test_an_unchanged_tree_is_not_rewritten(tmp_path):
    root = tmp_path / "mesh"
    write_tree(root, {"a.txt": "a\n"})
    inode = os.stat(root).st_ino
    write_tree(root, {"a.txt": "a\n"})
    assert os.stat(root).st_ino == inode
