"""Docs that cannot drift: docs/*.md are what `make docs` generates from their sources."""

import pytest

from generator.docs import generated_docs


@pytest.mark.parametrize("path, text", generated_docs().items(), ids=lambda v: getattr(v, "name", ""))
def test_generated_doc_is_current(path, text):
    assert path.read_text(encoding="utf-8") == text, f"{path.name} is stale: run `make docs`"


def test_every_topology_key_is_documented():
    import json

    from generator.docs import DOCS_DIR
    from generator.inputs import SCHEMA_PATH

    text = generated_docs()[DOCS_DIR / "topology.md"]
    schema = json.loads(SCHEMA_PATH.read_text())
    for key in schema["$defs"]["cluster"]["properties"]:
        assert f"`clusters[].{key}`" in text
