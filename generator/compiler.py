"""The pipeline, wired: load → rules → plan → render → verify. No printing, no exiting.

The CLI calls these functions and decides what to show and which exit code to return.
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .diagnostics import Diagnostic, diagnostic, has_errors, strict as strictly
from .inputs import load_schema, load_shared_ca, load_state, shared_ca_path
from .load import Document, LoadError, load_topology
from .plan import plan_topology
from .plan_records import Plan
from .rules import document_findings, plan_findings
from .state_changes import Change
from .verify import References

if TYPE_CHECKING:
    from .ca import SharedCa


@dataclass(frozen=True)
class Options:
    strict: bool = False
    references: References = References()
    # The moment the CA's remaining lifetime is judged against (None: now). Only findings
    # depend on it, never the rendered files.
    now: datetime.datetime | None = None
    # Where the committed output trees are: each topology's plan is compared with the state
    # record of its tree there (state.STATE_FILE). None: compare nothing.
    out: Path | None = None
    # Disruptive changes the user accepts, by code (AKM701) or key (clusters.we.id).
    acknowledged: tuple[str, ...] = ()


@dataclass
class Result:
    """What compiling one topology produced: findings, and the plan and files if it got there."""

    file: str
    diagnostics: list[Diagnostic] = field(default_factory=list)
    plan: Plan | None = None
    files: dict[str, str] | None = None
    # The changes against the committed state record; None when there is none to compare.
    changes: list[Change] | None = None
    # Clusters the committed tree records as removed, newly or before: their cleanup
    # (REMOVED.md) stays in the tree.
    removed: tuple[dict, ...] = ()

    @property
    def ok(self) -> bool:
        return not has_errors(self.diagnostics)


def validate(path: Path, options: Options = Options(), display: str | None = None) -> Result:
    """Load one topology, apply the rules and plan it."""
    result = Result(display or str(path))
    try:
        document = load_topology(path, result.file)
    except LoadError as error:
        result.diagnostics = [error.diagnostic]
        return result
    schema = load_schema()
    findings = document_findings(document.data, schema)
    if not findings:
        plan = plan_topology(document.data, schema)
        findings = plan_findings(plan)
        result.plan = plan
    result.diagnostics = _finish(document, findings, options)
    if result.plan is not None and options.out is not None and result.ok:
        result.changes, result.removed, compared = _compare_with_record(
            path, document, result.plan, options)
        result.diagnostics += strictly(compared) if options.strict else compared
    return result


def _compare_with_record(path: Path, document: Document, plan: Plan, options: Options
                         ) -> tuple[list[Change] | None, tuple[dict, ...], list[Diagnostic]]:
    """The plan's changes against the committed tree's state record, and the errors for
    those that are refused or disruptive and not acknowledged."""
    from . import aks_changes, state, state_changes
    from .ca import CaError

    assert options.out is not None
    record_path = options.out / plan.name / state.STATE_FILE
    try:
        previous = load_state(options.out / plan.name)
    except (OSError, ValueError) as error:
        previous = error
    if previous is None:
        return None, (), []  # a first render: nothing runs yet
    if not state.readable(previous):
        return None, (), [diagnostic(
            "AKM711", str(record_path), 1, 1,
            f"the committed state record cannot be read"
            f"{': ' + str(previous) if isinstance(previous, Exception) else ''}",
            f"restore it from Git (`git checkout -- {record_path}`); it is written by "
            "`aksmesh render`, never by hand")]
    try:
        ca = load_shared_ca(path)
    except (CaError, OSError, UnicodeDecodeError):
        ca = None  # compile_topology says what is wrong with it
    changes = (state_changes.classify(previous, plan, ca)
               + aks_changes.aks_changes(previous, plan))
    diagnostics = []
    for finding in state_changes.findings(changes, options.acknowledged):
        if finding.code == "AKM706":  # the CA lives beside the topology, not in it
            diagnostics.append(diagnostic(finding.code, str(shared_ca_path(path)), 1, 1,
                                          finding.message, finding.hint))
        else:
            diagnostics.append(document.locate(finding))
    for unmatched in state_changes.unmatched_acknowledgements(changes, options.acknowledged):
        diagnostics.append(diagnostic(
            "AKM712", document.file, 1, 1,
            f"--allow-disruptive {unmatched} matches no disruptive change of `{plan.name}`",
            "name a code (AKM701) or a key (clusters.we.id) as the error gives it"))
    return changes, state.removed_clusters(previous, plan), sorted(diagnostics)


def compile_topology(path: Path, options: Options = Options(), display: str | None = None
                     ) -> Result:
    """Validate, then render and verify the output tree in memory."""
    from .render import render
    from .verify import verify

    result = validate(path, options, display)
    if not result.ok or result.plan is None:
        return result
    ca, findings = _shared_ca(path, result.file)
    if ca is not None:
        findings += _ca_lifetime(ca, shared_ca_path(path), options.now)
    if not has_errors(findings):
        rendered = render(result.plan, ca, options.references.described(result.plan),
                          result.removed)
        findings += verify(result.plan, rendered, options.references)
    result.diagnostics += strictly(findings) if options.strict else findings
    if result.ok:
        result.files = rendered.files
    return result


def _shared_ca(path: Path, display: str) -> tuple["SharedCa | None", list[Diagnostic]]:
    from .ca import CaError

    ca_path = shared_ca_path(path)
    try:
        ca = load_shared_ca(path)
    except CaError as error:
        return None, [diagnostic("AKM602", str(ca_path), 1, 1, error.message, error.hint)]
    except (OSError, UnicodeDecodeError) as error:
        return None, [diagnostic("AKM602", str(ca_path), 1, 1, f"cannot read the CA file: "
                                 f"{getattr(error, 'strerror', None) or error}")]
    if ca is None:
        return None, [diagnostic(
            "AKM601", display, 1, 1,
            "no shared Cilium CA: each cluster would generate its own and the mesh "
            "would fail", f"create it: aksmesh ca init {display} --age-recipient <age1...>")]
    return ca, []


def _ca_lifetime(ca: "SharedCa", ca_path: Path, now: datetime.datetime | None
                 ) -> list[Diagnostic]:
    """Whether certgen can keep renewing the leaves from this CA, and for how long."""
    from .ca import CaError
    from .ca_certificate import ca_facts, lifetime_problems

    try:
        found = ca_facts(ca)
    except CaError as error:
        return [diagnostic("AKM612", str(ca_path), 1, 1, error.message, error.hint)]
    moment = now or datetime.datetime.now(datetime.timezone.utc)
    return [diagnostic(code, str(ca_path), 1, 1, message, hint)
            for code, message, hint in lifetime_problems(found, moment)]


def _finish(document: Document, findings: list, options: Options) -> list[Diagnostic]:
    diagnostics = sorted(document.locate(f) for f in findings)
    return strictly(diagnostics) if options.strict else diagnostics


def drift(result: Result, out: Path) -> list[Diagnostic]:
    """AKM901 for every file of `out/<name>/` that is not what render writes: the drift
    gate of `aksmesh check`."""
    from .write import compare

    assert result.plan is not None and result.files is not None
    root = out / result.plan.name
    return [diagnostic("AKM901", str(root / change.path), 1, 1, _STALE[change.status],
                       f"run `aksmesh render {result.file}` and commit")
            for change in compare(root, result.files) if change.status != "unchanged"]


_STALE = {"changed": "changed: the committed file differs from what render writes",
          "created": "missing: render would create this file",
          "removed": "extra: render would remove this file"}


def duplicate_names(results: list[Result]) -> list[str]:
    """The topology names several of `results` share: each needs its own output tree."""
    names = [r.plan.name for r in results if r.plan is not None]
    return sorted({n for n in names if names.count(n) > 1})


def init_shared_ca(topology: Path, recipients: list[str], force: bool
                   ) -> tuple[list[Diagnostic], str]:
    """`ca init`: (the topology's findings, "") when it has errors; else ([], a new mesh CA
    encrypted to `recipients`), to be written to `shared_ca_path(topology)`. Raises CaError
    when that file exists (without `force`) or the CA cannot be made."""
    from .backends import ca_wiring
    from .ca import SECRET_NAME, CaError, init_ca

    result = validate(topology)
    if not result.ok:
        return result.diagnostics, ""
    target = shared_ca_path(topology)
    if target.exists() and not force:
        raise CaError(f"{target} exists", "every cluster trusts that CA; replacing it re-keys "
                      "the whole mesh: pass --force if that is what you want")
    return [], init_ca(SECRET_NAME, ca_wiring().secret_namespace, recipients)


def mesh_answer(plan: Plan) -> dict[str, Any]:
    """The reachability model's answer for the objects render makes of `plan`: which
    (cluster, namespace) admits which from other clusters, and where each global service
    sends each cluster's clients. What `aksmesh plan` shows; verify proves it equals the
    plan's intent before anything is written."""
    from .flux.reachability import backend_preference, cross_cluster_matrix
    from .flux.rendered_objects import namespaces_named
    from .flux.verify_mesh import mesh_objects
    from .mesh_intent import matrix_rows, preference_text
    from .render import render

    if not plan.global_services and plan.segmentation is None:
        return {"reachability": None, "globalServiceBackends": []}
    mesh = mesh_objects(plan, render(plan, None).files)
    namespaces = namespaces_named(mesh, plan.named_namespaces)
    rows = matrix_rows(cross_cluster_matrix(mesh, namespaces), list(mesh.clusters), namespaces)
    services = []
    for service in plan.global_services:
        groups = backend_preference(mesh, service.namespace, service.name)
        services.append({
            "service": f"{service.namespace}/{service.name}",
            "backends": sorted(service.backends),
            "affinity": service.affinity,
            "clusters": {c: {"preference": [list(g) for g in groups.get(c, ())],
                             "text": preference_text(groups.get(c, ()))}
                         for c in mesh.clusters},
        })
    return {"reachability": {"segmentation": plan.segmentation is not None,
                             "namespaces": list(namespaces),
                             "admitted": [{"to": to, "from": list(sources)}
                                          for to, sources in rows]},
            "globalServiceBackends": services}
