"""The writer: all files or none, even when the process dies mid-write."""

import contextlib
import os
import shutil
import signal
import subprocess
import sys
import time

import pytest

from conftest import PROJECT, VALID, run_cli
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


@pytest.mark.parametrize("moment", ["the staging directory is made", "a file is staged"])
def test_a_signal_while_staging_is_acted_on_once_the_write_is_done(tmp_path, monkeypatch,
                                                                    moment):
    """Ctrl-C the instant the staging directory exists (the window CI hit: the interrupt
    was raised before the cleanup was armed, and the staging directory stayed), or while a
    file is staged: the write finishes, then the interrupt arrives, with nothing left."""
    import generator.write as write

    root = tmp_path / "mesh"
    write_tree(root, {"a.txt": "old a\n"})
    real_new_sibling, real_write_bytes = write._new_sibling, type(root).write_bytes

    def interrupted_new_sibling(*args):
        path = real_new_sibling(*args)
        os.kill(os.getpid(), signal.SIGINT)
        return path

    def interrupted_write_bytes(path, data):
        os.kill(os.getpid(), signal.SIGINT)
        return real_write_bytes(path, data)

    if moment == "the staging directory is made":
        monkeypatch.setattr(write, "_new_sibling", interrupted_new_sibling)
    else:
        monkeypatch.setattr(type(root), "write_bytes", interrupted_write_bytes)
    with pytest.raises(KeyboardInterrupt):
        write_tree(root, {"a.txt": "new a\n"})
    monkeypatch.undo()
    assert snapshot(root) == {"a.txt": b"new a\n", MANIFEST: snapshot(root)[MANIFEST]}
    assert sorted(os.listdir(tmp_path)) == ["mesh"]  # no staging, no lock


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
        # The next render took the dead one's lock and removed its staging folder.
        assert sorted(os.listdir(out)) == ["mesh"], f"leftovers of a kill after {delay}s"


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


def test_compare_reads_one_tree_even_when_a_render_swaps_one_in_meanwhile(tmp_path,
                                                                          monkeypatch):
    """`aksmesh check` beside a running render: the swap lands between two files of the
    comparison. Before, the first file was read from the old tree and the second from the
    new one, and check reported a drift that neither tree had."""
    root = tmp_path / "mesh"
    old, new = {"x.txt": "old x\n", "y.txt": "old y\n"}, {"x.txt": "new x\n", "y.txt": "new y\n"}
    write_tree(root, old)
    real_is_file, swapped = type(root).is_file, []

    def a_render_swaps_after_the_first_file(path):
        if path.name == "y.txt" and not swapped:  # x.txt was compared already
            swapped.append(path)
            write_tree(root, new)
        return real_is_file(path)

    monkeypatch.setattr(type(root), "is_file", a_render_swaps_after_the_first_file)
    changes = compare(root, new)
    assert swapped  # the swap did land in the middle of the read
    assert {c.status for c in changes} == {"unchanged"}, changes


def test_an_unchanged_tree_is_not_rewritten(tmp_path):
    root = tmp_path / "mesh"
    write_tree(root, {"a.txt": "a\n"})
    inode = os.stat(root).st_ino
    write_tree(root, {"a.txt": "a\n"})
    assert os.stat(root).st_ino == inode


# ---------------------------------------------------------------- renders that take turns


def tree(root):
    """Every entry under `root`, symlinks and directories included (not followed)."""
    entries = {}
    for directory, dirnames, filenames in os.walk(root):
        for name in dirnames + filenames:
            path = os.path.join(directory, name)
            key = os.path.relpath(path, root)
            if os.path.islink(path):
                entries[key] = ("symlink", os.readlink(path))
            elif os.path.isdir(path):
                entries[key] = ("dir",)
            else:
                with open(path, "rb") as handle:
                    entries[key] = ("file", handle.read())
    return entries


def _render_process(topology, out):
    return subprocess.Popen([sys.executable, "-m", "generator", "render", "-o", str(out),
                             str(topology)], cwd=PROJECT, stdin=subprocess.DEVNULL,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def _two_meshes(tmp_path, clusters):
    """Two topologies named `mesh` whose trees differ, and the tree each renders to."""
    first, second = tmp_path / "first.yaml", tmp_path / "second.yaml"
    first.write_text(example_topology(clusters, name="mesh"))
    # A change render makes in either direction (a Kubernetes version would be a downgrade
    # one way round, which the state record refuses): Hubble UI on or off.
    second.write_text(example_topology(clusters, name="mesh").replace(
        "  maxConnectedClusters: 255\n", "  maxConnectedClusters: 255\n  hubble:\n    ui: true\n", 1))
    expected = []
    for topology in (first, second):
        reference = tmp_path / f"reference-{topology.stem}"
        process = _render_process(topology, reference)
        assert process.wait(timeout=120) == 0, process.communicate()
        expected.append(tree(reference / "mesh"))
    assert expected[0] != expected[1]
    return (first, second), expected


def test_concurrent_renders_leave_one_complete_tree(tmp_path):
    """Four renders of one tree at once, three rounds: each waits for the lock, each exits
    0, and the tree is always one of the two complete renders. On the tree before the lock
    (one staging folder shared by every process) rounds ended with files missing, or none."""
    topologies, expected = _two_meshes(tmp_path, 32)
    out = tmp_path / "out"
    for round_ in range(3):
        processes = [_render_process(topologies[i % 2], out) for i in range(4)]
        results = [(p.wait(timeout=120), *p.communicate()) for p in processes]
        for code, stdout, stderr in results:
            assert code == 0, (round_, stderr)
            assert "Traceback" not in stderr
        assert tree(out / "mesh") in expected, f"round {round_}: a torn tree"
        assert sorted(os.listdir(out)) == ["mesh"]  # no staging folder, no lock file left


def test_a_second_render_waits_for_the_lock_then_gives_up_clearly(tmp_path):
    import fcntl
    import threading

    from generator.write import WriteRefused, lock_path

    root = tmp_path / "mesh"
    handle = os.open(lock_path(root), os.O_RDWR | os.O_CREAT)
    fcntl.flock(handle, fcntl.LOCK_EX)  # another render, as far as the writer can tell
    try:
        with pytest.raises(WriteRefused) as refused:
            write_tree(root, {"a.txt": "a\n"}, lock_timeout=0.2)
        assert refused.value.diagnostic.code == "AKM904"
        assert str(root) in refused.value.diagnostic.file
        assert not root.exists()
        # Released while the writer waits: it goes ahead.
        threading.Timer(0.3, os.close, [handle]).start()
        write_tree(root, {"a.txt": "a\n"}, lock_timeout=30)
    finally:
        with contextlib.suppress(OSError):
            os.close(handle)
    assert snapshot(root) == {"a.txt": b"a\n", MANIFEST: snapshot(root)[MANIFEST]}
    assert sorted(os.listdir(tmp_path)) == ["mesh"]


@pytest.mark.parametrize("sig, code", [(signal.SIGINT, 130), (signal.SIGTERM, 143)])
def test_a_signal_cleans_up_and_exits_without_a_traceback(tmp_path, sig, code):
    """Ctrl-C and SIGTERM, early and mid-write: no traceback, exit 130 or 143, no staging
    left, and the tree whole (the old one, or the new one if the swap was done). Before:
    Ctrl-C printed a KeyboardInterrupt traceback, SIGTERM left the staging folder."""
    (old, new), (old_tree, new_tree) = _two_meshes(tmp_path, 64)
    out = tmp_path / "out"
    assert _render_process(old, out).wait(timeout=120) == 0
    early = _render_process(new, out)
    time.sleep(0.3)  # importing or compiling
    early.send_signal(sig)
    _, stderr = early.communicate(timeout=120)
    # On a loaded machine the interpreter may still be starting, before the entry point
    # installs its handler: then the signal's default action ends it, before any write.
    assert early.returncode in (0, code, -sig), stderr
    assert "Traceback" not in stderr, stderr
    assert _render_process(old, out).wait(timeout=120) == 0
    for _ in range(20):  # until one signal lands while the tree is being staged
        process = _render_process(new, out)
        while process.poll() is None and not list(out.glob(".mesh.aksmesh-staging-*")):
            time.sleep(0.001)
        process.send_signal(sig)
        _, stderr = process.communicate(timeout=120)
        if process.returncode == 0:  # finished first: start over from the old tree
            assert _render_process(old, out).wait(timeout=120) == 0
            continue
        assert process.returncode == code, stderr
        assert "Traceback" not in stderr and "internal error" not in stderr, stderr
        assert sorted(os.listdir(out)) == ["mesh"], "staging or lock left behind"
        assert tree(out / "mesh") in (old_tree, new_tree)
        break
    else:
        pytest.fail("no signal landed while the tree was being staged")


# ---------------------------------------------------------------- what is at OUT/<name>


def _elsewhere(base):
    shared = base / "elsewhere"
    shared.mkdir(exist_ok=True)
    (shared / "theirs.txt").write_text("the user's\n")
    return shared


def _a_file(out):
    (out / "mesh").write_text("a note of the user's\n")


def _a_symlink_outside(out):
    (out / "mesh").symlink_to(_elsewhere(out.parent))


def _a_symlink_to_a_rendered_tree(out):
    write_tree(out / "real", {"a.txt": "a\n"})
    (out / "mesh").symlink_to("real")


def _a_dangling_symlink(out):
    (out / "mesh").symlink_to("nowhere")


def _a_directory_aksmesh_did_not_write(out):
    (out / "mesh").mkdir()
    (out / "mesh" / "notes.txt").write_text("mine\n")


def _rendered(out):
    """`out/mesh` as aksmesh renders VALID."""
    topology = out.parent / "valid.yaml"
    topology.write_text(VALID)
    assert run_cli("render", topology, "-o", out).exit_code == 0


def _a_symlink_where_aksmesh_writes_a_directory(out):
    _rendered(out)
    shutil.rmtree(out / "mesh" / "bicep")
    (out / "mesh" / "bicep").symlink_to(_elsewhere(out.parent))


def _a_file_where_aksmesh_writes_a_directory(out):
    _rendered(out)
    shutil.rmtree(out / "mesh" / "clusters")
    (out / "mesh" / "clusters").write_text("mine\n")


def _a_directory_where_aksmesh_writes_a_file(out):
    _rendered(out)
    (out / "mesh" / "README.md").unlink()
    (out / "mesh" / "README.md").mkdir()
    (out / "mesh" / "README.md" / "mine.txt").write_text("mine\n")


REFUSED = {
    "a regular file": (_a_file, "AKM902", "mesh"),
    "a symlink to a directory outside out/": (_a_symlink_outside, "AKM902", "mesh"),
    "a symlink to a tree aksmesh wrote": (_a_symlink_to_a_rendered_tree, "AKM902", "mesh"),
    "a dangling symlink": (_a_dangling_symlink, "AKM902", "mesh"),
    "a directory aksmesh did not write": (_a_directory_aksmesh_did_not_write, "AKM902",
                                          "mesh"),
    "a symlink where aksmesh writes a directory": (
        _a_symlink_where_aksmesh_writes_a_directory, "AKM905", "mesh/bicep"),
    "a file where aksmesh writes a directory": (
        _a_file_where_aksmesh_writes_a_directory, "AKM905", "mesh/clusters"),
    "a directory where aksmesh writes a file": (
        _a_directory_where_aksmesh_writes_a_file, "AKM905", "mesh/README.md"),
}


@pytest.fixture
def valid_file(tmp_path):
    """A topology named `mesh` whose tree differs from VALID's: a render rewrites it."""
    path = tmp_path / "mesh.yaml"
    path.write_text(VALID.replace('"1.36"', '"1.37"'))
    return path


@pytest.mark.parametrize("name", REFUSED)
def test_what_aksmesh_does_not_own_at_the_tree_is_refused_and_nothing_moves(
        tmp_path, valid_file, name):
    make, code, where = REFUSED[name]
    out = tmp_path / "out"
    out.mkdir()
    make(out)
    before = tree(tmp_path)
    result = run_cli("render", valid_file, "-o", out)
    assert result.exit_code == 1, result.output
    assert f"{out / where}:1:1: {code} " in result.stdout, result.output
    assert "hint: " in result.stdout
    assert tree(tmp_path) == before  # nothing moved, nothing left beside the tree
    # Nothing wedged: with the user's entry gone, the next render writes the tree.
    target = out / where
    if target.is_dir() and not target.is_symlink():
        shutil.rmtree(target)
    else:
        target.unlink()
    assert run_cli("render", valid_file, "-o", out).exit_code == 0
    assert (out / "mesh" / "bicep" / "main.bicep").is_file()


READ_ONLY = ["chmod the tree", "read-only mount of the tree", "read-only mount of out/"]


@pytest.mark.parametrize("how", READ_ONLY)
def test_a_tree_that_cannot_be_replaced_is_refused_and_nothing_moves(tmp_path, valid_file, how):
    """chmod for a user (root may replace anything: nothing to refuse); a read-only bind mount
    in a mount namespace of its own (`unshare -m`) for root, which even root cannot write."""
    out = tmp_path / "out"
    _rendered(out)
    if how == "chmod the tree":
        if os.geteuid() == 0:
            pytest.skip("root replaces a tree whatever its modes")
        for directory, _, _ in os.walk(out / "mesh"):
            os.chmod(directory, 0o555)
        command = [sys.executable, "-m", "generator", "render", str(valid_file), "-o", str(out)]
    else:
        if os.geteuid() != 0 or not shutil.which("unshare"):
            pytest.skip("a bind mount needs root and unshare")
        mounted = out / "mesh" if how == "read-only mount of the tree" else out
        command = ["unshare", "-m", "sh", "-c", f'mount --bind -o ro "$1" "$1" && shift && '
                   f'exec "$@"', "sh", str(mounted), sys.executable, "-m", "generator",
                   "render", str(valid_file), "-o", str(out)]
    before = tree(tmp_path)
    try:
        result = subprocess.run(command, cwd=PROJECT, capture_output=True, text=True,
                                timeout=120)
        if result.returncode != 1 and "mount" in result.stderr:
            pytest.skip(f"no bind mount here: {result.stderr.strip()}")
        assert result.returncode == 1, result.stderr
        assert f"{out / 'mesh'}:1:1: AKM903 " in result.stdout, result.stdout + result.stderr
        assert "Traceback" not in result.stderr
        assert tree(tmp_path) == before
    finally:
        for directory, _, _ in os.walk(out / "mesh"):
            os.chmod(directory, 0o755)
    assert run_cli("render", valid_file, "-o", out).exit_code == 0


def test_an_empty_manifest_adopts_a_directory_and_keeps_its_files(tmp_path, valid_file):
    out = tmp_path / "out"
    _a_directory_aksmesh_did_not_write(out.mkdir() or out)
    (out / "mesh" / MANIFEST).write_text("")
    assert run_cli("render", valid_file, "-o", out).exit_code == 0
    assert (out / "mesh" / "notes.txt").read_text() == "mine\n"
    assert (out / "mesh" / "bicep" / "main.bicep").is_file()


def test_every_entry_the_user_owns_survives_a_render(tmp_path, valid_file):
    """Symlinks to directories (deleted on every render before), symlinks to files, dangling
    symlinks, empty directories and files beside and below aksmesh's own."""
    out = tmp_path / "out"
    _rendered(out)
    shared = _elsewhere(tmp_path)
    mesh = out / "mesh"
    (mesh / "common").symlink_to("../../elsewhere")
    (mesh / "clusters" / "ne" / "shared-link").symlink_to(shared)
    (mesh / "theirs.txt").symlink_to("../../elsewhere/theirs.txt")
    (mesh / "dangling").symlink_to("nowhere")
    (mesh / "empty" / "deeper").mkdir(parents=True)
    (mesh / "clusters" / "ne" / "gotk-sync.yaml").write_text("# flux bootstrap's\n")
    user = {path: entry for path, entry in tree(mesh).items()
            if path.startswith(("common", "theirs", "dangling", "empty"))
            or "shared-link" in path or "gotk" in path}
    shared_before = tree(shared)
    result = run_cli("render", valid_file, "-o", out)
    assert result.exit_code == 0, result.output
    assert "0 changed" not in result.stderr  # the tree was rewritten, not left alone
    after = tree(mesh)
    assert {path: after.get(path) for path in user} == user
    assert tree(shared) == shared_before


def test_directory_modes_survive_a_render(tmp_path, valid_file):
    out = tmp_path / "out"
    _rendered(out)
    (out / "mesh" / "private").mkdir()
    (out / "mesh" / "private" / "key.txt").write_text("mine\n")
    os.chmod(out / "mesh" / "private", 0o700)
    os.chmod(out / "mesh" / "clusters", 0o750)
    os.chmod(out / "mesh", 0o750)
    assert run_cli("render", valid_file, "-o", out).exit_code == 0
    modes = {name: oct(os.stat(out / "mesh" / name).st_mode & 0o777)
             for name in ("", "private", "clusters")}
    assert modes == {"": "0o750", "private": "0o700", "clusters": "0o750"}


def test_leftovers_of_killed_runs_are_cleaned_up(tmp_path):
    root = tmp_path / "mesh"
    write_tree(root, {"a.txt": "a\n"})
    for name in (".mesh.aksmesh-staging", ".mesh.aksmesh-staging-0badf00d"):
        (tmp_path / name / "half" / "written").mkdir(parents=True)
        (tmp_path / name / "half" / "x.txt").write_text("x\n")
    (tmp_path / ".mesh-other.aksmesh-staging-1").mkdir()  # another tree's: not ours to judge
    write_tree(root, {"a.txt": "a2\n"})
    assert sorted(os.listdir(tmp_path)) == [".mesh-other.aksmesh-staging-1", "mesh"]


def test_a_swap_cut_between_its_renames_is_put_back(tmp_path):
    """The non-atomic fallback swap, killed after moving the old tree aside: the next render
    finds the tree missing and the old one beside it, puts it back, and keeps the user's
    files of it."""
    root = tmp_path / "mesh"
    write_tree(root, {"a.txt": "a\n"})
    (root / "mine.txt").write_text("mine\n")
    root.rename(tmp_path / ".mesh.aksmesh-old-0badf00d")
    write_tree(root, {"a.txt": "a2\n"})
    assert (root / "mine.txt").read_text() == "mine\n"
    assert (root / "a.txt").read_text() == "a2\n"
    assert sorted(os.listdir(tmp_path)) == ["mesh"]


def test_a_symlink_planted_at_the_lock_path_is_not_followed(tmp_path):
    """Followed, it would create a file wherever it points (as root: anywhere)."""
    from generator.write import lock_path

    target = tmp_path / "elsewhere" / "created-by-aksmesh"
    target.parent.mkdir()
    lock_path(tmp_path / "mesh").symlink_to(target)
    with pytest.raises(OSError):
        write_tree(tmp_path / "mesh", {"a.txt": "a\n"})
    assert not target.exists() and not (tmp_path / "mesh").exists()
