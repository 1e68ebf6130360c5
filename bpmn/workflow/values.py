"""Task data values (dữ liệu của bước): plain JSON only, stored immutable inside the workflow.

SpiffWorkflow passes data from a task to its children with a *shallow* merge
(``DeepMerge.merge``) and, at a parallel join, merges the branches' data *in place*. With nested
dicts or lists that shares objects between tasks, and a join then rewrites a completed branch's
data (observed on SpiffWorkflow 3.2: a nested value submitted on one consultation branch was
overwritten by the other branch's). Storing every nested value as an immutable
:class:`FrozenDict` or tuple makes that sharing harmless: DeepMerge only recurses into real
``dict``/``list`` objects, so it replaces frozen values instead of mutating them, and nothing else
can mutate them either. Whatever leaves the runtime is thawed into fresh dicts and lists, so
callers never hold a reference into a workflow.
"""
from __future__ import annotations

import math
from collections.abc import Iterator, Mapping
from typing import Any

from bpmn.workflow.errors import InvalidTaskData

#: Nesting deeper than this is refused (it is never needed for a form, and keeps recursion bounded).
MAX_DEPTH = 32
#: Whole numbers are stored as 64-bit integers, as the state's JSON parser (orjson) reads them:
#: a larger one would come back as an approximate float.
INT_MIN, INT_MAX = -(2**63), 2**63 - 1
#: SpiffWorkflow's serializer treats a dict holding this key as a typed object when loading, so
#: data carrying it could turn into something else after a dump and load.
RESERVED_KEY = "typename"


class FrozenDict(Mapping):
    """An immutable mapping of frozen values; equal to a dict with the same items."""

    __slots__ = ("_items",)

    def __init__(self, items: dict[str, Any]) -> None:
        object.__setattr__(self, "_items", items)

    def __getitem__(self, key: str) -> Any:
        return self._items[key]

    def __iter__(self) -> Iterator[str]:
        return iter(self._items)

    def __len__(self) -> int:
        return len(self._items)

    def __eq__(self, other: object) -> bool:
        if isinstance(other, FrozenDict):
            return self._items == other._items
        return isinstance(other, Mapping) and self._items == dict(other.items())

    __hash__ = None  # type: ignore[assignment]  # equal to dicts, which are unhashable

    def __setattr__(self, name: str, value: Any) -> None:
        raise AttributeError("FrozenDict is immutable")

    def __repr__(self) -> str:
        return f"FrozenDict({self._items!r})"

    def __reduce__(self):
        return (FrozenDict, (self._items,))


def freeze(value: Any) -> Any:
    """*value* (trusted plain JSON, e.g. just loaded) with every dict and list made immutable."""
    kind = type(value)
    if kind is dict:
        return FrozenDict({key: freeze(item) for key, item in value.items()})
    if kind is list or kind is tuple:
        return tuple(freeze(item) for item in value)
    return value


def thaw(value: Any) -> Any:
    """A fresh plain-JSON copy of a frozen value (dicts and lists, nothing shared)."""
    if isinstance(value, FrozenDict):
        return {key: thaw(item) for key, item in value._items.items()}
    if type(value) is tuple:
        return [thaw(item) for item in value]
    return value


def thaw_mapping(data: Mapping[str, Any]) -> dict[str, Any]:
    return {key: thaw(item) for key, item in data.items()}


def json_default(value: Any) -> Any:
    """``json.dumps`` hook: frozen mappings are written as objects (tuples are arrays already)."""
    if isinstance(value, FrozenDict):
        return value._items
    raise TypeError(f"{type(value).__name__} is not JSON")


def checked(data: Any, what: str = "data") -> dict[str, Any]:
    """Validate untrusted data (a dict of plain JSON values) and return a frozen deep copy.

    Refused, naming the field: a value that is not str/int/float/bool/None/list/dict, a float
    that is not finite, a whole number beyond 64 bits, a non-text key, the reserved key
    ``typename``, nesting beyond MAX_DEPTH.
    Subclasses of str/int/float (e.g. an IntEnum or markup text) are copied as the base type.
    """
    if data is None:
        return {}
    if not isinstance(data, Mapping):
        raise InvalidTaskData(f"The {what} must be a mapping of field names to values, "
                              f"not {type(data).__name__}.")
    result: dict[str, Any] = {}
    for key, value in data.items():
        _check_key(key, None)
        result[key] = _checked_value(value, key, key, 1)
    return result


def _check_key(key: Any, field: str | None) -> None:
    if not isinstance(key, str):
        raise InvalidTaskData(f"Field names must be text; {key!r} is {type(key).__name__}.", field=field)
    if key == RESERVED_KEY:
        raise InvalidTaskData(f"'{RESERVED_KEY}' is reserved and cannot be used as a field name.",
                              field=field or key)


def _checked_value(value: Any, field: str, path: str, depth: int) -> Any:
    if value is None or value is True or value is False:
        return value
    if isinstance(value, str):
        return str(value)
    if isinstance(value, int):
        if not INT_MIN <= value <= INT_MAX:
            raise InvalidTaskData(f"Field '{path}': {value} is beyond the whole numbers a step can store "
                                  f"({INT_MIN} to {INT_MAX}).", field=field)
        return int(value)
    if isinstance(value, float):
        if not math.isfinite(value):
            raise InvalidTaskData(f"Field '{path}': {value!r} is not a finite number.", field=field)
        return float(value)
    if depth > MAX_DEPTH:
        raise InvalidTaskData(f"Field '{field}' is nested more than {MAX_DEPTH} levels deep.", field=field)
    if isinstance(value, dict):
        items = {}
        for key, item in value.items():
            _check_key(key, field)
            items[key] = _checked_value(item, field, f"{path}.{key}", depth + 1)
        return FrozenDict(items)
    if isinstance(value, list):
        return tuple(_checked_value(item, field, f"{path}[{i}]", depth + 1) for i, item in enumerate(value))
    raise InvalidTaskData(f"Field '{path}': a value of type {type(value).__name__} is not allowed; "
                          "use text, numbers, true/false, null, lists or objects.", field=field)
