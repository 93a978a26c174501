"""Stage 4, render: the plan placed into Jinja templates, as {relative path: text}.

The list of output files is decided here in Python, never by templated paths; templates
receive the frozen plan and only place its values.
"""

from __future__ import annotations

from functools import cache

import jinja2

from . import facts
from .load import TEMPLATES_DIR
from .plan import Plan

# Output path → template, for files rendered once per topology.
BICEP_FILES = {
    "bicep/main.bicep": "bicep/main.bicep.j2",
    "bicep/modules/cluster.bicep": "bicep/modules/cluster.bicep.j2",
    "bicep/modules/peerings.bicep": "bicep/modules/peerings.bicep.j2",
}


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


def render(plan: Plan) -> dict[str, str]:
    env = jinja_env()
    files = {"README.md": env.get_template("README.md.j2").render(plan=plan)}
    for path, template in BICEP_FILES.items():
        files[path] = env.get_template(template).render(plan=plan)
    return dict(sorted(files.items()))
