"""The command line's grammar: every command, its arguments and their types (argparse).

cli.py hands each command's function in and runs what the parse picks.
"""

from __future__ import annotations

import argparse
import os
from collections.abc import Callable, Mapping
from pathlib import Path

from . import report
from .example import MAX_CLUSTERS as MAX_EXAMPLE_CLUSTERS

Command = Callable[[argparse.Namespace], None]


def build_parser(run: Mapping[str, Command]) -> argparse.ArgumentParser:
    """The command line, each command running `run[<its name>]` (`ca init` for a ca command)."""
    parser = argparse.ArgumentParser(
        prog="aksmesh",
        description="Compile a topology file into Bicep and Flux for a Cilium ClusterMesh "
                    "on AKS.")
    parser.add_argument("--version", action=_Version)
    commands = parser.add_subparsers(title="commands", metavar="COMMAND", required=True)
    _validate_and_plan_commands(commands, run)
    _rendering_commands(commands, run)
    example_ = _command(commands, "example", run["example"], "Print a valid example topology of "
                        "any size (for trying things and benchmarks).")
    example_.add_argument("--clusters", type=_cluster_count, default=3,
                          help=f"Number of clusters, 2 to {MAX_EXAMPLE_CLUSTERS} "
                               "(default: 3).")
    example_.add_argument("--name", help="Topology name (default: mesh-N).")
    _ca_commands(commands, run)
    return parser


def _command(commands: argparse._SubParsersAction, name: str, run: Command, summary: str
             ) -> argparse.ArgumentParser:
    sub = commands.add_parser(name, help=summary, description=summary)
    sub.set_defaults(run=run, parser=sub)
    return sub


def _validate_and_plan_commands(commands: argparse._SubParsersAction,
                                run: Mapping[str, Command]) -> None:
    validate_ = _command(commands, "validate", run["validate"], "Check topologies; write nothing.")
    _topologies(validate_)
    _out(validate_)
    _acknowledge(validate_)
    _strict(validate_)
    _format(validate_)

    plan_ = _command(commands, "plan", run["plan"], "Print the resolved plan of one topology: "
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


def _rendering_commands(commands: argparse._SubParsersAction, run: Mapping[str, Command]
                        ) -> None:
    for name, command, summary in (
            ("render", run["render"], "Render topologies into OUT/<name>/, atomically: all files "
                               "or none."),
            ("check", run["check"], "Fail when OUT/<name>/ differs from what render would write "
                             "(a CI drift gate).")):
        rendering = _command(commands, name, command, summary)
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


def _ca_commands(commands: argparse._SubParsersAction, run: Mapping[str, Command]) -> None:
    ca = commands.add_parser("ca", help="Manage the mesh's shared Cilium CA.",
                             description="Manage the mesh's shared Cilium CA.")
    ca_commands = ca.add_subparsers(title="commands", metavar="COMMAND", required=True)
    init = ca_commands.add_parser(
        "init", help="Create the shared CA, encrypted with sops to the age recipients, "
                     "beside TOPOLOGY.",
        description="Create the shared CA, encrypted with sops to the age recipients, "
                    "beside TOPOLOGY.")
    init.set_defaults(run=run["ca init"], parser=init)
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
    show.set_defaults(run=run["ca show"], parser=show)
    show.add_argument("topology", type=_not_a_directory, metavar="TOPOLOGY",
                      help="The topology whose CA to show.")
    add = ca_commands.add_parser(
        "add-recipient", help="Re-encrypt the shared CA to more age recipients; the CA "
                              "itself does not change.",
        description="Re-encrypt the shared CA to its recipients plus the given ones, without "
                    "changing the CA. Needs the age key of a current recipient in "
                    "SOPS_AGE_KEY_FILE (or SOPS_AGE_KEY).")
    add.set_defaults(run=run["ca add-recipient"], parser=add)
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

        print(f"aksmesh {version('aksmesh')}", flush=True)
        parser.exit()


# ---------------------------------------------------------------- commands
