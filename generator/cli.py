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
from collections.abc import Callable
from pathlib import Path
from typing import NoReturn

from . import compiler, report
from .diagnostics import Diagnostic, has_errors
from .example import MAX_CLUSTERS as MAX_EXAMPLE_CLUSTERS, example_topology

EXIT_OK, EXIT_FINDINGS, EXIT_INTERNAL = 0, 1, 3
EXIT_INTERRUPTED, EXIT_TERMINATED = 128 + 2, 128 + 15


class Terminated(BaseException):
    """SIGTERM, raised by the handler the entry point installs (`__main__.run`), so that the
    run unwinds as it does for Ctrl-C: every `finally` runs, staging is removed."""


def main(argv: list[str] | None = None) -> None:
    try:
        args = _parser().parse_args(argv)
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


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="aksmesh",
        description="Compile a topology file into Bicep and Flux for a Cilium ClusterMesh "
                    "on AKS.")
    parser.add_argument("--version", action=_Version)
    commands = parser.add_subparsers(title="commands", metavar="COMMAND", required=True)
    _validate_and_plan_commands(commands)
    _rendering_commands(commands)
    example_ = _command(commands, "example", example, "Print a valid example topology of "
                        "any size (for trying things and benchmarks).")
    example_.add_argument("--clusters", type=_cluster_count, default=3,
                          help=f"Number of clusters, 2 to {MAX_EXAMPLE_CLUSTERS} "
                               "(default: 3).")
    example_.add_argument("--name", help="Topology name (default: mesh-N).")
    _ca_commands(commands)
    return parser


def _command(commands: argparse._SubParsersAction, name: str, run: Callable[[argparse.Namespace], None],
             summary: str) -> argparse.ArgumentParser:
    sub = commands.add_parser(name, help=summary, description=summary)
    sub.set_defaults(run=run, parser=sub)
    return sub


def _validate_and_plan_commands(commands: argparse._SubParsersAction) -> None:
    validate_ = _command(commands, "validate", validate, "Check topologies; write nothing.")
    _topologies(validate_)
    _out(validate_)
    _acknowledge(validate_)
    _strict(validate_)
    _format(validate_)

    plan_ = _command(commands, "plan", plan, "Print the resolved plan of one topology: "
                     "every derived value, and the reachability model's answer for the mesh "
                     "apps (who reaches whom, global service backends).")
    plan_.add_argument("topology", type=Path, metavar="TOPOLOGY",
                       help="Topology file, such as topologies/eu-three-regions.yaml.")
    plan_.add_argument("--json", dest="as_json", action="store_true",
                       help="Print the plan as JSON.")
    plan_.add_argument("--diff", action="store_true",
                       help="Print each change against the committed tree's state record, "
                            "its class (safe, rolling, disruptive, refused) and its effect "
                            "on the running clusters.")
    _out(plan_)
    _acknowledge(plan_)


def _rendering_commands(commands: argparse._SubParsersAction) -> None:
    for name, run, summary in (
            ("render", render, "Render topologies into OUT/<name>/, atomically: all files "
                               "or none."),
            ("check", check, "Fail when OUT/<name>/ differs from what render would write "
                             "(a CI drift gate).")):
        rendering = _command(commands, name, run, summary)
        _topologies(rendering)
        _out(rendering)
        _acknowledge(rendering)
        _strict(rendering)
        rendering.add_argument(
            "--bicep-types", type=_directory, metavar="DIR",
            help="Azure/bicep-types-az type data (<namespace>/<api-version>/types.json) to "
                 "check every Bicep resource body against, as the Bicep compiler does, "
                 "instead of the data aksmesh ships.")
        rendering.add_argument(
            "--crd-schemas", type=_directory, action="append", default=[], metavar="DIR",
            help="Directory of CRD JSON schemas, <group>/<kind>_<version>.json or "
                 "<kind>_<version>.json (kubeconform's layouts), to validate every Flux and "
                 "Cilium object against, strictly, instead of the schemas aksmesh ships. "
                 "Repeatable.")
        rendering.add_argument(
            "--cilium-values-schema", type=_file, metavar="FILE",
            help="The Cilium chart's values.schema.json, to validate every values.yaml "
                 "against, instead of the one aksmesh ships for the topology's version.")
        _format(rendering)


def _ca_commands(commands: argparse._SubParsersAction) -> None:
    ca = commands.add_parser("ca", help="Manage the mesh's shared Cilium CA.",
                             description="Manage the mesh's shared Cilium CA.")
    ca_commands = ca.add_subparsers(title="commands", metavar="COMMAND", required=True)
    init = ca_commands.add_parser(
        "init", help="Create the shared CA, encrypted with sops to the age recipients, "
                     "beside TOPOLOGY.",
        description="Create the shared CA, encrypted with sops to the age recipients, "
                    "beside TOPOLOGY.")
    init.set_defaults(run=ca_init, parser=init)
    init.add_argument("topology", type=_not_a_directory, metavar="TOPOLOGY",
                      help="The topology of the mesh; the CA goes beside it, into a folder "
                           "named like the file (topologies/mesh.yaml: topologies/mesh/).")
    init.add_argument("--age-recipient", dest="recipients", action="append", required=True,
                      metavar="AGE_PUBLIC_KEY",
                      help="age public key (age1...) that may decrypt the CA; repeat for "
                           "several. Give the key of the flux-system/sops-age Secret of the "
                           "clusters.")
    init.add_argument("--force", action="store_true",
                      help="Replace an existing CA (re-keys every cluster).")
    show = ca_commands.add_parser(
        "show", help="Print the shared CA's subject, fingerprint, validity and recipients.",
        description="Print the shared CA's subject, SHA-256 fingerprint, validity, the date "
                    "from which certgen stops renewing certificates, and the age recipients.")
    show.set_defaults(run=ca_show, parser=show)
    show.add_argument("topology", type=_not_a_directory, metavar="TOPOLOGY",
                      help="The topology whose CA to show.")
    add = ca_commands.add_parser(
        "add-recipient", help="Re-encrypt the shared CA to more age recipients; the CA "
                              "itself does not change.",
        description="Re-encrypt the shared CA to its recipients plus the given ones, without "
                    "changing the CA. Needs the age key of a current recipient in "
                    "SOPS_AGE_KEY_FILE (or SOPS_AGE_KEY).")
    add.set_defaults(run=ca_add_recipient, parser=add)
    add.add_argument("topology", type=_not_a_directory, metavar="TOPOLOGY",
                     help="The topology whose CA to re-encrypt.")
    add.add_argument("--age-recipient", dest="recipients", action="append", required=True,
                     metavar="AGE_PUBLIC_KEY", help="age public key to add; repeat for several.")


def _topologies(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("topologies", nargs="+", type=Path, metavar="TOPOLOGY",
                        help="Topology file(s), such as topologies/eu-three-regions.yaml.")


def _out(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("-o", "--out", type=_output_directory, default=Path("out"),
                        help="Directory that holds one tree per topology (default: out); "
                             "each topology is compared with the state record of its tree "
                             "there.")


def _acknowledge(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--allow-disruptive", dest="acknowledged", action="append", default=[],
        metavar="CODE|KEY",
        help="Accept a disruptive change against the committed tree: by code (AKM701, every "
             "such change) or by the key the error names (clusters.we.id). Repeatable. "
             "Refused changes (downgrades, skipped minors) cannot be accepted.")


def _strict(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--strict", action="store_true", help="Treat warnings as errors.")


def _format(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--format", dest="fmt", choices=sorted(report.FORMATS),
                        default="text", help="How to print diagnostics (default: text).")


def _directory(value: str) -> Path:
    if not os.path.isdir(value):
        raise argparse.ArgumentTypeError(f"{value!r} is not a directory")
    return Path(value)


def _file(value: str) -> Path:
    if not os.path.isfile(value):
        raise argparse.ArgumentTypeError(f"{value!r} is not a file")
    return Path(value)


def _output_directory(value: str) -> Path:
    if not value:  # Path("") is the current directory: never what was meant
        raise argparse.ArgumentTypeError("is empty: give the directory that holds the trees")
    if os.path.exists(value) and not os.path.isdir(value):
        raise argparse.ArgumentTypeError(f"{value!r} is not a directory")
    return Path(value)


def _not_a_directory(value: str) -> Path:
    if os.path.isdir(value):
        raise argparse.ArgumentTypeError(f"{value!r} is a directory")
    return Path(value)


def _cluster_count(value: str) -> int:
    try:
        count = int(value)
    except ValueError:
        count = 0
    if not 2 <= count <= MAX_EXAMPLE_CLUSTERS:
        raise argparse.ArgumentTypeError(
            f"{value!r} is not a number of clusters from 2 to {MAX_EXAMPLE_CLUSTERS}")
    return count


class _Version(argparse.Action):
    """--version, reading the installed version only when asked."""

    def __init__(self, option_strings: list[str], dest: str, **kwargs: object) -> None:
        super().__init__(option_strings, dest, nargs=0, help="Show the version and exit.")

    def __call__(self, parser: argparse.ArgumentParser, *args: object) -> None:
        from importlib.metadata import version

        _echo(f"aksmesh {version('aksmesh')}")
        parser.exit()


# ---------------------------------------------------------------- commands


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
    _exit([d for r in results for d in r.diagnostics])


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
    from .load import shared_ca_path
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
    from .ca import CaError, ca_facts
    from .load import load_shared_ca, shared_ca_path

    target = shared_ca_path(args.topology)
    try:
        shared = load_shared_ca(args.topology)
        if shared is None:
            _fail(f"{target}: no shared CA", f"create it: aksmesh ca init {args.topology} "
                  "--age-recipient <age1...>")
        found = ca_facts(shared)
    except CaError as error:
        _fail(f"{target}: {error.message}", error.hint)
    except (OSError, UnicodeDecodeError) as error:
        _fail(f"cannot read {target}: {getattr(error, 'strerror', None) or error}")
    _echo(f"file:         {target}\n"
          f"subject:      {found.subject}\n"
          f"fingerprint:  SHA256 {found.fingerprint_sha256}\n"
          f"valid from:   {found.not_before:%Y-%m-%d %H:%M:%S} UTC\n"
          f"expires:      {found.not_after:%Y-%m-%d %H:%M:%S} UTC\n"
          f"renewals end: {found.renewals_stop:%Y-%m-%d} (certgen issues no certificate "
          f"that outlives the CA: rotate before)\n"
          f"recipients:   {', '.join(found.recipients)}")


def ca_add_recipient(args: argparse.Namespace) -> None:
    from .ca import CaError, add_recipients, read_age_recipients
    from .load import shared_ca_path
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
