"""JSON bodies nested deeper than orjson reads (1024 levels), parsed without recursion.

An export of a 10 000-deep chain is a JSON document 10 000 levels deep; orjson refuses it (as
it should, elsewhere) and the standard library's parser recurses. ijson's C parser (yajl)
reports events without recursing, and the values are built here with an explicit stack.
"""

from __future__ import annotations

from typing import Any

import ijson
import orjson
from werkzeug.exceptions import BadRequest

_SCALARS = frozenset({"string", "number", "boolean", "null"})


def loads(body: bytes) -> Any:
    """Parse a JSON body of any depth; invalid JSON is a 400 that says why."""
    try:
        return orjson.loads(body)
    except orjson.JSONDecodeError as exc:
        if "depth" not in str(exc):
            raise BadRequest(f"the body is not valid JSON: {exc}") from exc
    try:
        return _build(ijson.basic_parse(body, use_float=True))
    except ijson.JSONError as exc:
        raise BadRequest(f"the body is not valid JSON: {exc}") from exc


def _build(events: Any) -> Any:
    """Values from ijson's basic events, containers kept on an explicit stack."""
    stack: list[Any] = []
    keys: list[str | None] = []
    result: Any = None
    for event, value in events:
        if event in _SCALARS:
            item = value
        elif event == "map_key":
            keys[-1] = value
            continue
        elif event in ("start_map", "start_array"):
            stack.append({} if event == "start_map" else [])
            keys.append(None)
            continue
        else:  # end_map, end_array
            item = stack.pop()
            keys.pop()
        if not stack:
            result = item
        elif isinstance(stack[-1], list):
            stack[-1].append(item)
        else:
            stack[-1][keys[-1]] = item
    return result
