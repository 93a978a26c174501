"""The YAML emitter: whatever data it is given, every YAML parser reads back the same data."""

import yaml
from hypothesis import example, given, strategies as st
from ruamel.yaml import YAML

from generator.flux import yaml_text

scalars = st.one_of(st.booleans(), st.none(), st.integers(-10**6, 10**6),
                    st.text(st.characters(codec="utf-8", exclude_categories=("Cs",)), max_size=12),
                    st.sampled_from(["no", "yes", "on", "true", "null", "~", "1e3", "0x1F",
                                     "10.1.0.0/16", "10.1.2.3", "1.20", "-", "a: b", "#x",
                                     ".0", "._", ".5e-3", "./x"]))
keys = st.text(st.characters(codec="utf-8", exclude_categories=("Cs", "Cc", "Zl", "Zp")),
               min_size=1, max_size=10)
data = st.recursive(st.dictionaries(keys, st.one_of(scalars, st.lists(scalars, max_size=3)),
                                    max_size=4),
                    lambda children: st.dictionaries(keys, children, max_size=3), max_leaves=12)


@given(data)
@example({".0": {}, "._": "._1", "k": [".5e-3", "./x"]})  # once found by hypothesis in CI
def test_pyyaml_reads_back_the_data(value):
    assert yaml.safe_load(yaml_text.dump(value)) == (value or None)


@given(data)
@example({".0": {}, "._": "._1", "k": [".5e-3", "./x"]})
def test_yaml_1_2_reads_back_the_data(value):
    assert YAML(typ="safe").load(yaml_text.dump(value)) == (value or None)


def test_comments_and_header_are_placed_before_their_keys():
    text = yaml_text.dump({"a": {"b": 1}, "c": 2}, {("a", "b"): "why b", ("c",): "why c"},
                          header="top")
    assert text == "# top\n\na:\n  # why b\n  b: 1\n\n# why c\nc: 2\n"
