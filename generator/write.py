"""Stage 6, write: put a rendered tree on disk, all files or none.

aksmesh owns the files listed in `MANIFEST` inside each tree; it replaces and removes only
those, and keeps every other file (for example the gotk-*.yaml that `flux bootstrap`
commits). The new tree is assembled in a staging directory beside the old one and swapped
in with one atomic rename, so a crash or a kill leaves either the old tree or the new one.
"""

from __future__ import annotations

import ctypes
import errno
import os
import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

MANIFEST = ".aksmesh-files"
_MANIFEST_HEADER = "# Files written by aksmesh; it replaces or removes only these.\n"


@dataclass(frozen=True, order=True)
class Change:
    path: str
    status: str  # created, changed, removed or unchanged


class UnsafePath(ValueError):
    """A rendered path that would leave the output tree: a bug, never written."""


def compare(root: Path, files: dict[str, str]) -> list[Change]:
    """How `root` differs from `files` (the manifest included), without writing anything."""
    return _compare(root, _with_manifest(files), _owned(root))


def write_tree(root: Path, files: dict[str, str]) -> list[Change]:
    wanted, owned = _with_manifest(files), _owned(root)
    changes = _compare(root, wanted, owned)
    if all(c.status == "unchanged" for c in changes):
        return changes
    staging = root.parent / f".{root.name}.aksmesh-staging"
    if staging.exists():  # left over by an interrupted run; it holds nothing of value
        shutil.rmtree(staging)
    staging.mkdir(parents=True)
    try:
        if root.exists():
            _keep_foreign_files(root, staging, owned | wanted.keys())
        for path, text in wanted.items():
            target = staging / path
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(text.encode())
        # One sync of the filesystem, not one fsync per file: thousands of files at scale.
        os.sync()
        if root.exists():
            _exchange(staging, root)
        else:
            staging.rename(root)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return changes


def write_file(path: Path, content: str | bytes) -> None:
    """Write one file atomically: a temporary sibling of its own (concurrent writers do not
    share it), synced, then renamed over the target."""
    path.parent.mkdir(parents=True, exist_ok=True)
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
    """Hard-link every file aksmesh does not own into the staging tree."""
    for directory, dirnames, filenames in os.walk(root):
        relative = Path(directory).relative_to(root)
        for name in filenames:
            path = (relative / name).as_posix()
            if path in ours:
                continue
            source, target = Path(directory) / name, staging / relative / name
            target.parent.mkdir(parents=True, exist_ok=True)
            if source.is_symlink():
                target.symlink_to(os.readlink(source))
            else:
                try:
                    os.link(source, target)
                except OSError:
                    shutil.copy2(source, target)


_RENAME_EXCHANGE = 2


def _exchange(a: Path, b: Path) -> None:
    """Swap two directories atomically (Linux renameat2); fall back to two renames."""
    libc = ctypes.CDLL(None, use_errno=True)
    renameat2 = getattr(libc, "renameat2", None)
    if renameat2 is not None:
        at_fdcwd = -100
        if renameat2(at_fdcwd, os.fsencode(a), at_fdcwd, os.fsencode(b), _RENAME_EXCHANGE) == 0:
            return
        if ctypes.get_errno() not in (errno.ENOSYS, errno.EINVAL):
            raise OSError(ctypes.get_errno(), os.strerror(ctypes.get_errno()), str(b))
    # Not atomic: between the two renames `b` is missing (its content is safe in `old`).
    old = b.parent / f".{b.name}.aksmesh-old"
    b.rename(old)
    a.rename(b)
    old.rename(a)
