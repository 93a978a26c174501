"""Reporters: a name → a pure function from diagnostics to text. No logic beyond layout."""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from typing import Any

from .diagnostics import Diagnostic, Severity, codes


def render_text(diagnostics: Sequence[Diagnostic]) -> str:
    return "".join(d.format_text() + "\n" for d in diagnostics)


def render_json(diagnostics: Sequence[Diagnostic]) -> str:
    records = [
        {
            "file": d.file,
            "line": d.line,
            "col": d.col,
            "code": d.code,
            "severity": str(d.severity),
            "title": codes()[d.code].title,
            "message": d.message,
            "hint": d.hint,
            "path": list(d.path),
        }
        for d in diagnostics
    ]
    return json.dumps(records, indent=2, sort_keys=True) + "\n"


SARIF_SCHEMA = "https://docs.oasis-open.org/sarif/sarif/v2.1.0/errata01/os/schemas/sarif-schema-2.1.0.json"
_SARIF_LEVEL = {Severity.ERROR: "error", Severity.WARNING: "warning", Severity.NOTE: "note"}


def render_sarif(diagnostics: Sequence[Diagnostic]) -> str:
    """SARIF 2.1.0, as GitHub code scanning loads it: one run, every code as a rule."""
    from importlib.metadata import PackageNotFoundError, version

    try:
        tool_version = version("aksmesh")
    except PackageNotFoundError:  # running from a checkout that is not installed
        tool_version = "0.0.0"
    index = {code: i for i, code in enumerate(codes())}
    rules = [
        {
            "id": code.id,
            "name": "".join(word.capitalize() for word in code.title.split()),
            "shortDescription": {"text": code.title},
            "fullDescription": {"text": code.explanation},
            "defaultConfiguration": {"level": _SARIF_LEVEL[code.severity]},
            "help": {"text": f"{code.explanation}\n\nExample:\n{code.example}"},
        }
        for code in codes().values()
    ]
    results = [
        {
            "ruleId": d.code,
            "ruleIndex": index[d.code],
            "level": _SARIF_LEVEL[d.severity],
            "message": {"text": f"{d.message}. Hint: {d.hint}" if d.hint else d.message},
            "locations": [{"physicalLocation": {
                "artifactLocation": {"uri": d.file.replace("\\", "/")},
                "region": {"startLine": d.line, "startColumn": d.col},
            }}],
        }
        for d in diagnostics
    ]
    log = {
        "$schema": SARIF_SCHEMA,
        "version": "2.1.0",
        "runs": [{
            "tool": {"driver": {"name": "aksmesh", "version": tool_version,
                                "informationUri": "https://github.com/aksmesh/aksmesh",
                                "rules": rules}},
            "results": results,
        }],
    }
    return json.dumps(log, indent=2, sort_keys=True) + "\n"


def summary(diagnostics: Sequence[Diagnostic]) -> str:
    counts = [(sum(d.severity is severity for d in diagnostics), str(severity))
              for severity in (Severity.ERROR, Severity.WARNING, Severity.NOTE)]
    return ", ".join(f"{n} {name}{'s' * (n != 1)}" for n, name in counts if n or name != "note")


FORMATS: dict[str, Callable[[Sequence[Diagnostic]], str]] = {
    "text": render_text,
    "json": render_json,
    "sarif": render_sarif,
}


# ---------------------------------------------------------------- changes (plan --diff)


def render_changes(name: str, tree: object, changes: Sequence[Any] | None) -> str:
    """Each change against the committed state record: class, key, what and its effect."""
    if changes is None:
        return f"{name}: no state record in {tree}: a first render, nothing runs yet"
    if not changes:
        return f"{name}: no change against {tree}"
    lines = [f"{name}: {len(changes)} change{'s' * (len(changes) != 1)} against {tree}"]
    for change in changes:
        code = f" ({change.code})" if change.code else ""
        lines.append(f"  {change.klass:<10}  {change.key}: {change.summary}{code}")
        lines.append(f"              {change.effect}")
    return "\n".join(lines)


def changes_json(changes: Sequence[Any] | None) -> dict[str, Any]:
    return {"formatVersion": 1, "recorded": changes is not None,
            "changes": [c.to_json() for c in changes or ()]}


# ---------------------------------------------------------------- plan text, beside the table


def render_plan_details(plan: Any) -> str:
    """What the plan table leaves out: where Azure keeps things, the hybrid members, the
    rollout waves, global services and cross-cluster flows."""
    lines = ["", f"Azure: subscription deployment `{plan.name}` in {plan.deployment_location or '-'}"
             f" (the first Azure cluster's region; keep it first)"]
    for c in plan.clusters:
        if c.managed:
            lines.append(f"  {c.name}: resource group {c.resource_group}, AKS {c.aks_name}, "
                         f"VNet {c.vnet_name}, nodes in {c.node_resource_group}")
        else:
            lines.append(f"  {c.name}: hybrid member, not in Azure: provide its nodes' "
                         f"routing and a LoadBalancer at {c.clustermesh_ip}")
    if plan.fleet is not None:
        lines.append(f"  fleet {plan.fleet.name} in {plan.fleet.resource_group}, update "
                     f"strategy `{plan.fleet.strategy}`")
    if plan.rollout:
        lines += ["", "Rollout waves, in order:"]
        lines += [f"  {w.index + 1}. {w.name}: {', '.join(w.clusters)} (Cilium "
                  f"{w.cilium_version}{f', then wait {w.after_wait_seconds}s' if w.after_wait_seconds else ''})"
                  for w in plan.rollout]
    if plan.global_services:
        lines += ["", "Global services:"]
        for svc in plan.global_services:
            ports = ", ".join(f"{p.port}/{p.protocol}" for p in svc.ports)
            lines.append(f"  {svc.namespace}/{svc.name} ({ports}): backends "
                         f"{', '.join(sorted(svc.backends))}, affinity {svc.affinity}")
    if plan.segmentation is not None:
        lines += ["", "Cross-cluster flows allowed (everything else between clusters is "
                      "denied):" if plan.segmentation else
                  "Cross-cluster flows: none allowed"]
        for flow in plan.segmentation:
            lines.append(f"  {flow.source.cluster}/{flow.source.namespace or '*'} -> "
                         f"{flow.destination.cluster}/{flow.destination.namespace or '*'}")
    return "\n".join(lines)


def plan_table(plan: Any) -> str:
    """The plan as a table of clusters under a one-line title, for people."""
    header = ("cluster", "id", "region", "vnet", "node subnet", "pods", "services",
              "dns ip", "mesh ip", "mesh peers")
    rows = [header] + [
        (c.name, str(c.id), c.region if c.managed else f"{c.region} (hybrid)", str(c.vnet_cidr), str(c.node_subnet_cidr),
         str(c.pod_cidr), str(c.service_cidr), str(c.dns_service_ip), str(c.clustermesh_ip),
         ",".join(p.name for p in c.mesh_peers))
        for c in plan.clusters
    ]
    widths = [max(len(row[i]) for row in rows) for i in range(len(header))]
    lines = ["  ".join(cell.ljust(w) for cell, w in zip(row, widths)).rstrip() for row in rows]
    connectivity = (f"{len(plan.peerings)} VNet peerings" if plan.full_mesh
                    else "an AVNM mesh")
    title = (f"{plan.name}: Kubernetes {plan.kubernetes_version}, Cilium {plan.cilium_version}, "
             f"{len(plan.clusters)} clusters, {connectivity}")
    return "\n".join([title, "", *lines])


def mesh_answer_text(answer: dict[str, Any]) -> str:
    """The reachability model's answer, for people (compiler.mesh_answer)."""
    lines = []
    matrix = answer["reachability"]
    if matrix is not None:
        lines += ["", "Reachability across clusters (the model, on the rendered policies): "
                      "each cluster/namespace admits from other clusters",
                  *(f"  {row['to']} <- {', '.join(row['from']) or '(none)'}"
                    for row in matrix["admitted"])]
    for service in answer["globalServiceBackends"]:
        lines += ["", f"Global service {service['service']} (affinity {service['affinity']}, "
                      f"backends {', '.join(service['backends'])}): clients in each cluster "
                      "are sent to",
                  *(f"  {cluster}: {choice['text']}"
                    for cluster, choice in service["clusters"].items())]
    return "\n".join([""] + lines) if lines else ""
