"""What the rule families share: topology paths and repeats."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from typing import TYPE_CHECKING, TypeVar

if TYPE_CHECKING:  # the registry imports the families: keep them light
    from ..plan_records import Cluster


TopologyPath = tuple[str | int, ...]
T = TypeVar("T")


def repeats(items: Iterable[T], key: Callable[[T], object]) -> Iterator[tuple[T, T]]:
    """(item, the first item before it with the same key), for every repeat."""
    first: dict[object, T] = {}
    for item in items:
        earlier = first.setdefault(key(item), item)
        if earlier is not item:
            yield item, earlier


def at(cluster: Cluster, key: str, fallback: str | None = None) -> TopologyPath:
    """Path of a cluster key; a defaulted value points at the key it was derived from."""
    if fallback and key not in cluster.explicit:
        key = fallback
    return ("clusters", cluster.index, key)

