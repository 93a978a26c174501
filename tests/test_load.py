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


@pytest.mark.parametrize("text", ["name: !!int d\n", "name: !!float abc\n", "? a: [b]\n: c\n",
                                  "!!omap kubernetesVersion: x\n"])
def test_tags_that_fail_to_construct_are_akm002(tmp_path, text):
    path = tmp_path / "t.yaml"
    path.write_text(text)
    assert [c for c, _, _ in codes(path)] == ["AKM002"]


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
