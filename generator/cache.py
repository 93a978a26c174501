"""Derived data kept between runs, so that a small render does not redo a big job.

What is kept: the parts of the Azure type data that the Bicep checks read (the templates
need no cache: they ship compiled). Correctness never depends on the cache: every entry
is keyed by what it was derived from, an entry that cannot be read is derived again, and
a directory that cannot be written only costs time.

The directory is $AKSMESH_CACHE_DIR, else $XDG_CACHE_HOME/aksmesh, else ~/.cache/aksmesh.
"""

from __future__ import annotations

import hashlib
import os
from functools import cache
from pathlib import Path

CACHE_DIR_ENV = "AKSMESH_CACHE_DIR"


@cache
def cache_dir(kind: str) -> Path | None:
    """The directory for one kind of entry, created private to the user; None if it cannot be."""
    try:
        configured = os.environ.get(CACHE_DIR_ENV)
        if configured:
            root = Path(configured)
        else:
            base = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
            root = Path(base) / "aksmesh"
        directory = root / kind
        directory.mkdir(mode=0o700, parents=True, exist_ok=True)
    except (OSError, RuntimeError):  # RuntimeError: no home directory to be found
        return None
    return directory


def entry_name(*source: object) -> str:
    """A file name for the entry derived from `source` (paths, sizes, times, versions)."""
    return hashlib.sha256("\0".join(map(str, source)).encode()).hexdigest()


def read_entry(kind: str, name: str) -> bytes | None:
    directory = cache_dir(kind)
    if directory is None:
        return None
    try:
        return (directory / name).read_bytes()
    except OSError:
        return None


def write_entry(kind: str, name: str, data: bytes) -> None:
    """Written atomically: a concurrent run reads the whole entry or none of it."""
    from .write import write_file

    directory = cache_dir(kind)
    if directory is None:
        return
    try:
        write_file(directory / name, data)
    except OSError:
        pass  # a full disk or a read-only home: the next run derives the entry again
