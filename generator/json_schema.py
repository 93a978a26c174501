"""JSON Schema validation in one place: jsonschema-rs first, then jsonschema.

jsonschema-rs is fast to import and run, so it validates; jsonschema, imported only when
it is needed, takes the schemas jsonschema-rs refuses (the Cilium CRDs use regexes such as
`\\PC` that its regex engine does not know). Used by the schema pass of check (the topology
schema) and by verify (the Kubernetes, CRD and chart schemas).
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import Any

DRAFT_2020_12 = "https://json-schema.org/draft/2020-12/schema"


class NotASchema(ValueError):
    """Neither library takes the schema; the message says where it is wrong."""


def validator(schema: Any) -> Any:
    """A validator of `schema`, in the draft its `$schema` names, else draft 7 (CRD and
    chart schemas declare none, and kubeconform reads them as draft 7): jsonschema-rs's,
    or jsonschema's when jsonschema-rs refuses the schema. Raises NotASchema when the
    schema is not a draft 7 schema either."""
    import jsonschema_rs

    if isinstance(schema, dict) and schema.get("$schema") == DRAFT_2020_12:
        return jsonschema_rs.Draft202012Validator(schema)
    try:
        return jsonschema_rs.Draft7Validator(schema)
    except jsonschema_rs.ValidationError:
        import jsonschema

        # Against the metaschema, without checking that patterns compile: Python's `re`
        # refuses the same regexes, and meets them only if a value reaches them.
        meta = jsonschema.Draft7Validator(jsonschema.Draft7Validator.META_SCHEMA)
        problem = jsonschema.exceptions.best_match(meta.iter_errors(schema))
        if problem is not None:
            raise NotASchema(f"not a draft 7 JSON Schema: {instance_path(problem.absolute_path)}: "
                             f"{problem.message}") from None
        return jsonschema.Draft7Validator(schema)


def errors(validator: Any, instance: Any) -> Iterator[str]:
    """`path: message` for each way `instance` fails, by path, from either library."""
    try:
        found = list(validator.iter_errors(instance))
    except Exception as error:  # a schema regex Python cannot compile, met by a value
        yield f"(root): the schema could not be applied: {error}"
        return
    # jsonschema-rs names the path instance_path, jsonschema absolute_path.
    paths = [[str(p) for p in getattr(e, "instance_path", None) or getattr(e, "absolute_path", [])]
             for e in found]
    for path, error in sorted(zip(paths, found), key=lambda pair: pair[0]):
        yield f"{instance_path(path)}: {error.message}"


def instance_path(path: Iterable[Any]) -> str:
    """Where in an instance, as both libraries and kubeconform print it: `spec.ports.0`."""
    return ".".join(map(str, path)) or "(root)"
