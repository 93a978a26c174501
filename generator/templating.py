"""The templates as render calls them: Python functions compiled from the Jinja sources.

The templates are written in Jinja (`generator/templates/`); `scripts/compile_templates.py`
translates each into a function of `compiled_templates.py`, kept in the package, so that a
render imports no Jinja: importing it cost every run about 26 ms, two interpreter starts
(issue 17). The compiler accepts only the part of Jinja the templates use and refuses the
rest, and a test renders every template both ways and compares the bytes.

What the compiled functions call lives here: Jinja's lookup rules for `a.b` and `a[b]`, and
the built-in filters the templates use, with the semantics of Jinja 3.1 (jinja2/environment.py
`Environment.getattr`/`getitem`; jinja2/filters.py `do_join`, `do_sort`, `do_map`). A lookup
that finds nothing raises at once, as `StrictUndefined` does when the value is used.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Mapping
from typing import Any

Filters = Mapping[str, Callable[..., Any]]
RenderFunction = Callable[[Mapping[str, Any], Filters], str]


class UndefinedError(Exception):
    """A template looked up what its context does not have: a bug in aksmesh."""


def attribute(value: Any, name: str) -> Any:
    """`value.name`: the attribute, else the item (Jinja's order)."""
    try:
        return getattr(value, name)
    except AttributeError:
        pass
    try:
        return value[name]
    except (TypeError, LookupError, AttributeError):
        raise UndefinedError(f"{type(value).__name__} has no attribute {name!r}") from None


def item(value: Any, key: Any) -> Any:
    """`value[key]`: the item, else, for a string key, the attribute (Jinja's order)."""
    try:
        return value[key]
    except (AttributeError, TypeError, LookupError):
        if isinstance(key, str):
            try:
                return getattr(value, key)
            except AttributeError:
                pass
    raise UndefinedError(f"{type(value).__name__} has no item {key!r}") from None


def join(value: Iterable[Any], separator: str = "") -> str:
    return separator.join(map(str, value))


def sort(value: Iterable[Any]) -> list[Any]:
    """Jinja's default: strings compare without case."""
    return sorted(value, key=lambda v: v.lower() if isinstance(v, str) else v)


def map_attribute(value: Iterable[Any], path: str) -> Iterator[Any]:
    """`map(attribute="a.b")`: each part looked up as an item (digits as an index)."""
    parts = [int(part) if part.isdigit() else part for part in path.split(".")]
    for element in value:
        for part in parts:
            element = item(element, part)
        yield element


def map_filter(value: Iterable[Any], function: Callable[..., Any], *args: Any) -> Iterator[Any]:
    """`map("filter", args...)`: the filter applied to each element."""
    return (function(element, *args) for element in value)


def with_last(values: Iterable[Any]) -> Iterator[tuple[Any, bool]]:
    """Each value, and whether it is the last: what `loop.last` asks."""
    iterator = iter(values)
    try:
        current = next(iterator)
    except StopIteration:
        return
    for following in iterator:
        yield current, False
        current = following
    yield current, True


class Template:
    def __init__(self, function: RenderFunction, context: Mapping[str, Any], filters: Filters):
        self._function, self._context, self._filters = function, context, filters

    def render(self, values: Mapping[str, Any] | None = None, /, **more: Any) -> str:
        """Given the values as a mapping, or as keywords, as Jinja's `render` takes them."""
        return self._function({**self._context, **(values or {}), **more}, self._filters)


class Templates:
    """The compiled templates by source name, with the globals and filters they are given
    (as a Jinja environment's `get_template` would return them)."""

    def __init__(self, functions: Mapping[str, RenderFunction], filters: Filters,
                 context: Mapping[str, Any]):
        self.functions, self.filters, self.context = functions, filters, context

    def get_template(self, name: str) -> Template:
        return Template(self.functions[name], self.context, self.filters)
