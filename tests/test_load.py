"""AKM0xx: what cannot be read or parsed is reported, located, and never a traceback."""

from pathlib import Path

import pytest

from generator import compiler


def codes(path: Path):
    return [(d.code, d.line, d.col) for d in compiler.validate(path).diagnostics]


def test_missing_file_is_akm001(tmp_path):
    assert codes(tmp_path / "nope.yaml") == [("AKM001", 1, 1)]


def test_directory_is_akm001(tmp_path):
    assert codes(tmp_path) == [("AKM001", 1, 1)]


def test_binary_file_is_akm001(tmp_path):
    path = tmp_path / "t.yaml"
    path.write_bytes(b"\x7fELF\x00\x01\x02")
    assert codes(path) == [("AKM001", 1, 1)]


def test_latin1_file_is_akm001_at_the_bad_line(tmp_path):
    path = tmp_path / "t.yaml"
    path.write_bytes(b"name: mesh\nregion: r\xe9gion\n")
    assert codes(path) == [("AKM001", 2, 1)]


def test_syntax_error_is_akm002_at_its_line(tmp_path):
    path = tmp_path / "t.yaml"
    path.write_text("name: mesh\nclusters: [a, b\nkubernetesVersion: '1.36'\n")
    [(code, line, _)] = codes(path)
    assert code == "AKM002" and line >= 2


def test_tab_indentation_is_akm002_with_a_hint(tmp_path):
    path = tmp_path / "t.yaml"
    path.write_text("name: mesh\nclusters:\n\t- name: a\n")
    [diagnostic] = compiler.validate(path).diagnostics
    assert (diagnostic.code, diagnostic.line) == ("AKM002", 3)
    assert "tab" in diagnostic.hint


def test_duplicate_key_is_akm003_at_the_second_key(tmp_path):
    path = tmp_path / "t.yaml"
    path.write_text("name: a\nkubernetesVersion: '1.36'\nname: b\n")
    assert codes(path) == [("AKM003", 3, 1)]


@pytest.mark.parametrize("text", ["# nothing here\n", "name: a\n---\nname: b\n",
                                  "- name: a\n"],
                         ids=["an empty file", "two documents", "a list root"])
def test_not_one_mapping_is_akm004(tmp_path, text):
    path = tmp_path / "t.yaml"
    path.write_text(text)
    assert codes(path) == [("AKM004", 1, 1)]


def test_alias_bomb_is_akm005(tmp_path):
    lines = ["a0: &a0 [x, x, x, x, x, x, x, x, x, x]"]
    lines += [f"a{i}: &a{i} [" + ", ".join([f"*a{i - 1}"] * 10) + "]" for i in range(1, 9)]
    path = tmp_path / "t.yaml"
    path.write_text("\n".join(lines) + "\n")
    assert [c for c, _, _ in codes(path)] == ["AKM005"]


def test_oversized_file_is_akm005(tmp_path):
    path = tmp_path / "t.yaml"
    path.write_bytes(b"# " + b"x" * (2 * 1024 * 1024) + b"\n")
    assert codes(path) == [("AKM005", 1, 1)]


# 30000 levels once overflowed the C stack (a regression found by tests/test_corpus.py).
@pytest.mark.parametrize("depth", [200, 30000])
def test_deep_nesting_is_akm005_not_a_crash(tmp_path, depth):
    path = tmp_path / "t.yaml"
    path.write_text("name: " + "[" * depth + "]" * depth + "\n")
    assert [c for c, _, _ in codes(path)] == ["AKM005"]


def test_byte_order_mark_and_crlf_are_accepted(tmp_path):
    from conftest import VALID

    path = tmp_path / "t.yaml"
    path.write_bytes(b"\xef\xbb\xbf" + VALID.replace("\n", "\r\n").encode())
    assert codes(path) == []


# Regressions found by the hostile-input corpus (tests/test_corpus.py).


def test_a_huge_number_of_keys_is_akm005_at_the_key_past_the_limit(tmp_path):
    from generator.load import MAX_NODES

    path = tmp_path / "t.yaml"
    path.write_text("".join(f"k{i}: 1\n" for i in range(MAX_NODES)))
    [(code, line, _)] = codes(path)
    assert code == "AKM005" and 1 < line <= MAX_NODES  # where the limit was crossed


def test_a_device_is_not_read(tmp_path):
    assert codes(Path("/dev/zero")) == [("AKM001", 1, 1)]


def test_a_complex_key_is_akm002(tmp_path):
    path = tmp_path / "t.yaml"
    path.write_text("? a: [b]\n: c\n")
    assert [c for c, _, _ in codes(path)] == ["AKM002"]


# Issue 16: a tag anywhere is AKM103 at the tag. Before, a tag on a mapping or a list was
# dropped without a word, and one whose constructor failed was AKM002 at 1:1.
TAGGED = {
    "a tag that fails to construct": ("name: !!int d\n", 1, 7),
    "a float tag on text": ('kubernetesVersion: "1.36"\nname: !!float abc\n', 2, 7),
    "an omap tag on the root": ("!!omap kubernetesVersion: x\n", 1, 1),
    "a local tag on a cluster": ("clusters:\n  - !cluster\n    name: ne\n", 2, 5),
    "a python tag on a cluster": ("clusters:\n  - !!python/object:os.system\n    name: ne\n",
                                  2, 5),
    "a tag on the list of clusters": ("name: mesh\nclusters: !!seq\n  - name: ne\n", 2, 11),
    "a tag on a flow mapping": ("name: mesh\ncilium: !x {version: '1.19.2'}\n", 2, 9),
    "a verbatim tag": ("name: !<tag:yaml.org,2002:str> mesh\n", 1, 7),
    "a non-specific tag": ("name: ! mesh\n", 1, 7),
    "a harmless str tag": ('kubernetesVersion: !!str "1.36"\n', 1, 20),
    "a tag on a key": ("!!str name: mesh\n", 1, 1),
}


@pytest.mark.parametrize("name", TAGGED)
def test_a_tag_anywhere_is_akm103_at_the_tag(tmp_path, name):
    text, line, col = TAGGED[name]
    path = tmp_path / "t.yaml"
    path.write_text(text)
    [diagnostic] = compiler.validate(path).diagnostics
    assert (diagnostic.code, diagnostic.line, diagnostic.col) == ("AKM103", line, col)
    assert "tag" in diagnostic.message


# YAML 1.2 breaks lines at LF, CR and CR LF only; ruamel, like YAML 1.1, also at NEL, LS and
# PS, which moved every position after them (a bogus AKM002, or a finding on the wrong line).
@pytest.mark.parametrize("char", ["\x85", "\u2028", "\u2029"])
@pytest.mark.parametrize("where", ["comment", "quoted", "plain"])
def test_nel_ls_and_ps_are_not_line_breaks(tmp_path, char, where):
    """The character goes into cluster ne (line 6), before the out-of-range id of cluster we
    (line 12): every finding after it stays on its line and column."""
    from conftest import mutate

    duplicate = ("    id: 2\n", "    id: 600\n")
    text = {
        "comment": mutate(("    region: northeurope\n",
                           f"    region: northeurope  # [not {char} a: break\n"), duplicate),
        "quoted": mutate(("    region: northeurope\n", f'    region: "north{char}: [europe"\n'),
                         duplicate),
        "plain": mutate(("    region: northeurope\n", f"    region: north{char}europe\n"),
                        duplicate),
    }[where]
    path = tmp_path / "t.yaml"
    path.write_text(text, encoding="utf-8")
    found = sorted(codes(path))
    assert found == sorted([("AKM105", 12, 9)] + ([] if where == "comment" else
                                                  [("AKM104", 6, 13)])), found


def test_a_plain_name_with_ps_is_refused_as_written(tmp_path):
    from conftest import VALID

    path = tmp_path / "t.yaml"
    path.write_text(VALID.replace("name: mesh", "name: me\u2029sh"), encoding="utf-8")
    [d] = compiler.validate(path).diagnostics
    assert (d.code, d.line, d.col) == ("AKM104", 1, 7) and "\\u2029" in d.message


@pytest.mark.parametrize("number", ["9" * 5000, "-" + "1" * 4301, "0x" + "f" * 4000,
                                    "1_000" * 30, "0" * 101])
def test_a_number_of_thousands_of_digits_is_akm106_where_it_stands(tmp_path, number):
    from conftest import mutate

    path = tmp_path / "t.yaml"
    path.write_text(mutate(("    id: 2\n", f"    id: {number}\n")))
    [d] = compiler.validate(path).diagnostics
    assert (d.code, d.line, d.col) == ("AKM106", 12, 9)
    assert "set_int_max_str_digits" not in d.message + d.hint and "tag" not in d.hint


@pytest.mark.parametrize("newline", ["\n", "\r", "\r\n"])
def test_a_yaml_1_1_directive_is_akm002_at_the_directive(tmp_path, newline):
    """The fast reader ignored it (YAML 1.2), the round-trip one obeyed it: positions were
    looked up in a different document (`y:` became the key True)."""
    from conftest import VALID

    path = tmp_path / "t.yaml"
    path.write_text(("# a comment\n%YAML 1.1\n---\n" + VALID + "y: yes\n").replace(
        "\n", newline), newline="")
    assert codes(path) == [("AKM002", 2, 1)]


def test_a_yaml_1_2_directive_is_fine(tmp_path):
    from conftest import VALID

    path = tmp_path / "t.yaml"
    path.write_text("%YAML 1.2\n---\n" + VALID)
    assert codes(path) == []


def test_a_long_quoted_number_is_text(tmp_path):
    from conftest import mutate

    path = tmp_path / "t.yaml"
    path.write_text(mutate(("name: mesh\n", f'name: "{"1" * 5000}"\n')))
    assert [c for c, _, _ in codes(path)] == ["AKM105"]  # too long for a name, read as text


def test_a_tab_inside_a_value_is_located_or_placed_at_the_top(tmp_path):
    from conftest import VALID

    path = tmp_path / "t.yaml"
    path.write_text(VALID.replace("name: mesh", "name: me\tsh"))
    assert [c for c, _, _ in codes(path)] == ["AKM104"]


def test_a_merge_key_does_not_break_positions(tmp_path):
    from conftest import VALID

    path = tmp_path / "t.yaml"
    text = VALID.replace("  - name: ne\n", "  - &ne\n    name: ne\n").split("  - name: we")[0]
    path.write_text(text + "  - <<: *ne\n    id: 2\n")
    found = [c for c, _, _ in codes(path)]
    assert "AKM201" in found  # the merged-in name repeats `ne`
