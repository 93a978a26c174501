"""Deterministic block-style YAML for data aksmesh builds, with comments that say why.

Used where the data must be verified in memory before it is written (re-parsing thousands
of rendered files costs seconds at scale): the text is made from the data, so what was
verified is what is written. Tests parse the text back and compare.
"""

from __future__ import annotations

import re
from functools import cache
from typing import Any

Comments = dict[tuple[str, ...], str]

# Plain scalars that every YAML 1.1 and 1.2 parser reads back as the same string.
_PLAIN = re.compile(r"[A-Za-z_./][-A-Za-z0-9_./]*|[0-9]+(\.[0-9]+){3}(/[0-9]+)?")
# ... but for words that are booleans or null in one of the two, and a point before a digit
# or `_`, which both read as a float (`.0`), or fail to (`._`).
_AMBIGUOUS = re.compile(r"(?i)y|n|yes|no|true|false|on|off|null|~|\.nan|\.inf|\.[0-9_].*")


def dump(data: dict[str, Any], comments: Comments | None = None, header: str = "") -> str:
    lines = [f"# {line}".rstrip() for line in header.splitlines()]
    if lines:
        lines.append("")
    _mapping(data, (), 0, comments or {}, lines)
    return "\n".join(lines) + "\n"


def scalar(value: Any) -> str:
    if isinstance(value, str):
        return _string(value)
    if value is True or value is False:
        return "true" if value else "false"
    if value is None:
        return "null"
    if isinstance(value, int):
        return str(value)
    return _string(str(value))


@cache  # large meshes repeat the same names and addresses tens of thousands of times
def _string(text: str) -> str:
    if _PLAIN.fullmatch(text) and not _AMBIGUOUS.fullmatch(text):
        return text
    return '"' + "".join(_escape(char) for char in text) + '"'


def _escape(char: str) -> str:
    """One character inside a double-quoted scalar: itself if YAML prints it, else escaped."""
    code = ord(char)
    if char in '"\\':
        return "\\" + char
    if 0x20 <= code <= 0x7E or 0xA0 <= code <= 0xD7FF or (0xE000 <= code <= 0xFFFD and
            code != 0xFEFF) or code >= 0x10000:
        return char
    return f"\\x{code:02x}" if code <= 0xFF else f"\\u{code:04x}"


def _mapping(data: dict[str, Any], path: tuple[str, ...], indent: int, comments: Comments,
             lines: list[str]) -> None:
    pad = " " * indent
    for key, value in data.items():
        here = (*path, key)
        if here in comments:
            if indent == 0 and lines and lines[-1]:
                lines.append("")  # a blank line before each commented top-level section
            lines += [f"{pad}# {line}".rstrip() for line in comments[here].splitlines()]
        name = scalar(key)
        if isinstance(value, dict) and value:
            lines.append(f"{pad}{name}:")
            _mapping(value, here, indent + 2, comments, lines)
        elif isinstance(value, list) and value:
            lines.append(f"{pad}{name}:")
            for item in value:
                if isinstance(item, (dict, list)):
                    raise TypeError("lists of collections are not needed here")
                lines.append(f"{pad}  - {scalar(item)}")
        elif isinstance(value, (dict, list)):
            lines.append(f"{pad}{name}: {'{}' if isinstance(value, dict) else '[]'}")
        else:
            lines.append(f"{pad}{name}: {scalar(value)}")
