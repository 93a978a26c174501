"""A `.bicepparam` file checked against the parameters of its template."""

from __future__ import annotations

import re
from dataclasses import dataclass

from ..diagnostics import Diagnostic, diagnostic, did_you_mean
from .read import Expression, Value, BodyReader, decorated, named_parts, parse, node_pos, string_value, node_text
from .syntax import syntax_findings
from .typecheck import kind_of


@dataclass(frozen=True)
class ParameterSignature:
    """A `param` of a Bicep file: its declared type, default and constraint decorators."""

    name: str
    type: str  # as written: string, string[], int, object, ...
    has_default: bool
    decorators: dict[str, Value]  # minLength, maxLength, minValue, maxValue -> argument
    line: int


def parameter_signatures(text: str) -> dict[str, ParameterSignature]:
    tree, src = parse(text)
    signatures: dict[str, ParameterSignature] = {}
    for name, node, decorators in decorated(tree.root_node, src):
        if node.type == "parameter_declaration":
            type_node = next((p for p in named_parts(node) if p.type == "type"), None)
            signatures[name] = ParameterSignature(
                name, node_text(src, type_node) if type_node else "",
                any(c.type == "=" for c in node.children), decorators, node_pos(src, node)[0])
    return signatures


_PARAM_ASSIGNMENT = re.compile(r"^param(\s+[A-Za-z_][A-Za-z0-9_]*\s*=)", re.MULTILINE)
_KIND_OF_TYPE = {"string": "string", "int": "int", "bool": "bool", "object": "object",
                 "array": "array"}


PARAMS_CODE = "AKM443"


def bicepparam_findings(params_text: str, template_name: str, template_text: str,
                        file: str = "") -> list[Diagnostic]:
    """What the Bicep compiler checks of a `.bicepparam` file against its template
    (its diagnostics BCP258, a required parameter not assigned, and BCP259, an assignment
    to an undeclared parameter; then the type check of each value): `using` names the
    template, every parameter without a default is assigned, no other is, and each value
    fits the declared type and its @minLength/@maxLength/@minValue/@maxValue.

    tree-sitter-bicep parses `using`, not `param <name> = <value>` (the bicepparam
    grammar): each assignment is read as the `var` it is shaped like, so its value is
    parsed by the same grammar as a template's.
    """
    as_template = _PARAM_ASSIGNMENT.sub(r"var\1", params_text)
    tree, src = parse(as_template)
    syntax = syntax_findings(tree.root_node, src, file, PARAMS_CODE)
    if syntax:
        return syntax
    findings: list[Diagnostic] = []
    using = [n for n in tree.root_node.named_children if n.type == "using_statement"]
    if len(using) != 1 or string_value(named_parts(using[0])[0], src) != template_name:
        findings.append(diagnostic(PARAMS_CODE, file, 1, 1,
                                   f"the file must start with `using '{template_name}'`"))
    signatures = parameter_signatures(template_text)
    assigned: dict[str, tuple[Value, int, int]] = {}
    for node in tree.root_node.named_children:
        if node.type != "variable_declaration":
            continue
        parts = named_parts(node)
        name = node_text(src, parts[0])
        assigned[name] = (BodyReader(src).value(parts[-1], ()), *node_pos(src, node))
    for name, (value, line, col) in assigned.items():
        signature = signatures.get(name)
        if signature is None:
            findings.append(diagnostic(PARAMS_CODE, file, line, col,
                                       f"`{name}` is not a parameter of {template_name} (BCP259)",
                                       did_you_mean(name, sorted(signatures))))
            continue
        problem = _parameter_value_problem(signature, value)
        if problem:
            findings.append(diagnostic(PARAMS_CODE, file, line, col, f"`{name}` {problem}"))
    for name, signature in signatures.items():
        if not signature.has_default and name not in assigned:
            findings.append(diagnostic(PARAMS_CODE, file, 1, 1, f"required parameter `{name}` "
                                       f"of {template_name} is not assigned (BCP258)"))
    return sorted(findings, key=lambda f: (f.line, f.col))


def _parameter_value_problem(signature: ParameterSignature, value: Value) -> str:
    if isinstance(value, Expression):
        return ""
    declared = signature.type
    expected = "array" if declared.endswith("[]") else _KIND_OF_TYPE.get(declared)
    if expected and kind_of(value) != expected:
        return f"is {kind_of(value)}, but main.bicep declares {declared}"
    if declared.endswith("[]") and isinstance(value, list):
        item_kind = _KIND_OF_TYPE.get(declared[:-2])
        if item_kind and any(kind_of(v) != item_kind for v in value
                             if not isinstance(v, Expression)):
            return f"holds items that are not {declared[:-2]}"
    limits = signature.decorators
    size = len(value) if isinstance(value, (list, str, dict)) else None
    if size is not None and isinstance(limits.get("minLength"), int) and size < limits["minLength"]:
        return f"has length {size}, below its @minLength({limits['minLength']})"
    if size is not None and isinstance(limits.get("maxLength"), int) and size > limits["maxLength"]:
        return f"has length {size}, above its @maxLength({limits['maxLength']})"
    if isinstance(value, int) and not isinstance(value, bool):
        if isinstance(limits.get("minValue"), int) and value < limits["minValue"]:
            return f"is {value}, below its @minValue({limits['minValue']})"
        if isinstance(limits.get("maxValue"), int) and value > limits["maxValue"]:
            return f"is {value}, above its @maxValue({limits['maxValue']})"
    return ""
