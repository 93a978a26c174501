"""The schema pass: jsonschema's errors translated into AKM1xx findings."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from ..diagnostics import Code, Finding, Severity, did_you_mean, dotted
from .common import TopologyPath

# The codes this family's rules yield, registered by diagnostics.codes().
CODES = (
    Code("AKM101", Severity.ERROR, "unknown key",
         "The key is not part of the topology format; it is usually a typo.",
         "clusters:\n  - name: ne\n    podCIDR: 10.110.0.0/16  # did you mean `podCidr`?"),
    Code("AKM102", Severity.ERROR, "missing required key",
         "The topology format requires this key.",
         "clusters:\n  - name: ne\n    id: 1  # no region, vnetCidr, ..."),
    Code("AKM103", Severity.ERROR, "wrong type",
         "The value has the wrong YAML type (for example a number where a string is "
         "expected: quote versions such as \"1.36\"). An explicit YAML tag (`!foo`, "
         "`!!python/object`, even `!!str`) on a value, a mapping or a list is refused "
         "too: a topology is plain data, and aksmesh never runs a tag's constructor.",
         'kubernetesVersion: 1.36  # a number: quote it, "1.36"'),
    Code("AKM104", Severity.ERROR, "value not allowed",
         "The value does not match the allowed values or the pattern of this key.",
         "aks:\n  tier: standard  # did you mean `Standard`?"),
    Code("AKM105", Severity.ERROR, "value out of range",
         "The value, its length or its number of items is outside the allowed range.",
         "clusters:\n  - name: ne\n    id: 600  # above 511"),
)

TOPOLOGY = "the topology"  # how a finding names the empty path: the whole file
# A typo'd key is worth a line each; a file of thousands of them is one finding more.
MAX_UNKNOWN_KEYS_REPORTED = 20


def check_schema(data: Any, schema: dict[str, Any]) -> Iterator[Finding]:
    """Validate with jsonschema-rs; explain the failures with jsonschema's richer errors.

    jsonschema-rs decides (it is fast to import and run, and its regexes anchor `$` at the
    very end, where Python's also accept a trailing newline); jsonschema, imported only
    for an invalid topology, says what is wrong and where.
    """
    from ..json_schema import validator

    # jsonschema-rs takes JSON only, and counts 1.0 as an integer; a topology has no use
    # for numbers with a point, nor for dates, bytes or sets: let jsonschema judge those.
    if _json_without_floats(data) and validator(schema).is_valid(data):
        return
    from jsonschema import Draft202012Validator, validators

    def strict_integer(checker: Any, instance: Any) -> bool:
        return isinstance(instance, int) and not isinstance(instance, bool)

    checker = Draft202012Validator.TYPE_CHECKER.redefine("integer", strict_integer)
    validator_class = validators.extend(Draft202012Validator, type_checker=checker)
    seen: set[Finding] = set()
    for error in validator_class(schema).iter_errors(data):
        # jsonschema raises one `required` error per missing key, each naming none of
        # them: the findings of all of them repeat.
        for finding in _schema_findings(error):
            if finding not in seen:
                seen.add(finding)
                yield finding
    if not seen:
        for error in validator(schema).iter_errors(data):
            path = tuple(error.instance_path)
            yield Finding("AKM104", path, f"{dotted(path, TOPOLOGY)}: {error.message}")


def _schema_findings(error: Any) -> Iterator[Finding]:
    path: TopologyPath = tuple(error.absolute_path)
    where = dotted(path, TOPOLOGY)
    kind = error.validator
    instance = error.instance
    about = _first_sentence(error.schema.get("description", ""))

    if kind == "additionalProperties":
        known = sorted(error.schema.get("properties", {}))
        unknown = [key for key in instance if key not in error.schema.get("properties", {})]
        for key in unknown[:MAX_UNKNOWN_KEYS_REPORTED]:
            yield Finding("AKM101", (*path, key), f"unknown key `{_short(key)}`{_in(where)}",
                          did_you_mean(key, known) or f"known keys: {', '.join(known)}",
                          at_key=True)
        if len(unknown) > MAX_UNKNOWN_KEYS_REPORTED:
            yield Finding("AKM101", path, f"{len(unknown) - MAX_UNKNOWN_KEYS_REPORTED} more "
                          f"unknown keys{_in(where)}", f"known keys: {', '.join(known)}")
    elif kind == "required":
        for key in error.validator_value:
            if key not in instance:
                hint = _first_sentence(error.schema.get("properties", {}).get(key, {})
                                       .get("description", ""))
                yield Finding("AKM102", path, f"missing required key `{key}`{_in(where)}", hint)
    elif kind == "type":
        expected = error.validator_value
        quote = expected == "string" and isinstance(instance, (int, float))
        yield Finding("AKM103", path,
                      f"{where} must be {_article(expected)}, not {_yaml_type(instance)}",
                      f'quote it: "{instance}"' if quote else about, quote_as_written=quote)
    elif kind == "enum":
        choices = error.validator_value
        hint = (did_you_mean(str(instance), [str(c) for c in choices])
                or "allowed: " + ", ".join(map(str, choices)))
        yield Finding("AKM104", path, f"{where} must be one of {_listing(choices)}, "
                      f"not {_short(instance)}", hint)
    elif kind in ("pattern", "const", "uniqueItems"):
        yield Finding("AKM104", path, f"{where}: {_value_problem(kind, instance, error)}", about)
    else:  # minimum, maximum, minLength, maxLength, minItems, maxItems
        yield Finding("AKM105", path, f"{where}: {_range_problem(kind, instance, error)}", about)


def _value_problem(kind: str, instance: Any, error: Any) -> str:
    if kind == "pattern":
        return f"{_short(instance)} does not match {error.validator_value}"
    if kind == "uniqueItems":
        return "items must be unique"
    return f"must be {error.validator_value!r}"


def _range_problem(kind: str, instance: Any, error: Any) -> str:
    limit = error.validator_value
    return {
        "minimum": f"{instance} is below the minimum {limit}",
        "maximum": f"{instance} is above the maximum {limit}",
        "minLength": f"{_short(instance)} is shorter than {limit} characters",
        "maxLength": f"{_short(instance)} is longer than {limit} characters",
        "minItems": f"needs at least {limit} items, has {_len(instance)}",
        "maxItems": f"allows at most {limit} items, has {_len(instance)}",
    }.get(kind, error.message)


def _in(where: str) -> str:
    return "" if where == "the topology" else f" in {where}"


def _short(value: Any, limit: int = 60) -> str:
    """A value as a finding quotes it: repr, cut short (a name may be 500 KB long)."""
    text = repr(value)
    return text if len(text) <= limit else text[: limit - 3] + "..."


def _json_without_floats(value: Any) -> bool:
    if isinstance(value, dict):
        return all(isinstance(k, str) and _json_without_floats(v) for k, v in value.items())
    if isinstance(value, list):
        return all(_json_without_floats(v) for v in value)
    return value is None or isinstance(value, (str, int, bool))


def _first_sentence(text: str) -> str:
    return text.split(". ")[0].rstrip(".") + "." if text else ""


def _article(type_name: Any) -> str:
    names = {"string": "a string", "integer": "an integer", "object": "a mapping",
             "array": "a list", "boolean": "true or false", "number": "a number"}
    if isinstance(type_name, list):
        return " or ".join(names.get(t, t) for t in type_name)
    return names.get(type_name, type_name)


def _yaml_type(value: Any) -> str:
    if isinstance(value, bool):
        return "a boolean"
    if value is None:
        return "empty (null)"
    for kind, name in ((int, "an integer"), (float, "a number"), (str, "a string"),
                       (dict, "a mapping"), (list, "a list")):
        if isinstance(value, kind):
            return name
    return f"a {type(value).__name__}"


def _listing(choices: list[Any]) -> str:
    return ", ".join(repr(c) if isinstance(c, str) else str(c) for c in choices)


def _len(value: Any) -> int:
    return len(value) if hasattr(value, "__len__") else 0
