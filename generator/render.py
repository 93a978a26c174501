"""Stage 4, render: the plan placed into Jinja templates, as {relative path: text}.

The list of output files is decided here in Python, never by templated paths; templates
receive the frozen plan and only place its values.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache

import jinja2

from . import facts
from .ca import SECRET_NAME, SharedCa
from .load import TEMPLATES_DIR
from .plan import Plan

# Output path → template, for files rendered once per topology.
BICEP_FILES = {
    "bicep/main.bicep": "bicep/main.bicep.j2",
    "bicep/modules/cluster.bicep": "bicep/modules/cluster.bicep.j2",
    "bicep/modules/peerings.bicep": "bicep/modules/peerings.bicep.j2",
}
# Path under clusters/<name>/ → template, for files rendered once per cluster.
CLUSTER_FILES = {
    "kustomization.yaml": "flux/cluster-kustomization.yaml.j2",
    "flux-system/kustomization.yaml": "flux/flux-system/kustomization.yaml",
    "cilium.yaml": "flux/cilium.yaml.j2",
    "cilium/kustomization.yaml": "flux/cilium/kustomization.yaml.j2",
    "cilium/helmrepository.yaml": "flux/cilium/helmrepository.yaml.j2",
    "cilium/helmrelease.yaml": "flux/cilium/helmrelease.yaml.j2",
    "cilium/values.yaml": "flux/cilium/values.yaml.j2",
}
SHARED_CA_DIR = "cilium-ca"


@dataclass(frozen=True)
class CaContext:
    """What templates know of the shared CA: where it is, never what it holds."""

    present: bool
    secret_name: str
    file_name: str
    recipients: tuple[str, ...]


def api(resource_type: str) -> str:
    """`type@apiVersion` from the one table of API versions."""
    return f"{resource_type}@{facts.API_VERSIONS[resource_type]}"


def bicep_literal(value: bool) -> str:
    return "true" if value else "false"


@cache
def jinja_env() -> jinja2.Environment:
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(TEMPLATES_DIR),
        undefined=jinja2.StrictUndefined,  # a missing value is a bug, never an empty string
        keep_trailing_newline=True,
        autoescape=False,  # we write YAML, Bicep and Markdown, not HTML
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters["api"] = api
    env.filters["bicep"] = bicep_literal
    return env


def render(plan: Plan, ca: SharedCa | None) -> dict[str, str]:
    env = jinja_env()
    context = CaContext(ca is not None, ca.secret_name if ca else SECRET_NAME,
                        ca.file_name if ca else "", ca.recipients if ca else ())
    files = {"README.md": env.get_template("README.md.j2").render(plan=plan, ca=context)}
    for path, template in BICEP_FILES.items():
        files[path] = env.get_template(template).render(plan=plan)
    templates = {path: env.get_template(name) for path, name in CLUSTER_FILES.items()}
    for cluster in plan.clusters:
        for path, template in templates.items():
            files[f"clusters/{cluster.name}/{path}"] = template.render(
                plan=plan, cluster=cluster, ca=context)
    if ca is not None:
        # Byte for byte: sops' MAC covers the whole document.
        files[f"{SHARED_CA_DIR}/{ca.file_name}"] = ca.text
        files[f"{SHARED_CA_DIR}/kustomization.yaml"] = env.get_template(
            "flux/cilium-ca/kustomization.yaml.j2").render(ca=context)
        files[".sops.yaml"] = env.get_template("flux/sops.yaml.j2").render(ca=context)
    return dict(sorted(files.items()))
