"""The JSON export document: {"format": "overachiever", "version": 1, "exported_at", "goals"}.

Each node holds every writable field and its children; importing the document gives back the
same forest. An `auto` goal's end is left to its rule on import: it is derived from its
children, and a hand-set end on such a goal is refused.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from datetime import datetime
from typing import Any

import orjson

from ...core.errors import Invalid
from ...goals.importing import ImportedNode, parse_import
from ...goals.outline import OutlineGoal
from . import CHUNK_GOALS

MEDIA_TYPE = "application/json"
EXTENSION = "json"
FORMAT, VERSION = "overachiever", 1

_OPTS = orjson.OPT_UTC_Z | orjson.OPT_NAIVE_UTC
_NULL = b"null"


def _stamp(value: datetime | None) -> bytes:
    return _NULL if value is None else orjson.dumps(value, option=_OPTS)


def write(goals: Iterable[OutlineGoal], *, exported_at: datetime) -> Iterator[bytes]:
    """The document, nodes opened and closed as the pre-order's depths go up and down."""
    dumps = orjson.dumps
    yield b'{"format":"%s","version":%d,"exported_at":%s,"goals":[' % (
        FORMAT.encode(),
        VERSION,
        _stamp(exported_at),
    )
    parts: list[bytes] = []
    open_nodes = 0
    for goal in goals:
        if goal.depth < open_nodes:
            parts.append(b"]}" * (open_nodes - goal.depth) + b",")
        parts.append(
            b'{"name":%s,"description":%s,"start":%s,"end":%s,"due":%s,"completion":%s,'
            b'"children":['
            % (
                dumps(goal.name),
                dumps(goal.description),
                _stamp(goal.start),
                _stamp(goal.end),
                _stamp(goal.due),
                dumps(goal.completion),
            )
        )
        open_nodes = goal.depth + 1
        if len(parts) >= CHUNK_GOALS:
            yield b"".join(parts)
            parts = []
    parts.append(b"]}" * open_nodes + b"]}")
    yield b"".join(parts)


def is_document(payload: Any) -> bool:
    """Whether a parsed JSON body is an export document rather than nodes to import."""
    return isinstance(payload, dict) and "format" in payload and "goals" in payload


def read(payload: Any) -> list[ImportedNode]:
    """The nodes of an export document (parsed JSON)."""
    if payload.get("format") != FORMAT:
        raise Invalid.from_errors([{"loc": ["body", "format"], "msg": f"must be {FORMAT!r}"}])
    if payload.get("version") != VERSION:
        raise Invalid.from_errors(
            [{"loc": ["body", "version"], "msg": f"must be {VERSION} (the only version)"}]
        )
    goals = payload["goals"]
    if not isinstance(goals, list):
        raise Invalid.from_errors([{"loc": ["body", "goals"], "msg": "must be a list"}])
    nodes = parse_import(goals)
    for node in nodes:
        if node.fields.completion == "auto" and node.fields.end is not None:
            node.fields = node.fields.model_copy(update={"end": None})
    return nodes
