"""The command line: parse options, call the compiler, print, choose the exit code.

The only module that touches argv, the terminal and exit codes. Exit codes: 0 ok,
1 findings or stale output, 2 usage error (click's own), 3 a bug in aksmesh.
"""

from __future__ import annotations

import functools
import json
import os
import sys
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

import click

from . import compiler, report
from .diagnostics import Diagnostic, diagnostic, has_errors

if TYPE_CHECKING:
    from .plan import Plan

EXIT_OK, EXIT_FINDINGS = 0, 1

topology_files = click.argument(
    "topologies", nargs=-1, required=True, type=click.Path(path_type=Path))
output_format = click.option(
    "--format", "fmt", type=click.Choice(sorted(report.FORMATS)), default="text",
    show_default=True, help="How to print diagnostics.")
strict_option = click.option(
    "--strict", is_flag=True, help="Treat warnings as errors.")
bicep_types_option = click.option(
    "--bicep-types", type=click.Path(path_type=Path, file_okay=False, exists=True),
    help="Azure/bicep-types-az type data (<namespace>/<api-version>/types.json) to check "
         "every Bicep resource body against, as the Bicep compiler does.")
crd_schemas_option = click.option(
    "--crd-schemas", type=click.Path(path_type=Path, file_okay=False, exists=True),
    multiple=True, help="Directory of CRD JSON schemas, <group>/<kind>_<version>.json or "
    "<kind>_<version>.json (kubeconform's layouts), to validate every Flux and Cilium object "
    "against, strictly. Repeatable.")
cilium_schema_option = click.option(
    "--cilium-values-schema", type=click.Path(path_type=Path, dir_okay=False, exists=True),
    help="The Cilium chart's values.schema.json, to validate every values.yaml against.")
out_option = click.option(
    "-o", "--out", type=click.Path(path_type=Path, file_okay=False), default=Path("out"),
    show_default=True, help="Directory that holds one tree per topology.")


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="aksmesh")
def cli() -> None:
    """Compile a topology file into Bicep and Flux for a Cilium ClusterMesh on AKS."""


@cli.command()
@topology_files
@strict_option
@output_format
def validate(topologies: tuple[Path, ...], strict: bool, fmt: str) -> None:
    """Check topologies; write nothing."""
    options = compiler.Options(strict=strict)
    results = [compiler.validate(path, options) for path in topologies]
    diagnostics = [d for r in results for d in r.diagnostics]
    _emit(diagnostics, fmt)
    _exit(diagnostics)


@cli.command()
@click.argument("topology", type=click.Path(path_type=Path))
@click.option("--json", "as_json", is_flag=True, help="Print the plan as JSON.")
def plan(topology: Path, as_json: bool) -> None:
    """Print the resolved plan of one topology: every derived value."""
    result = compiler.validate(topology)
    if not result.ok or result.plan is None:
        _emit(result.diagnostics, "text")
        _exit(result.diagnostics)
    assert result.plan is not None
    if as_json:
        click.echo(json.dumps(result.plan.to_json(), indent=2))
    else:
        click.echo(_plan_table(result.plan))
    _emit(result.diagnostics, "text")
    _exit(result.diagnostics)


def rendering_command(function: Callable[..., None]) -> Callable[..., None]:
    """The arguments and options of the commands that render; they arrive as `options`."""

    @functools.wraps(function)
    def command(topologies: tuple[Path, ...], out: Path, strict: bool,
                bicep_types: Path | None, crd_schemas: tuple[Path, ...],
                cilium_values_schema: Path | None, fmt: str) -> None:
        from .verify import References

        references = References(bicep_types, crd_schemas, cilium_values_schema)
        function(topologies, out, compiler.Options(strict, references), fmt)

    for option in reversed((topology_files, out_option, strict_option, bicep_types_option,
                            crd_schemas_option, cilium_schema_option, output_format)):
        command = option(command)
    return command


@cli.command()
@rendering_command
def render(topologies: tuple[Path, ...], out: Path, options: compiler.Options, fmt: str) -> None:
    """Render topologies into OUT/<name>/, atomically: all files or none."""
    from .write import write_tree

    results = _compile_all(topologies, options, fmt)
    for result in results:
        assert result.plan is not None and result.files is not None
        root = out / result.plan.name
        changes = write_tree(root, result.files)
        counts = {s: sum(c.status == s for c in changes)
                  for s in ("created", "changed", "removed", "unchanged")}
        click.echo(f"{root}: " + ", ".join(f"{n} {s}" for s, n in counts.items()), err=True)
    _exit([d for r in results for d in r.diagnostics])


@cli.command()
@rendering_command
def check(topologies: tuple[Path, ...], out: Path, options: compiler.Options, fmt: str) -> None:
    """Fail when OUT/<name>/ differs from what render would write (a CI drift gate)."""
    from .write import compare

    results = _compile_all(topologies, options, fmt)
    stale: list[Diagnostic] = []
    for result in results:
        assert result.plan is not None and result.files is not None
        root = out / result.plan.name
        for change in compare(root, result.files):
            if change.status != "unchanged":
                stale.append(diagnostic("AKM901", str(root / change.path), 1, 1,
                                        f"{change.status}: the committed file differs "
                                        f"from what render writes" if change.status ==
                                        "changed" else _stale_message(change.status),
                                        f"run `aksmesh render {result.file}` and commit"))
    diagnostics = [d for r in results for d in r.diagnostics] + stale
    _emit(diagnostics, fmt)
    _exit(diagnostics)


@cli.command()
@click.option("--clusters", type=click.IntRange(2, 511), default=3, show_default=True,
              help="Number of clusters.")
@click.option("--name", help="Topology name (default mesh-N).")
def example(clusters: int, name: str | None) -> None:
    """Print a valid example topology of any size (for trying things and benchmarks)."""
    from .example import example_topology

    click.echo(example_topology(clusters, name), nl=False)


@cli.group()
def ca() -> None:
    """Manage the mesh's shared Cilium CA."""


@ca.command("init")
@click.argument("topology", type=click.Path(path_type=Path, dir_okay=False))
@click.option("--age-recipient", "recipients", multiple=True, required=True,
              metavar="AGE_PUBLIC_KEY",
              help="age public key (age1...) that may decrypt the CA; repeat for several. "
                   "Give the key of the flux-system/sops-age Secret of the clusters.")
@click.option("--force", is_flag=True, help="Replace an existing CA (re-keys every cluster).")
def ca_init(topology: Path, recipients: tuple[str, ...], force: bool) -> None:
    """Create the shared CA, encrypted with sops to the age recipients, beside TOPOLOGY."""
    from .ca import SECRET_NAME, SECRET_NAMESPACE, CaError, init_ca
    from .load import shared_ca_path
    from .write import write_file

    result = compiler.validate(topology)
    if not result.ok:
        _emit(result.diagnostics, "text")
        _exit(result.diagnostics)
    target = shared_ca_path(topology)
    if target.exists() and not force:
        _fail(f"{target} exists", "every cluster trusts that CA; replacing it re-keys the whole "
              "mesh: pass --force if that is what you want")
    try:
        encrypted = init_ca(SECRET_NAME, SECRET_NAMESPACE, list(recipients))
    except CaError as error:
        _fail(error.message, error.hint)
    write_file(target, encrypted)
    click.echo(f"{target}: new CA, encrypted to {len(recipients)} age "
               f"recipient{'s' * (len(recipients) != 1)}; run `aksmesh render` and commit both",
               err=True)


def _fail(message: str, hint: str = "") -> None:
    click.echo(f"aksmesh: error: {message}" + (f"\n  hint: {hint}" if hint else ""), err=True)
    sys.exit(EXIT_FINDINGS)


def _stale_message(status: str) -> str:
    return {"created": "missing: render would create this file",
            "removed": "extra: render would remove this file"}[status]


def _compile_all(topologies: tuple[Path, ...], options: compiler.Options, fmt: str
                 ) -> list[compiler.Result]:
    """Compile every topology; stop before any output when one of them has errors."""
    results = [compiler.compile_topology(path, options) for path in topologies]
    diagnostics = [d for r in results for d in r.diagnostics]
    if has_errors(diagnostics):
        _emit(diagnostics, fmt)
        _exit(diagnostics)
    names = [r.plan.name for r in results if r.plan is not None]
    duplicates = sorted({n for n in names if names.count(n) > 1})
    if duplicates:
        raise click.UsageError(f"several topologies are named {', '.join(duplicates)}; "
                               "each needs its own output tree")
    if fmt == "text":
        _emit(diagnostics, fmt)  # warnings; machine formats print once, at the end
    return results


def _emit(diagnostics: list[Diagnostic], fmt: str) -> None:
    if fmt != "text":
        click.echo(report.FORMATS[fmt](diagnostics), nl=False)
        return
    if diagnostics:
        click.echo(report.render_text(diagnostics), nl=False)
        click.echo(report.summary(diagnostics), err=True)


def _exit(diagnostics: list[Diagnostic]) -> None:
    sys.exit(EXIT_FINDINGS if has_errors(diagnostics) else EXIT_OK)


def _plan_table(plan: Plan) -> str:
    header = ("cluster", "id", "region", "vnet", "node subnet", "pods", "services",
              "dns ip", "mesh ip", "mesh peers")
    rows = [header] + [
        (c.name, str(c.id), c.region, str(c.vnet_cidr), str(c.node_subnet_cidr),
         str(c.pod_cidr), str(c.service_cidr), str(c.dns_service_ip), str(c.clustermesh_ip),
         ",".join(p.name for p in c.mesh_peers))
        for c in plan.clusters
    ]
    widths = [max(len(row[i]) for row in rows) for i in range(len(header))]
    lines = ["  ".join(cell.ljust(w) for cell, w in zip(row, widths)).rstrip() for row in rows]
    connectivity = (f"{len(plan.peerings)} VNet peerings" if plan.peering == "full-mesh"
                    else "an AVNM mesh")
    title = (f"{plan.name}: Kubernetes {plan.kubernetes_version}, Cilium {plan.cilium_version}, "
             f"{len(plan.clusters)} clusters, {connectivity}")
    return "\n".join([title, "", *lines])


EXIT_INTERNAL = 3


def main() -> None:
    try:
        cli(prog_name="aksmesh")
    except Exception as error:  # a bug in aksmesh, never bad input: say so, briefly
        if os.environ.get("AKSMESH_DEBUG"):
            raise
        click.echo(f"aksmesh: internal error: {type(error).__name__}: {error}\n"
                   "  hint: this is a bug in aksmesh; rerun with AKSMESH_DEBUG=1 for the "
                   "traceback and report it", err=True)
        sys.exit(EXIT_INTERNAL)
