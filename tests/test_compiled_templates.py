"""The compiled templates are the templates: same bytes as Jinja renders, never stale.

render runs `generator/compiled_templates.py`, which scripts/compile_templates.py makes of
`generator/templates/` so that no run imports Jinja. Jinja stays the reference: every
template is rendered by both, for meshes that together reach every template, and small
templates probe the lookup rules and filters one by one. What the compiler does not
support it refuses, with the template and the line.
"""

from __future__ import annotations

import importlib.util
import subprocess
import sys
from pathlib import Path

import pytest

from conftest import PROJECT, VALID, run_cli
from generator import compiler, render
from generator.compiled_templates import FUNCTIONS
from generator.example import example_topology
from generator.templating import Templates

_spec = importlib.util.spec_from_file_location(
    "compile_templates", PROJECT / "scripts" / "compile_templates.py")
compile_templates = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(compile_templates)


def test_the_committed_module_is_what_the_compiler_makes_of_the_templates():
    assert (PROJECT / "generator" / "compiled_templates.py").read_text(encoding="utf-8") == \
        compile_templates.generate(), "stale: run `make templates`"


def test_a_render_imports_no_jinja(tmp_path):
    probe = ("import sys\nfrom generator.cli import main\ntry:\n    main(sys.argv[1:])\n"
             "except SystemExit as exit_:\n    assert not exit_.code, exit_.code\n"
             "print(sorted(m for m in sys.modules if m.split('.')[0] in ('jinja2', 'markupsafe')))")
    result = subprocess.run([sys.executable, "-c", probe, "render", "-o", str(tmp_path),
                             str(PROJECT / "topologies" / "seed-demo.yaml")],
                            capture_output=True, text=True, check=True)
    assert result.stdout.strip() == "[]", result.stdout


class BothWays:
    """A template environment that renders with Jinja and with the compiled function, and
    fails the test on the first difference."""

    def __init__(self, compiled: Templates):
        self.compiled, self.rendered = compiled, set()
        self.jinja = compile_templates.environment()
        self.jinja.filters.update(compiled.filters)
        self.jinja.globals.update(compiled.context)

    def get_template(self, name: str):
        both = self

        class Template:
            def render(self, *args, **values):
                expected = both.jinja.get_template(name).render(*args, **values)
                assert both.compiled.get_template(name).render(*args, **values) == expected, \
                    name
                both.rendered.add(name)
                return expected

        return Template()


def _meshes(tmp_path: Path) -> list[tuple[Path, compiler.Options]]:
    """Topologies that together render every template: the examples (with their CAs), a
    hybrid member first, Azure Virtual Network Manager, rollout waves, a removed cluster."""
    def written(name: str, text: str) -> Path:
        path = tmp_path / f"{name}.yaml"
        path.write_text(text, encoding="utf-8")
        return path

    meshes = [(path, compiler.Options()) for path in
              [*sorted((PROJECT / "topologies").glob("*.yaml")),
               *sorted((PROJECT / "tests" / "topologies").glob("*.yaml"))]]
    avnm = example_topology(3, name="avnm").replace("clusters:\n", "peering: avnm\nclusters:\n", 1)
    meshes.append((written("avnm", avnm), compiler.Options()))
    waves = VALID + "rollout:\n  waves:\n    - name: canary\n      clusters: [ne]\n" \
                    "    - name: rest\n      clusters: [we]\n"
    meshes.append((written("waves", waves), compiler.Options()))
    out = tmp_path / "out"
    assert run_cli("render", "-o", out, written("mesh", example_topology(3, name="mesh"))
                   ).exit_code == 0
    smaller = written("mesh", example_topology(2, name="mesh"))
    meshes.append((smaller, compiler.Options(out=out, acknowledged=("clusters.c003",))))
    return meshes


def test_every_template_renders_the_same_bytes_compiled_as_with_jinja(tmp_path, monkeypatch):
    both = BothWays(render.template_env())
    monkeypatch.setattr(render, "template_env", lambda: both)
    for topology, options in _meshes(tmp_path):
        result = compiler.compile_topology(topology, options)
        assert result.ok, (topology, [d.format_text() for d in result.diagnostics])
    assert both.rendered == set(FUNCTIONS), "templates no mesh reached: add a mesh that does"


# ---------------------------------------------------------------- construct by construct

PROBES = {
    "attribute-then-item.j2": "{{ d.items() | length }} {{ d.name }} {{ o.real }}",
    "item-then-attribute.j2": "{{ d['name'] }} {{ o['real'] }} {{ pairs[1][0] }}",
    "for.j2": "{% for k, v in pairs %}{{ k }}={{ v }}{{ ',' if not loop.last else '' }}"
              "{% endfor %}|{% for x in empty %}{{ x }}{% else %}none{% endfor %}|"
              "{% for x in one %}{{ x }}{% if loop.last %}!{% endif %}{% endfor %}",
    "nested-loops.j2": "{% for a in pairs %}{% for b in a %}{{ b }}{% if loop.last %};"
                       "{% endif %}{% endfor %}{% if loop.last %}.{% endif %}{% endfor %}",
    "set-in-loop.j2": "{% set x = 'outer' %}{% for y in one %}{% set x = y %}{{ x }}"
                      "{% endfor %} {{ x }}",
    "filters.j2": "{{ words | sort | join(', ') }} {{ words | length }} "
                  "{{ records | map(attribute='ports.0') | join('/') }} "
                  "{{ pairs | map('join', '=') | join(' ') }} {{ words | map('shout') | join }}",
    "expressions.j2": "{{ none or 'fallback' }} {{ not one }} {{ 'a' ~ 1 ~ none }} "
                      "{{ (1, 'b') }} {{ call('x', k=2) }} {{ 'yes' if one and words else 'no' }}",
    "whitespace.j2": "a\n  {% if one %}\n    b\n  {% endif %}\nc\n{% for x in one %}\n- {{ x }}\n"
                     "{% endfor %}\n",
}
VALUES = {"d": {"name": "dict", "items": 1}, "o": 3 + 0j, "pairs": [("k", "v"), ("l", "w")],
          "empty": [], "one": ["only"], "words": ["b", "A", "c", "B"],
          "records": [{"ports": [80, 443]}, {"ports": [8080]}],
          "call": lambda *args, **kwargs: f"{args}{kwargs}"}


def _compiled(root: Path) -> dict:
    namespace: dict = {"__name__": "generator._probe", "__package__": "generator"}
    exec(compile(compile_templates.generate(root), str(root / "compiled.py"), "exec"), namespace)
    return namespace["FUNCTIONS"]


def test_each_construct_renders_as_jinja_renders_it(tmp_path):
    for name, source in PROBES.items():
        (tmp_path / name).write_text(source, encoding="utf-8")
    functions = _compiled(tmp_path)
    filters = {"shout": str.upper}
    jinja = compile_templates.environment(tmp_path)
    jinja.filters.update(filters)
    for name in PROBES:
        expected = jinja.get_template(name).render(VALUES)
        assert Templates(functions, filters, {}).get_template(name).render(VALUES) == \
            expected, name


@pytest.mark.parametrize("source, refused", [
    ("{{ a == b }}", "the Compare expression"),
    ("{{ a + 1 }}", "the Add expression"),
    ("{% for x in xs %}{{ loop.index }}{% endfor %}", "loop.index"),
    ("{% if a %}{% set b = 1 %}{% endif %}", "set inside an if"),
    ("{{ a | default('x') }}", "the `default` filter"),
    ("{{ a is defined }}", "the `defined` test"),
    ("{% for x in xs if x %}{% endfor %}", "a filtered or recursive for"),
    ("{% macro m() %}{% endmacro %}", "the Macro statement"),
])
def test_what_the_compiler_does_not_support_it_refuses_at_its_line(tmp_path, source, refused):
    (tmp_path / "bad.j2").write_text(f"fine\n{source}\n", encoding="utf-8")
    with pytest.raises(compile_templates.Unsupported) as error:
        compile_templates.generate(tmp_path)
    assert str(error.value).startswith("bad.j2:2: ") and refused in str(error.value)
