"""The topology schema's `default` annotations, filled into a valid topology; `$ref`
followed as the schema writes it (docs.py reads the schema the same way)."""

from __future__ import annotations

from typing import Any


def with_defaults(value: Any, schema: dict[str, Any], root: dict[str, Any]) -> Any:
    """Fill the schema's `default` annotations into a valid instance (objects and arrays)."""
    schema = resolve_schema(schema, root)
    if isinstance(value, dict):
        result = dict(value)
        for key, sub in schema.get("properties", {}).items():
            if key not in result and "default" in sub:
                result[key] = sub["default"]
            if key in result:
                result[key] = with_defaults(result[key], sub, root)
        return result
    if isinstance(value, list) and "items" in schema:
        return [with_defaults(item, schema["items"], root) for item in value]
    return value


def resolve_schema(node: dict[str, Any], root: dict[str, Any]) -> dict[str, Any]:
    """A schema node with its local `$ref` followed, its own keywords laid over the target."""
    while "$ref" in node:
        target: Any = root
        for part in node["$ref"].removeprefix("#/").split("/"):
            target = target[part]
        node = {**target, **{k: v for k, v in node.items() if k != "$ref"}}
    return node
