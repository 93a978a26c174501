"""Stage 1, load: read a topology file into plain data plus a map of source positions.

The topology is YAML 1.2, read with the positions every finding is located by (`Document`).
Every failure to read or parse it becomes a located `Diagnostic` (AKM0xx), raised as
`LoadError`, never a traceback. The other inputs (aksmesh's schema, reference data, the
shared CA, the state record) are read by `inputs.py`.
"""

from __future__ import annotations

import re
import stat
import warnings
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from .diagnostics import Diagnostic, Finding, diagnostic

# A topology is a few kilobytes even for hundreds of clusters; these limits only exist so
# that hostile input (a 50 MB file, an alias bomb, deep nesting) fails fast and cheaply.
MAX_FILE_BYTES = 1024 * 1024
MAX_NODES = 50_000  # 511 clusters with every optional key come to about 10,000
MAX_DEPTH = 32
# No topology value needs a number this long (ids stop at 511). Longer ones are refused
# before Python converts them: past 4300 digits the conversion itself fails.
MAX_NUMBER_DIGITS = 100
# Line breaks of YAML 1.1 that YAML 1.2 made ordinary characters; ruamel (and libyaml)
# still break lines at them.
_YAML_1_1_BREAKS = "\x85\u2028\u2029"

Path_ = tuple[str | int, ...]


class LoadError(Exception):
    def __init__(self, diagnostic: Diagnostic):
        super().__init__(diagnostic.message)
        self.diagnostic = diagnostic


@dataclass(frozen=True)
class Document:
    """A loaded topology: plain data for the stages, and the text to find positions in.

    Data comes from ruamel's C-accelerated safe loader; the round-trip tree, which knows
    every node's position but parses ~6x slower, is built only when a finding needs it.
    """

    file: str
    data: dict[str, Any]
    text: str  # as parsed: NEL, LS and PS replaced by stand-ins (see restore)
    _tree: list[Any] = field(default_factory=list, compare=False, repr=False)
    # stand-in → the character of the file it stands for (see _yaml_1_2_line_breaks)
    restore: dict[int, str] = field(default_factory=dict, compare=False, repr=False)

    def tree(self) -> Any:
        """The round-trip tree, or None where that stricter parser refuses what the fast
        one read (a tab inside a plain scalar): positions then fall back to 1:1."""
        if not self._tree:
            try:
                self._tree.append(_round_trip(self.text, self.file)[0])
            except LoadError:
                self._tree.append(None)
        return self._tree[0]

    def position(self, path: Path_, at_key: bool = False) -> tuple[int, int]:
        """1-based (line, col) of the node at `path`, or of its deepest existing ancestor."""
        node, line, col = self.tree(), 0, 0
        for step in path:
            lc = getattr(node, "lc", None)
            try:
                child = node[step]
                if lc is not None:
                    if isinstance(step, int):
                        line, col = lc.item(step)
                    elif (at_key and step == path[-1]) or isinstance(child, (dict, list)):
                        # A nested mapping or list starts on the line after its key: point
                        # at the key, where the reader looks.
                        line, col = lc.key(step)
                    else:
                        line, col = lc.value(step)
            except (KeyError, IndexError, TypeError):
                # Not there, or merged in from an anchor (`<<: *x`), which ruamel does not
                # place: the enclosing node is the nearest position.
                break
            node = child
        return line + 1, col + 1

    def locate(self, finding: Finding) -> Diagnostic:
        line, col = self.position(finding.path, finding.at_key)
        hint = finding.hint
        if finding.quote_as_written:
            lines = _LINE_BREAK.split(self.text)  # YAML's, not str.splitlines()'s
            written = _NUMBER.match(lines[line - 1], col - 1) if line <= len(lines) else None
            hint = f'quote it: "{written.group()}"' if written else hint
        return diagnostic(finding.code, self.file, line, col, finding.message, hint,
                          finding.path)


# A number as written: from a digit (after a sign or a point) to a blank, a comment or the
# end of a flow item. Anything else at the position (a fallback 1:1) keeps the plain hint.
_NUMBER = re.compile(r"[-+]?\.?\d[^\s,\]}#]*")
# YAML 1.2's line breaks: LF, CR and CR LF, nothing else.
_LINE_BREAK = re.compile(r"\r\n|\r|\n")
# A plain scalar that YAML reads as an integer (decimal, 0o, 0x; `_` as ruamel allows).
_INTEGER = re.compile(r"[-+]?(?:0[xX][0-9a-fA-F_]+|0[oO][0-7_]+|0[bB][01_]+|[0-9][0-9_]*)")


def load_topology(path: Path, display: str | None = None) -> Document:
    """Read and parse `path`; raise LoadError with a located diagnostic on any failure."""
    file = display or str(path)
    text = _read_text(path, file)
    return parse_topology(text, file)


def parse_topology(text: str, file: str) -> Document:
    from ruamel.yaml import YAML

    text, restore = _yaml_1_2_line_breaks(text)
    _check_shape(text, file)
    try:
        with warnings.catch_warnings():
            # ruamel warns on stderr about reused anchors; the findings say what matters.
            warnings.simplefilter("ignore")
            documents = list(YAML(typ="safe").load_all(text))
    except Exception:  # noqa: BLE001 - any failure of the reader is a finding, not a crash
        # Take the round-trip path to report the error the same way, at its position.
        documents = _round_trip(text, file)
    if len(documents) != 1 or documents[0] is None:
        found = "no document" if not documents or documents[0] is None else \
            f"{len(documents)} documents"
        raise LoadError(diagnostic("AKM004", file, 1, 1, f"expected one topology document, "
                                   f"found {found}", "see topologies/eu-three-regions.yaml"))
    if not isinstance(documents[0], dict):
        raise LoadError(diagnostic("AKM004", file, 1, 1,
                                   "the document root must be a mapping of topology keys",
                                   "start with `name:`, `kubernetesVersion:` and `clusters:`"))
    document = Document(file, {}, text, restore=restore)  # positions, for what _plain refuses
    return replace(document, data=_plain(documents[0], (), document, [MAX_NODES]))


def _yaml_1_2_line_breaks(text: str) -> tuple[str, dict[int, str]]:
    """`text` with NEL, LS and PS replaced by stand-ins the reader takes as ordinary
    characters, as YAML 1.2 does (ruamel, like libyaml, still breaks lines at them, which
    moves every position after them), and the table that restores them in strings.

    A stand-in is a private-use character the text does not contain: one for one, so that
    columns stay right.
    """
    present = [char for char in _YAML_1_1_BREAKS if char in text]
    if not present:
        return text, {}
    stand_ins: dict[str, str] = {}
    candidate = 0xF8FF
    for char in present:
        while chr(candidate) in text:
            candidate -= 1
        stand_ins[char] = chr(candidate)
        candidate -= 1
    replaced = text.translate({ord(char): stand_in for char, stand_in in stand_ins.items()})
    return replaced, {ord(stand_in): char for char, stand_in in stand_ins.items()}


def _check_shape(text: str, file: str) -> None:
    """Refuse deep or huge documents from the parser's event stream, before any tree is
    built: the tree builders recurse (deep nesting overflows the C stack) and the
    round-trip scanner slows down with depth."""
    from ruamel.yaml import YAML
    from ruamel.yaml.events import (AliasEvent, CollectionEndEvent, CollectionStartEvent,
                                    DocumentStartEvent, ScalarEvent)

    depth = nodes = 0
    try:
        for event in YAML(typ="safe").parse(text):
            if isinstance(event, (CollectionStartEvent, ScalarEvent)):
                _check_node(event, file)
            elif isinstance(event, DocumentStartEvent) and getattr(event, "version", None) \
                    not in (None, (1, 2)):
                _refuse_version(event.version, text, file)
            if isinstance(event, CollectionStartEvent):
                depth += 1
            elif isinstance(event, CollectionEndEvent):
                depth -= 1
            nodes += isinstance(event, (CollectionStartEvent, ScalarEvent, AliasEvent))
            if depth > MAX_DEPTH or nodes > MAX_NODES:
                mark = event.start_mark
                raise _too_big(file, mark.line + 1, mark.column + 1,
                               "nested too deeply" if depth > MAX_DEPTH else "too large")
    except LoadError:
        raise
    except Exception:  # noqa: BLE001 - syntax errors are reported by the round-trip path
        return


def _check_node(event: Any, file: str) -> None:
    """Refuse a tag on any node, and an integer too long to convert, where they stand."""
    mark = event.start_mark
    line, col = mark.line + 1, mark.column + 1
    if event.tag is not None:  # explicit: `!x`, `!!str`, `!<...>`, even a lone `!`
        tag = event.tag.replace("tag:yaml.org,2002:", "!!")
        raise LoadError(diagnostic("AKM103", file, line, col,
                                   f"the YAML tag {_short_text(tag)} has no place in a topology",
                                   "remove the tag: a topology is plain data (quote a value "
                                   "that is text)"))
    value = getattr(event, "value", None)
    if (value is not None and not event.style and len(value) > MAX_NUMBER_DIGITS
            and _INTEGER.fullmatch(value)):
        raise LoadError(diagnostic("AKM106", file, line, col,
                                   f"a number of {len(value)} characters is longer than any "
                                   "topology value", "topology numbers are small (a cluster "
                                   "id is at most 511); quote it if it is text"))


def _refuse_version(version: tuple[int, int], text: str, file: str) -> None:
    """`%YAML 1.1`: the fast reader ignores it and reads YAML 1.2, the round-trip one obeys
    it (`yes` a boolean, `017` octal, `1:30` ninety); a topology is read one way only."""
    directive = re.search(r"(?:\A|(?<=[\r\n]))%YAML[ \t]", text)  # at a line's start
    line = len(_LINE_BREAK.findall(text, 0, directive.start())) + 1 if directive else 1
    raise LoadError(diagnostic("AKM002", file, line, 1,
                               f"the file asks for YAML {version[0]}.{version[1]}; a topology "
                               "is YAML 1.2", "remove the %YAML directive"))


def _short_text(text: str, limit: int = 60) -> str:
    return text if len(text) <= limit else text[:limit] + "..."


def _round_trip(text: str, file: str) -> list[Any]:
    """All documents of `text` as ruamel round-trip trees, which carry positions."""
    from ruamel.yaml import YAML
    from ruamel.yaml.constructor import DuplicateKeyError
    from ruamel.yaml.error import MarkedYAMLError, YAMLError

    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            return list(YAML(typ="rt").load_all(text))
    except DuplicateKeyError as error:
        raise _marked("AKM003", file, error, "remove or rename one of the two entries") from None
    except MarkedYAMLError as error:
        raise _marked("AKM002", file, error, _syntax_hint(error)) from None
    except RecursionError:
        raise _too_big(file, 1, 1, "nested too deeply") from None
    except YAMLError as error:  # unmarked parser errors: report at the top of the file
        raise LoadError(diagnostic("AKM002", file, 1, 1, _one_line(str(error)))) from None
    except Exception as error:  # noqa: BLE001 - e.g. `!!int abc`: the tag's constructor fails
        raise LoadError(diagnostic("AKM002", file, 1, 1,
                                   f"the YAML cannot be read: {_one_line(str(error))[:200]}",
                                   "remove explicit tags (`!!int`, `!!omap`, ...) and "
                                   "complex keys")) from None


def _read_text(path: Path, file: str) -> str:
    def fail(message: str, hint: str = "") -> LoadError:
        return LoadError(diagnostic("AKM001", file, 1, 1, message, hint))

    try:
        if path.is_dir():
            raise fail("is a directory, not a topology file", "pass a .yaml file")
        if not stat.S_ISREG(path.stat().st_mode):
            raise fail("is not a regular file (a device or a pipe?)", "pass a .yaml file")
        with open(path, "rb") as handle:
            # Bounded even if the file grows while it is read.
            raw = handle.read(MAX_FILE_BYTES + 1)
        if len(raw) > MAX_FILE_BYTES:
            raise LoadError(diagnostic("AKM005", file, 1, 1,
                                       f"file is larger than the limit of {MAX_FILE_BYTES} "
                                       "bytes", "a topology is a few kilobytes"))
    except FileNotFoundError:
        raise fail("no such file") from None
    except OSError as error:
        raise fail(f"cannot read the file: {error.strerror}") from None
    if b"\0" in raw:
        raise fail("is a binary file, not YAML text")
    try:
        # utf-8-sig: a byte-order mark, as some Windows editors write, is harmless.
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        line = raw[: error.start].count(b"\n") + 1
        raise LoadError(diagnostic("AKM001", file, line, 1, "the file is not UTF-8 text",
                                   "save the file as UTF-8")) from None


def _plain(node: Any, path: Path_, document: Document, budget: list[int]) -> Any:
    """Convert what ruamel loaded to plain Python, bounded in size and depth.

    Aliases are expanded here, so the node budget is what stops an alias bomb.
    """
    # The shape was checked on the events already; aliases can still multiply it.
    budget[0] -= 1
    if budget[0] < 0:
        raise LoadError(diagnostic("AKM005", document.file, *document.position(path),
                                   "the document expands to too many nodes (an alias bomb?)",
                                   "write the topology without anchors and aliases"))
    if len(path) > MAX_DEPTH:
        raise _too_big(document.file, *document.position(path), "nested too deeply")
    if isinstance(node, dict):
        result = {}
        for key, value in node.items():
            if not isinstance(key, str):
                line, col = document.position((*path, key), at_key=True)
                raise LoadError(diagnostic("AKM103", document.file, line, col,
                                           f"key {key!r} is not a string",
                                           "topology keys are names such as `clusters`"))
            # str(): an anchored key comes back as ruamel's own str subclass.
            result[str(key).translate(document.restore)] = _plain(value, (*path, key),
                                                                  document, budget)
        return result
    if isinstance(node, list):
        return [_plain(item, (*path, i), document, budget) for i, item in enumerate(node)]
    if isinstance(node, bool) or node is None:
        return node
    if isinstance(node, int):
        return int(node)
    if isinstance(node, float):
        return float(node)
    if isinstance(node, str):
        return str(node).translate(document.restore)
    # Timestamps, binary and other YAML tags have no place in a topology; keep them
    # distinguishable so that the schema reports a type error at the right node.
    return node


def _too_big(file: str, line: int, col: int, what: str) -> LoadError:
    return LoadError(diagnostic("AKM005", file, line, col, f"the document is {what}",
                                f"a topology needs fewer than {MAX_DEPTH} levels and "
                                f"{MAX_NODES} nodes"))


def _marked(code: str, file: str, error: Any, hint: str) -> LoadError:
    mark = error.problem_mark or error.context_mark
    line, col = (mark.line + 1, mark.column + 1) if mark else (1, 1)
    return LoadError(diagnostic(code, file, line, col, _one_line(error.problem or str(error)),
                                hint))


def _syntax_hint(error: Any) -> str:
    text = f"{error.problem} {error.context}"
    if "\\t" in text or "tab" in text:
        return "indent with spaces; YAML does not allow tabs for indentation"
    return "check the indentation and quoting around this line"


def _one_line(text: str) -> str:
    return " ".join(text.split())
