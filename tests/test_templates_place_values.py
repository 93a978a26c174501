"""Templates place values; the plan and the render context decide them.

Every template is parsed by the Jinja environment its compiler uses and its syntax tree is
searched for decisions: comparisons and membership tests, arithmetic, counters (`loop.index`
and kin, `namespace()`), number literals (other than an item index such as `ports[0]`) and
port numbers written into the text. Each such decision is a named value of the plan
(`plan.full_mesh`, `plan.peer_count`, `MeshTraffic.label`, ...) or of the render context
(`counted`, `link_count`, `steps`).
"""

from __future__ import annotations

import re

import pytest
from jinja2 import nodes

from conftest import PROJECT
from generator import facts
from test_compiled_templates import compile_templates

TEMPLATES = PROJECT / "generator" / "templates"
# Files rendered as templates that hold no placeholder at all, with the reason they may
# spell a number.
STATIC = {
    # A kustomize Component copied as it is; its comments name Cilium's host ports to explain
    # why flux-aio's controller ports are clear of them.
    "flux/flux-system-patches/kustomization.yaml",
}
ARITHMETIC = (nodes.Add, nodes.Sub, nodes.Mul, nodes.Div, nodes.FloorDiv, nodes.Mod, nodes.Pow)
COUNTERS = {"index", "index0", "revindex", "revindex0", "length", "cycle", "changed",
            "previtem", "nextitem", "depth", "depth0"}
PORTS = sorted({str(value) for name, value in vars(facts).items()
                if name.endswith("_PORT") and isinstance(value, int)}
               | {t.port for t in facts.MESH_TRAFFIC if t.port.isdigit()})


def decisions(source: str) -> list[str]:
    """Each decision the template `source` takes, as `line: what`."""
    tree = compile_templates.environment().parse(source)
    indexes = {id(n.arg) for n in tree.find_all(nodes.Getitem)}
    found = []
    for node in tree.find_all(nodes.Node):
        what = ""
        if isinstance(node, nodes.Compare):
            what = "compares: " + ", ".join(op.op for op in node.ops)
        elif isinstance(node, ARITHMETIC):
            what = f"computes: {type(node).__name__}"
        elif isinstance(node, nodes.Getattr) and isinstance(node.node, nodes.Name) \
                and node.node.name == "loop" and node.attr in COUNTERS:
            what = f"counts: loop.{node.attr}"
        elif isinstance(node, nodes.Call) and isinstance(node.node, nodes.Name) \
                and node.node.name == "namespace":
            what = "keeps a counter: namespace()"
        elif isinstance(node, nodes.Const) and type(node.value) in (int, float) \
                and id(node) not in indexes:
            what = f"writes the number {node.value}"
        elif isinstance(node, nodes.TemplateData):
            ports = [p for p in PORTS if re.search(rf"(?<![\d.]){p}(?![\d.])", node.data)]
            what = f"writes port {', '.join(ports)} as text" if ports else ""
        if what:
            found.append(f"{node.lineno}: {what}")
    return found


def template_names() -> list[str]:
    return sorted(str(path.relative_to(TEMPLATES)) for path in TEMPLATES.rglob("*")
                  if path.is_file() and str(path.relative_to(TEMPLATES)) not in STATIC)


@pytest.mark.parametrize("name", template_names())
def test_a_template_decides_nothing(name):
    assert decisions((TEMPLATES / name).read_text(encoding="utf-8")) == []


def test_the_static_files_hold_no_placeholder():
    for name in STATIC:
        text = (TEMPLATES / name).read_text(encoding="utf-8")
        assert "{{" not in text and "{%" not in text, name


@pytest.mark.parametrize("source, expected", [
    ('{{ "s" if items | length != 1 else "" }}', "1: compares: ne"),
    ("{% if 'avnm' in plan.peering %}x{% endif %}", "1: compares: in"),
    ("{{ plan.clusters | length - 1 }}", "1: computes: Sub"),
    ("{{ a * b // 2 }}", "1: computes: FloorDiv"),
    ("{% for c in cs %}{{ loop.index }}{% endfor %}", "1: counts: loop.index"),
    ("{% set step = namespace(n=3) %}", "1: keeps a counter: namespace()"),
    ("x\nport: {{ 8472 }}", "2: writes the number 8472"),
    (f"UDP {facts.WIREGUARD_PORT}, TCP {{{{ p }}}}", "1: writes port "
     f"{facts.WIREGUARD_PORT} as text"),
])
def test_the_scan_finds_each_kind_of_decision(source, expected):
    assert expected in decisions(source)


def test_the_scan_lets_values_and_item_indexes_through():
    assert decisions('{{ plan.name }} {{ s.ports[0].port }}{{ ", " if not loop.last }}'
                     "{% if plan.full_mesh %}peered{% endif %}") == []
