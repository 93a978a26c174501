"""The type checks of resource bodies against bicep-types-az data.

They mirror what the Bicep compiler does with the same `types.json` data (the format of
Azure/bicep-types; generator/data/README.md says where aksmesh's copy comes from), but every
problem is an error here: Bicep downgrades most of them to warnings, a generator should not
emit them at all.
`Expression` values are accepted by every type.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Mapping
from typing import Any

from .. import facts
from ..diagnostics import Diagnostic, Finding, diagnostic, did_you_mean, dotted
from .read import BodyPath, Expression, ResourceDeclaration, Value, declarations, parse
from .syntax import syntax_findings
from .type_data import TypeLibrary


_REQUIRED, _READ_ONLY = 1, 2
_LANGUAGE_KEYS = frozenset({"parent", "scope", "dependsOn", "asserts"})


# The checker's findings name a path in the resource body (the offending key or item; for
# a missing property, the object lacking it); check_body places them at its position.
BODY_CODE = "AKM502"


@functools.cache
def _regex(pattern: str) -> re.Pattern[str] | None:
    try:
        return re.compile(pattern)
    except re.error:
        return None  # .NET-only syntax (one network pattern); not checkable with `re`


# Python kind of value each type accepts; types not listed accept anything.
_KIND = {
    "StringType": "string",
    "StringLiteralType": "string",
    "IntegerType": "int",
    "BooleanType": "bool",
    "NullType": "null",
    "ArrayType": "array",
    "ObjectType": "object",
    "DiscriminatedObjectType": "object",
}


def kind_of(value: Value) -> str:
    if isinstance(value, bool):
        return "bool"
    if isinstance(value, int):
        return "int"
    if isinstance(value, str):
        return "string"
    if isinstance(value, dict):
        return "object"
    if isinstance(value, list):
        return "array"
    return "null"


def _property_hint(key: str, names: list[str]) -> str:
    """did_you_mean, saying so when only the case differs: Bicep's names are case-sensitive."""
    hint = did_you_mean(key, names)
    if hint and key.lower() in {name.lower() for name in names}:
        hint += " (property names are case-sensitive)"
    return hint


def _in(path: BodyPath) -> str:
    return f" in `{dotted(path)}`" if path else ""


class _Checker:
    def __init__(self, types: Mapping[int, dict[str, Any]]) -> None:
        self.types = types

    def resolve(self, ref: dict[str, str]) -> dict[str, Any]:
        return self.types[int(ref["$ref"][2:])]

    def describe(self, t: dict[str, Any]) -> str:
        kind = t["$type"]
        if kind == "StringLiteralType":
            return repr(t["value"])
        if kind == "UnionType":
            names = dict.fromkeys(self.describe(self.resolve(e)) for e in t["elements"])
            return " | ".join(names)
        return _KIND.get(kind, "any")

    def same_kind(self, t: dict[str, Any], value: Value) -> bool:
        if t["$type"] == "UnionType":
            return any(self.same_kind(self.resolve(e), value) for e in t["elements"])
        expected = _KIND.get(t["$type"])
        return expected is None or expected == kind_of(value)

    def check(self, value: Value, t: dict[str, Any], path: BodyPath) -> list[Finding]:
        if isinstance(value, Expression):
            return []
        kind = t["$type"]
        if kind == "UnionType":
            return self.union(value, t, path)
        if not self.same_kind(t, value):
            return [Finding(BODY_CODE, path, f"`{dotted(path)}`: expected {self.describe(t)}, got {kind_of(value)}")]
        if kind == "StringLiteralType" and value != t["value"]:
            return [Finding(BODY_CODE, path, f"`{dotted(path)}`: expected {t['value']!r}, got {value!r}")]
        if kind == "StringType":
            assert isinstance(value, str)
            return self.string(value, t, path)
        if kind == "IntegerType":
            assert isinstance(value, int)
            if "minValue" in t and value < t["minValue"]:
                return [Finding(BODY_CODE, path, f"`{dotted(path)}`: {value} is below the minimum {t['minValue']}")]
            if "maxValue" in t and value > t["maxValue"]:
                return [Finding(BODY_CODE, path, f"`{dotted(path)}`: {value} is above the maximum {t['maxValue']}")]
        if kind == "ArrayType":
            assert isinstance(value, list)
            return self.array(value, t, path)
        if kind == "ObjectType":
            assert isinstance(value, dict)
            return self.check_object(value, t.get("properties", {}), t.get("additionalProperties"), path)
        if kind == "DiscriminatedObjectType":
            assert isinstance(value, dict)
            return self.discriminated(value, t, path)
        return []

    def string(self, value: str, t: dict[str, Any], path: BodyPath) -> list[Finding]:
        problem = ""
        if len(value) < t.get("minLength", 0):
            problem = f"is shorter than {t['minLength']} characters"
        elif "maxLength" in t and len(value) > t["maxLength"]:
            problem = f"is longer than {t['maxLength']} characters"
        elif "pattern" in t and (pattern := _regex(t["pattern"])) is not None and not pattern.search(value):
            problem = f"does not match the pattern `{t['pattern']}`"
        return [Finding(BODY_CODE, path, f"`{dotted(path)}`: {value!r} {problem}")] if problem else []

    def array(self, value: list[Value], t: dict[str, Any], path: BodyPath) -> list[Finding]:
        if len(value) < t.get("minLength", 0):
            return [Finding(BODY_CODE, path, f"`{dotted(path)}` has {len(value)} items, fewer than {t['minLength']}")]
        if "maxLength" in t and len(value) > t["maxLength"]:
            return [Finding(BODY_CODE, path, f"`{dotted(path)}` has {len(value)} items, more than {t['maxLength']}")]
        item_type = self.resolve(t["itemType"])
        return [issue for i, item in enumerate(value) for issue in self.check(item, item_type, path + (i,))]

    def union(self, value: Value, t: dict[str, Any], path: BodyPath) -> list[Finding]:
        members = [self.resolve(e) for e in t["elements"]]
        if isinstance(value, str) and any(m.get("value") == value for m in members):
            return []  # the common enum hit, without building a failure per literal
        results = []
        for member in members:
            result = self.check(value, member, path)
            if not result:
                return []
            results.append(result)
        literals = [m["value"] for m in members if m["$type"] == "StringLiteralType"]
        if isinstance(value, str) and len(literals) == len(members):
            hint = did_you_mean(value, literals)
            allowed = ", ".join(repr(v) for v in literals)
            return [Finding(BODY_CODE, path, f"`{dotted(path)}`: {value!r} is not one of {allowed}", hint)]
        # Prefer the diagnosis of a member of the right kind: its issues are the specific ones.
        fitting = [r for m, r in zip(members, results) if self.same_kind(m, value)]
        if not fitting:
            return [Finding(BODY_CODE, path, f"`{dotted(path)}`: expected {self.describe(t)}, got {kind_of(value)}")]
        return min(fitting, key=len)

    def check_object(
        self,
        value: dict[str | Expression, Value],
        properties: dict[str, dict[str, Any]],
        additional: dict[str, str] | None,
        path: BodyPath,
    ) -> list[Finding]:
        issues: list[Finding] = []
        for key, item in value.items():
            key_path = path + (key,)
            if isinstance(key, Expression):
                # The key is unknown offline: only the shape of extra keys can be checked.
                if additional is not None:
                    issues += self.check(item, self.resolve(additional), key_path)
                continue
            if not path and key in _LANGUAGE_KEYS:
                continue
            prop = properties.get(key)
            if prop is None:
                if additional is not None:
                    issues += self.check(item, self.resolve(additional), key_path)
                else:
                    issues.append(Finding(BODY_CODE, key_path, f"unknown property `{key}`{_in(path)}", _property_hint(key, list(properties))))
            elif prop["flags"] & _READ_ONLY:
                issues.append(Finding(BODY_CODE, key_path, f"`{dotted(key_path)}` is read-only and cannot be set"))
            elif item is None and not prop["flags"] & _REQUIRED:
                continue  # Bicep lets optional properties be null
            else:
                issues += self.check(item, self.resolve(prop["type"]), key_path)
        if not any(isinstance(k, Expression) for k in value):
            for name, prop in properties.items():
                if prop["flags"] & (_REQUIRED | _READ_ONLY) == _REQUIRED and name not in value:
                    issues.append(Finding(BODY_CODE, path, f"missing required property `{name}`{_in(path)}"))
        return issues

    def discriminated(self, value: dict[str | Expression, Value], t: dict[str, Any], path: BodyPath) -> list[Finding]:
        key = t["discriminator"]
        if key not in value:
            return [Finding(BODY_CODE, path, f"missing required property `{key}`{_in(path)}")]
        chosen = value[key]
        if isinstance(chosen, Expression):
            return []
        elements: dict[str, dict[str, str]] = t["elements"]
        if not isinstance(chosen, str) or chosen not in elements:
            allowed = ", ".join(repr(v) for v in elements)
            hint = did_you_mean(str(chosen), list(elements))
            return [Finding(BODY_CODE, path + (key,), f"`{dotted(path + (key,))}`: {chosen!r} is not one of {allowed}", hint)]
        branch = self.resolve(elements[chosen])
        merged = {**t.get("baseProperties", {}), **branch.get("properties", {})}
        return self.check_object(value, merged, branch.get("additionalProperties"), path)


def check_body(library: TypeLibrary, declaration: ResourceDeclaration, file: str = ""
               ) -> list[Diagnostic]:
    """Type-data findings for one declaration, placed in `file`, sorted by position."""
    decl = declaration
    at_decl = (decl.line, decl.col)
    found = library.resource_type(decl.type, decl.api_version)
    if found is None:
        full = f"{decl.type}@{decl.api_version}" if decl.api_version else decl.type
        return [diagnostic(
            BODY_CODE, file, *at_decl,
            f"no type data for {full}: the Bicep compiler would not check this body (BCP081)",
            "use a type and api version present in bicep-types-az")]
    type_file, resource = found
    if decl.existing or isinstance(decl.body, Expression):
        return []
    findings: list[Diagnostic] = []
    if resource.get("writableScopes") == 0:
        findings.append(diagnostic(BODY_CODE, file, *at_decl,
                                   f"{decl.type}@{decl.api_version} is read-only",
                                   "declare it `existing`"))
    body = decl.body
    name = body.get("name")
    if decl.type.count("/") >= 2 and isinstance(name, str) and "/" in name:
        # A child declared without `parent:` carries 'parent/child'; the type data
        # constrains only the last segment.
        body = {**body, "name": name.rsplit("/", 1)[1]}
    checker = _Checker(type_file.types)
    for finding in checker.check(body, checker.resolve(resource["body"]), ()):
        # The one locator of body paths: a key's or an item's position, else (the body
        # as a whole) the declaration's.
        findings.append(diagnostic(finding.code, file,
                                   *decl.body_positions.get(finding.path, at_decl),
                                   finding.message, finding.hint))
    return sorted(findings, key=lambda f: (f.line, f.col))


def verify_bicep(text: str, library: TypeLibrary | None, file: str = "") -> list[Diagnostic]:
    """Syntax errors; when there are none and a library is given, body findings of every
    resource (but those of the types facts.TYPES_WITHOUT_REFERENCE_DATA lists)."""
    syntax, bodies, _ = bicep_findings(text, library, file)
    return syntax or bodies


def bicep_findings(text: str, library: TypeLibrary | None, file: str = ""
                   ) -> tuple[list[Diagnostic], list[Diagnostic], dict[str, tuple[int, int]]]:
    """(syntax errors, body findings, unchecked types) from one parse; body findings only
    when the syntax is clean and a library is given. A type the reference data lacks
    (facts.TYPES_WITHOUT_REFERENCE_DATA) is the data's gap, not the file's: it is left
    unchecked, with the position of its first declaration, for verify to note."""
    tree, src = parse(text)
    syntax = syntax_findings(tree.root_node, src, file)
    if syntax or library is None:
        return syntax, [], {}
    bodies: list[Diagnostic] = []
    unchecked: dict[str, tuple[int, int]] = {}
    for decl in declarations(tree.root_node, src, None):
        if decl.type in facts.TYPES_WITHOUT_REFERENCE_DATA and \
                library.resource_type(decl.type, decl.api_version) is None:
            unchecked.setdefault(decl.type, (decl.line, decl.col))
        else:
            bodies += check_body(library, decl, file)
    return [], sorted(bodies, key=lambda f: (f.line, f.col)), unchecked
