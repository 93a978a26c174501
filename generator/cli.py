"""The command line: parse options, call the compiler, print, choose the exit code.

The only module that touches argv, the terminal and exit codes. Exit codes: 0 ok,
1 findings or stale output, 2 usage error (argparse's own), 3 a bug in aksmesh, 130 and 143
interrupted (Ctrl-C, SIGTERM), as a shell reports a process killed by those signals.

argparse rather than click: the command line is small, a cold render of a small mesh is
mostly imports, and importing click cost it 20 ms.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path
from typing import NoReturn

from . import compiler, report
from .cli_args import build_parser
from .diagnostics import Diagnostic, has_errors
from .example import example_topology

EXIT_OK, EXIT_FINDINGS, EXIT_INTERNAL = 0, 1, 3
EXIT_INTERRUPTED, EXIT_TERMINATED = 128 + 2, 128 + 15


class Terminated(BaseException):
    """SIGTERM, raised by the handler the entry point installs (`__main__.run`), so that the
    run unwinds as it does for Ctrl-C: every `finally` runs, staging is removed."""


def main(argv: list[str] | None = None) -> None:
    try:
        args = build_parser(COMMANDS).parse_args(argv)
        args.run(args)
    except KeyboardInterrupt:
        _echo("aksmesh: interrupted; no output tree was left half-written", err=True)
        sys.exit(EXIT_INTERRUPTED)
    except Terminated:
        _echo("aksmesh: terminated; no output tree was left half-written", err=True)
        sys.exit(EXIT_TERMINATED)
    except Exception as error:  # a bug in aksmesh, never bad input: say so, briefly
        if os.environ.get("AKSMESH_DEBUG"):
            raise
        _echo(f"aksmesh: internal error: {type(error).__name__}: {error}\n"
              "  hint: this is a bug in aksmesh; rerun with AKSMESH_DEBUG=1 for the "
              "traceback and report it", err=True)
        sys.exit(EXIT_INTERNAL)


def validate(args: argparse.Namespace) -> None:
    options = compiler.Options(strict=args.strict, out=args.out,
                               acknowledged=tuple(args.acknowledged))
    results = [compiler.validate(path, options) for path in args.topologies]
    diagnostics = [d for r in results for d in r.diagnostics]
    _emit(diagnostics, args.fmt)
    _exit(diagnostics)


def plan(args: argparse.Namespace) -> None:
    options = compiler.Options(out=args.out, acknowledged=tuple(args.acknowledged))
    result = compiler.validate(args.topology, options)
    # --diff shows the changes that make the run fail too: that is what it is for.
    if result.plan is None or (not result.ok and not (args.diff and result.changes)):
        _emit(result.diagnostics, "text")
        _exit(result.diagnostics)
    assert result.plan is not None
    if args.diff:
        tree = args.out / result.plan.name
        _echo(json.dumps(report.changes_json(result.changes), indent=2) if args.as_json
              else report.render_changes(result.plan.name, tree, result.changes))
    elif args.as_json:
        _echo(json.dumps(result.plan.to_json() | compiler.mesh_answer(result.plan), indent=2))
    else:
        _echo(report.plan_table(result.plan) + "\n" + report.render_plan_details(result.plan)
              + report.mesh_answer_text(compiler.mesh_answer(result.plan)))
    if args.as_json:  # stdout is JSON only; the findings go beside it
        _echo(report.render_text(result.diagnostics), err=True, end="")
    else:
        _emit(result.diagnostics, "text")
    _exit(result.diagnostics)


def render(args: argparse.Namespace) -> None:
    from .render import REMOVED_FILE
    from .write import WriteRefused, write_tree

    results = _compile_all(args)
    for result in results:
        assert result.plan is not None and result.files is not None
        root = args.out / result.plan.name
        try:
            changes = write_tree(root, result.files)
        except WriteRefused as refused:
            diagnostics = [d for r in results for d in r.diagnostics] + [refused.diagnostic]
            # Text has printed the warnings already; machine formats print once, at the end.
            _emit(diagnostics if args.fmt != "text" else [refused.diagnostic], args.fmt)
            _exit(diagnostics)
        except OSError as error:
            _cannot_write(root, error)
        counts = {s: sum(c.status == s for c in changes)
                  for s in ("created", "changed", "removed", "unchanged")}
        _echo(f"{root}: " + ", ".join(f"{n} {s}" for s, n in counts.items()), err=True)
        if any(c.path == REMOVED_FILE and c.status != "unchanged" for c in changes):
            names = ", ".join(c["name"] for c in result.removed)
            _echo(f"{root}: removed from the topology, still running: {names}; the cleanup, "
                  f"in order: {root / REMOVED_FILE}", err=True)
    diagnostics = [d for r in results for d in r.diagnostics]
    if args.fmt != "text":  # the warnings, once, as they print when render fails
        _emit(diagnostics, args.fmt)
    _exit(diagnostics)


def check(args: argparse.Namespace) -> None:
    results = _compile_all(args)
    stale = [d for result in results for d in compiler.drift(result, args.out)]
    diagnostics = [d for r in results for d in r.diagnostics] + stale
    _emit(diagnostics, args.fmt)
    _exit(diagnostics)


def example(args: argparse.Namespace) -> None:
    _echo(example_topology(args.clusters, args.name), end="")


def ca_init(args: argparse.Namespace) -> None:
    from .ca import CaError
    from .inputs import shared_ca_path
    from .write import write_file

    try:
        diagnostics, encrypted = compiler.init_shared_ca(args.topology, args.recipients,
                                                         args.force)
    except CaError as error:
        _fail(error.message, error.hint)
    if diagnostics:
        _emit(diagnostics, "text")
        _exit(diagnostics)
    target = shared_ca_path(args.topology)
    try:
        write_file(target, encrypted)
    except OSError as error:
        _cannot_write(target, error)
    count = len(args.recipients)
    _echo(f"{target}: new CA, encrypted to {count} age recipient{'s' * (count != 1)}; "
          "run `aksmesh render` and commit both", err=True)


def ca_show(args: argparse.Namespace) -> None:
    from .ca import CaError
    from .ca_certificate import ca_facts, ca_subject
    from .inputs import load_shared_ca, shared_ca_path

    target = shared_ca_path(args.topology)
    try:
        shared = load_shared_ca(args.topology)
        if shared is None:
            _fail(f"{target}: no shared CA", f"create it: aksmesh ca init {args.topology} "
                  "--age-recipient <age1...>")
        found, subject = ca_facts(shared), ca_subject(shared)
    except CaError as error:
        _fail(f"{target}: {error.message}", error.hint)
    except (OSError, UnicodeDecodeError) as error:
        _fail(f"cannot read {target}: {getattr(error, 'strerror', None) or error}")
    _echo(f"file:         {target}\n"
          f"subject:      {subject}\n"
          f"fingerprint:  SHA256 {found.fingerprint_sha256}\n"
          f"valid from:   {found.not_before:%Y-%m-%d %H:%M:%S} UTC\n"
          f"expires:      {found.not_after:%Y-%m-%d %H:%M:%S} UTC\n"
          f"renewals end: {found.renewals_stop:%Y-%m-%d} (certgen issues no certificate "
          f"that outlives the CA: rotate before)\n"
          f"recipients:   {', '.join(found.recipients)}")


def ca_add_recipient(args: argparse.Namespace) -> None:
    from .ca import CaError, add_recipients, read_age_recipients
    from .inputs import shared_ca_path
    from .write import write_file

    target = shared_ca_path(args.topology)
    try:
        text = target.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as error:
        _fail(f"cannot read {target}: {getattr(error, 'strerror', None) or error}",
              f"create it: aksmesh ca init {args.topology} --age-recipient <age1...>")
    try:
        encrypted = add_recipients(text, args.recipients)
        count = len(read_age_recipients(encrypted))
    except CaError as error:
        _fail(f"{target}: {error.message}", error.hint)
    try:
        write_file(target, encrypted)
    except OSError as error:
        _cannot_write(target, error)
    _echo(f"{target}: the same CA, now encrypted to {count} age recipients; run `aksmesh "
          "render` and commit both", err=True)


# ---------------------------------------------------------------- helpers


def _echo(text: str, err: bool = False, end: str = "\n") -> None:
    # Flushed, so that what goes to stdout and to stderr arrives in the order written.
    print(text, end=end, file=sys.stderr if err else sys.stdout, flush=True)


def _options(args: argparse.Namespace) -> compiler.Options:
    from .verify import References

    references = References(args.bicep_types, tuple(args.crd_schemas),
                            args.cilium_values_schema)
    return compiler.Options(strict=args.strict, references=references, out=args.out,
                           acknowledged=tuple(args.acknowledged))


def _fail(message: str, hint: str = "") -> NoReturn:
    _echo(f"aksmesh: error: {message}" + (f"\n  hint: {hint}" if hint else ""), err=True)
    sys.exit(EXIT_FINDINGS)


def _cannot_write(path: Path, error: OSError) -> NoReturn:
    # The disk or the directory, not aksmesh: a tree is swapped in whole or not at all.
    _fail(f"cannot write {path}: {error.strerror or error}",
          f"{error.filename or path} must be a directory aksmesh can create and write")


def _compile_all(args: argparse.Namespace) -> list[compiler.Result]:
    """Compile every topology; stop before any output when one of them has errors."""
    options = _options(args)
    results = [compiler.compile_topology(path, options) for path in args.topologies]
    diagnostics = [d for r in results for d in r.diagnostics]
    if has_errors(diagnostics):
        _emit(diagnostics, args.fmt)
        _exit(diagnostics)
    duplicates = compiler.duplicate_names(results)
    if duplicates:
        args.parser.error(f"several topologies are named {', '.join(duplicates)}; "
                          "each needs its own output tree")
    if args.fmt == "text":
        _emit(diagnostics, args.fmt)  # warnings; machine formats print once, at the end
    return results


def _emit(diagnostics: list[Diagnostic], fmt: str) -> None:
    if fmt != "text":
        _echo(report.FORMATS[fmt](diagnostics), end="")
        return
    if diagnostics:
        _echo(report.render_text(diagnostics), end="")
        _echo(report.summary(diagnostics), err=True)


def _exit(diagnostics: list[Diagnostic]) -> NoReturn:
    sys.exit(EXIT_FINDINGS if has_errors(diagnostics) else EXIT_OK)


COMMANDS = {"validate": validate, "plan": plan, "render": render, "check": check,
            "example": example, "ca init": ca_init, "ca show": ca_show,
            "ca add-recipient": ca_add_recipient}
