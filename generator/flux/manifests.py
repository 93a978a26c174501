"""The rendered manifests read back as Kubernetes reads them (YAML 1.1, PyYAML's C loader).

verify's checks all read the same rendered files: the schemas, the apply-order model, the
reachability model and the values-merge check. Each distinct text is parsed once per run,
here; most files repeat from cluster to cluster, and hundreds of clusters make thousands.
"""

from __future__ import annotations

from functools import lru_cache
from typing import Any


# Bounded, so that a long-lived process (the test suite) does not keep every text it
# rendered; one render of the largest mesh (511 clusters) has fewer distinct files.
@lru_cache(maxsize=8192)
def documents(text: str) -> tuple[Any, ...]:
    """The non-empty documents of a rendered file; yaml.YAMLError when it does not parse.
    Shared between callers: never mutate what it returns."""
    import yaml

    return tuple(d for d in yaml.load_all(text, Loader=yaml.CSafeLoader) if d)
