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


def test_the_readme_lists_every_code_between_its_markers():
    from generator.diagnostics import codes
    from generator.docs import README, README_CODES_BEGIN, README_CODES_END

    readme = README.read_text(encoding="utf-8")
    listed = readme.split(README_CODES_BEGIN)[1].split(README_CODES_END)[0]
    for code in codes().values():
        assert f"[{code.id}](docs/diagnostics.md#{code.id.lower()}) {code.title}" in listed


def test_a_readme_without_its_markers_is_refused():
    from generator.docs import with_readme_codes

    with pytest.raises(ValueError, match="markers"):
        with_readme_codes("# aksmesh\n\n## What is checked\n")
