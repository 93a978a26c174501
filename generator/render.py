"""Stage 4, render: the plan placed into Jinja templates, as {relative path: text}.

The list of output files is decided here in Python, never by templated paths; templates
receive the frozen plan and only place its values.
"""

from __future__ import annotations

from functools import cache

import jinja2

from .load import TEMPLATES_DIR
from .plan import Plan


@cache
def jinja_env() -> jinja2.Environment:
    return jinja2.Environment(
        loader=jinja2.FileSystemLoader(TEMPLATES_DIR),
        undefined=jinja2.StrictUndefined,  # a missing value is a bug, never an empty string
        keep_trailing_newline=True,
        autoescape=False,  # we write YAML, Bicep and Markdown, not HTML
        trim_blocks=True,
        lstrip_blocks=True,
    )


def render(plan: Plan) -> dict[str, str]:
    env = jinja_env()
    files = {"README.md": env.get_template("README.md.j2").render(plan=plan)}
    return dict(sorted(files.items()))
