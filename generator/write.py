"""Stage 6, write: put a rendered tree on disk, all files or none, one render at a time.

aksmesh owns the files listed in `MANIFEST` inside each tree; it replaces and removes only
those, and keeps every other entry (for example the gotk-*.yaml that `flux bootstrap`
commits, or a user's symlink to a shared directory). The new tree is assembled in a staging
directory of its own beside the old one and swapped in with one atomic rename, so a crash or
a kill leaves either the old tree or the new one. SIGINT and SIGTERM that arrive while
a tree is staged are acted on once it is swapped in and the staging directory is gone.

Renders of the same tree take turns: each holds an exclusive `flock` on `.<name>.aksmesh-lock`
beside the tree from before it compares until after it has swapped and cleaned up, and a
second render waits (up to `LOCK_TIMEOUT_SECONDS`) for the first. Before anything is staged,
what is at the tree's path is checked: a file, a symlink, a directory aksmesh did not write,
or a tree it could not replace is refused with a located diagnostic (`WriteRefused`), and
nothing moves.
"""

from __future__ import annotations

import contextlib
import errno
import fcntl
import glob
import os
import shutil
import signal
import stat
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

from .diagnostics import Diagnostic, diagnostic

MANIFEST = ".aksmesh-files"
_MANIFEST_HEADER = "# Files written by aksmesh; it replaces or removes only these.\n"
# A render of the largest mesh takes seconds; a wait this long means a stuck or very slow
# render, which the user should see rather than wait on forever.
LOCK_TIMEOUT_SECONDS = 300.0
_LOCK_POLL_SECONDS = 0.05


@dataclass(frozen=True, order=True)
class Change:
    path: str
    status: str  # created, changed, removed or unchanged


class UnsafePath(ValueError):
    """A rendered path that would leave the output tree: a bug, never written."""


class WriteRefused(Exception):
    """What is on disk does not let aksmesh write the tree; nothing was moved."""

    def __init__(self, diagnostic: Diagnostic):
        super().__init__(diagnostic.message)
        self.diagnostic = diagnostic


def lock_path(root: Path) -> Path:
    return root.parent / f".{root.name}.aksmesh-lock"


def compare(root: Path, files: dict[str, str]) -> list[Change]:
    """How `root` differs from `files` (the manifest included), without writing anything.

    Takes no lock, so that the drift gate leaves nothing beside the tree. A render may swap
    its tree in while this reads: render never writes into a tree, it replaces the whole
    directory, so a read during which `root` stayed the same directory saw one tree. A read
    across a swap is done again.
    """
    wanted = _with_manifest(files)
    while True:
        before = _identity(root)
        changes = _compare(root, wanted, _owned(root))
        if _identity(root) == before:
            return changes


def _identity(root: Path) -> tuple[int, int] | None:
    try:
        found = os.stat(root)
    except FileNotFoundError:
        return None
    return found.st_dev, found.st_ino


def write_tree(root: Path, files: dict[str, str],
               lock_timeout: float = LOCK_TIMEOUT_SECONDS) -> list[Change]:
    wanted = _with_manifest(files)
    root.parent.mkdir(parents=True, exist_ok=True)
    _check_parent(root)
    with _locked(root, lock_timeout):
        _remove_leftovers(root)
        _check_replaceable(root)
        owned = _owned(root)
        changes = _compare(root, wanted, owned)
        if all(c.status == "unchanged" for c in changes):
            return changes
        _check_nothing_in_the_way(root, wanted)
        # Once a staging directory exists, the write runs to its end (staged, swapped, the
        # old tree removed) and SIGINT or SIGTERM is acted on after it: a signal in between
        # would leave the staging directory, or half of the old tree, behind.
        with _signals_deferred():
            _stage_and_swap(root, wanted, owned)
    return changes


def _stage_and_swap(root: Path, wanted: dict[str, str], owned: set[str]) -> None:
    staging = _new_sibling(root, "staging")
    try:
        if root.exists():
            _keep_foreign_files(root, staging, owned | wanted.keys())
        for path, text in wanted.items():
            target = staging / path
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(text.encode())
        if root.exists():
            _keep_directory_modes(root, staging)
        # One sync of the filesystem, not one fsync per file: thousands of files at scale.
        os.sync()
        if root.exists():
            _exchange(staging, root)
        else:
            staging.rename(root)
    finally:
        # After the swap the staging name holds the old tree.
        shutil.rmtree(staging, ignore_errors=True)


def write_file(path: Path, content: str | bytes) -> None:
    """Write one file atomically: a temporary sibling of its own (concurrent writers do not
    share it), synced, then renamed over the target."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with _signals_deferred():  # a signal between mkstemp and the rename would leave it behind
        handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
        try:
            with os.fdopen(handle, "wb") as file:
                file.write(content.encode() if isinstance(content, str) else content)
                file.flush()
                os.fsync(file.fileno())
            os.replace(temporary, path)
        except BaseException:
            os.unlink(temporary)
            raise


def _compare(root: Path, wanted: dict[str, str], owned: set[str]) -> list[Change]:
    changes = []
    for path, text in wanted.items():
        target = root / path
        if not target.is_file():
            changes.append(Change(path, "created"))
        elif target.read_bytes() != text.encode():
            changes.append(Change(path, "changed"))
        else:
            changes.append(Change(path, "unchanged"))
    changes += [Change(path, "removed") for path in owned - wanted.keys() if (root / path).exists()]
    return sorted(changes)


def _with_manifest(files: dict[str, str]) -> dict[str, str]:
    for path in files:
        _check_relative(path)
    listing = "".join(f"{path}\n" for path in sorted(files))
    return {**files, MANIFEST: _MANIFEST_HEADER + listing}


def _check_relative(path: str) -> None:
    pure = PurePosixPath(path)
    if pure.is_absolute() or ".." in pure.parts or str(pure) != path or path == MANIFEST:
        raise UnsafePath(f"refusing to write {path!r} outside the output tree")


def _owned(root: Path) -> set[str]:
    manifest = root / MANIFEST
    if not manifest.is_file():
        return set()
    owned = set()
    for line in manifest.read_text(encoding="utf-8").splitlines():
        if line and not line.startswith("#"):
            try:
                _check_relative(line)
            except UnsafePath:
                continue  # a tampered manifest never makes us delete outside the tree
            owned.add(line)
    return owned | {MANIFEST}


def _keep_foreign_files(root: Path, staging: Path, ours: set[str]) -> None:
    """Carry every entry aksmesh does not own into the staging tree: files as hard links,
    symlinks (to files or to directories) as symlinks, empty directories as directories."""
    for directory, dirnames, filenames in os.walk(root):
        here = Path(directory)
        relative = here.relative_to(root)
        if not dirnames and not filenames and relative.parts:
            # aksmesh never writes an empty directory: this one is the user's.
            (staging / relative).mkdir(parents=True, exist_ok=True)
        # os.walk lists a symlink to a directory among the directories, and does not
        # follow it: it is an entry of its own, to keep as it is.
        links = [name for name in dirnames if (here / name).is_symlink()]
        dirnames[:] = [name for name in dirnames if name not in links]
        for name in filenames + links:
            path = (relative / name).as_posix()
            if path in ours:
                continue
            source, target = here / name, staging / relative / name
            target.parent.mkdir(parents=True, exist_ok=True)
            if source.is_symlink():
                target.symlink_to(os.readlink(source))
            else:
                try:
                    os.link(source, target)
                except OSError:
                    shutil.copy2(source, target)


def _keep_directory_modes(root: Path, staging: Path) -> None:
    """Directories of the new tree keep the modes the old one had (a user's `chmod 700` on
    a directory, or on the tree itself, survives a render)."""
    for directory, dirnames, _ in os.walk(root):
        relative = Path(directory).relative_to(root)
        target = staging / relative
        if target.is_dir() and not target.is_symlink():
            os.chmod(target, stat.S_IMODE(os.lstat(directory).st_mode))


# ---------------------------------------------------------------- taking turns, and checks


@contextlib.contextmanager
def _locked(root: Path, timeout: float) -> Iterator[None]:
    """Hold the tree's lock file, exclusively, for the duration.

    The holder removes the file when it is done, so that nothing is left beside the tree.
    A waiter may then hold a lock on a file that is no longer there: after locking, it checks
    that the path still names the file it locked, and starts over if not.
    """
    path = lock_path(root)
    deadline = time.monotonic() + timeout
    while True:
        # O_NOFOLLOW: a symlink planted at the lock path is refused, not opened.
        handle = os.open(path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC | os.O_NOFOLLOW,
                         0o644)
        try:
            while True:
                try:
                    fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
                    break
                except BlockingIOError:
                    if time.monotonic() >= deadline:
                        raise WriteRefused(_refusal(
                            "AKM904", root, f"another aksmesh render has been writing this "
                            f"tree for more than {timeout:g} s",
                            f"let it finish, then render again; it holds {path} (the lock "
                            "of a process that died is released by the system)")) from None
                    time.sleep(_LOCK_POLL_SECONDS)
            try:
                locked, current = os.fstat(handle), os.stat(path)
                if (locked.st_dev, locked.st_ino) == (current.st_dev, current.st_ino):
                    break
            except FileNotFoundError:
                pass
        except BaseException:
            os.close(handle)
            raise
        os.close(handle)
    try:
        yield
    finally:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(path)
        os.close(handle)


def _new_sibling(root: Path, kind: str) -> Path:
    """A directory of this run's own beside `root` (not mkdtemp's: its mode is 0700, and the
    staging directory becomes the tree)."""
    while True:
        path = root.parent / f".{root.name}.aksmesh-{kind}-{os.urandom(4).hex()}"
        try:
            path.mkdir()
            return path
        except FileExistsError:
            continue


def _remove_leftovers(root: Path) -> None:
    """Staging and swap directories of runs that were killed (only a lock holder makes them,
    and we hold the lock). A swap cut between its two renames left the previous tree under
    the `old` name: it goes back in place."""
    prefix = f".{glob.escape(root.name)}.aksmesh-"
    for leftover in sorted(root.parent.glob(f"{prefix}old*")):
        if leftover.is_dir() and not leftover.is_symlink() and not os.path.lexists(root):
            leftover.rename(root)
    for leftover in sorted([*root.parent.glob(f"{prefix}staging*"),
                            *root.parent.glob(f"{prefix}old*")]):
        if leftover.is_dir() and not leftover.is_symlink():
            shutil.rmtree(leftover, onerror=_make_writable_and_retry)


def _make_writable_and_retry(function, path, _info) -> None:  # type: ignore[no-untyped-def]
    # A leftover is ours to remove, even where an old tree inside it was read-only.
    with contextlib.suppress(OSError):
        os.chmod(os.path.dirname(path), 0o700)
    function(path)


def _check_parent(root: Path) -> None:
    if not os.access(root.parent, os.W_OK | os.X_OK):
        raise WriteRefused(_refusal(
            "AKM903", root, f"{root.parent} is not writable: the tree cannot be swapped in",
            f"make {root.parent} writable, or render into another directory with -o"))


def _check_replaceable(root: Path) -> None:
    """Refuse what is at `root` unless it is nothing, or a tree aksmesh can replace."""
    if root.is_symlink():
        raise WriteRefused(_refusal(
            "AKM902", root, f"is a symlink (to {os.readlink(root)}), not a tree aksmesh wrote",
            "remove the link, or render into the directory it points to with -o"))
    if not root.exists():
        return
    if not root.is_dir():
        raise WriteRefused(_refusal(
            "AKM902", root, "is a file, not a tree aksmesh wrote",
            "move the file away, or render into another directory with -o"))
    manifest = root / MANIFEST
    if not (manifest.is_file() and not manifest.is_symlink()) and any(root.iterdir()):
        raise WriteRefused(_refusal(
            "AKM902", root, f"is a directory aksmesh did not write (it has no {MANIFEST})",
            f"move it away or render elsewhere with -o; to keep its files in the tree, "
            f"create an empty {manifest} and render again"))
    for directory, dirnames, _ in os.walk(root):
        if not os.access(directory, os.W_OK | os.X_OK):
            raise WriteRefused(_refusal(
                "AKM903", root, f"{directory} is read-only: the old tree could not be removed "
                "after the swap", f"make it writable (chmod -R u+w {root}), or render "
                "into another directory with -o"))


def _check_nothing_in_the_way(root: Path, wanted: dict[str, str]) -> None:
    """A user's entry where aksmesh needs a directory, or a user's directory where it writes
    a file. A symlink to a directory there would even make aksmesh write through it."""
    directories = {parent.as_posix() for path in wanted
                   for parent in PurePosixPath(path).parents if parent.parts}
    for path in sorted(directories):
        target = root / path
        if target.is_symlink() or (target.exists() and not target.is_dir()):
            what = "a symlink" if target.is_symlink() else "a file"
            raise WriteRefused(_refusal(
                "AKM905", target, f"is {what} that aksmesh does not own, where it writes "
                f"the directory {path}/", "move it away, then render again"))
    for path in wanted:
        target = root / path
        if target.is_dir() and not target.is_symlink():  # aksmesh writes only files
            raise WriteRefused(_refusal(
                "AKM905", target, f"is a directory that aksmesh does not own, where it "
                f"writes the file {path}", "move it away, then render again"))


def _refusal(code: str, path: Path, message: str, hint: str) -> Diagnostic:
    return diagnostic(code, str(path), 1, 1, message, hint)


@contextlib.contextmanager
def _signals_deferred() -> Iterator[None]:
    """Hold SIGINT and SIGTERM back for the duration; they arrive when it ends."""
    held = {signal.SIGINT, signal.SIGTERM}
    previous = signal.pthread_sigmask(signal.SIG_BLOCK, held)
    try:
        yield
    finally:
        signal.pthread_sigmask(signal.SIG_SETMASK, previous)


_RENAME_EXCHANGE = 2


def _exchange(a: Path, b: Path) -> None:
    """Swap two directories atomically (Linux renameat2); fall back to two renames."""
    import ctypes  # here: a render that changes nothing never swaps, and ctypes costs ~3 ms

    libc = ctypes.CDLL(None, use_errno=True)
    renameat2 = getattr(libc, "renameat2", None)
    if renameat2 is not None:
        at_fdcwd = -100
        if renameat2(at_fdcwd, os.fsencode(a), at_fdcwd, os.fsencode(b), _RENAME_EXCHANGE) == 0:
            return
        if ctypes.get_errno() not in (errno.ENOSYS, errno.EINVAL):
            raise OSError(ctypes.get_errno(), os.strerror(ctypes.get_errno()), str(b))
    # Not atomic: between the two renames `b` is missing (its content is safe in `old`,
    # which the next render puts back if this one is killed there).
    old = b.parent / f".{b.name}.aksmesh-old-{os.urandom(4).hex()}"
    b.rename(old)
    a.rename(b)
    old.rename(a)
