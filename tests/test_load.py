"""AKM0xx: what cannot be read or parsed is reported, located, and never a traceback."""

from pathlib import Path

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


def test_empty_file_is_akm004(tmp_path):
    path = tmp_path / "t.yaml"
    path.write_text("# nothing here\n")
    assert codes(path) == [("AKM004", 1, 1)]


def test_two_documents_are_akm004(tmp_path):
    path = tmp_path / "t.yaml"
    path.write_text("name: a\n---\nname: b\n")
    assert codes(path) == [("AKM004", 1, 1)]


def test_a_list_root_is_akm004(tmp_path):
    path = tmp_path / "t.yaml"
    path.write_text("- name: a\n")
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


def test_deep_nesting_is_akm005(tmp_path):
    path = tmp_path / "t.yaml"
    path.write_text("name: " + "[" * 200 + "]" * 200 + "\n")
    assert [c for c, _, _ in codes(path)] == ["AKM005"]


def test_byte_order_mark_and_crlf_are_accepted(tmp_path):
    from conftest import VALID

    path = tmp_path / "t.yaml"
    path.write_bytes(b"\xef\xbb\xbf" + VALID.replace("\n", "\r\n").encode())
    assert codes(path) == []
