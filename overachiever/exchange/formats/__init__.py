"""One module per document format: its media type, file extension, writer and (but iCalendar)
reader. Writers take the goals in pre-order (goals.outline.OutlineGoal) and yield bytes as they
go; readers turn a whole document into the import's Entry list (exchange.nodes)."""

from __future__ import annotations

from datetime import datetime

import orjson

_ISO = orjson.OPT_UTC_Z | orjson.OPT_NAIVE_UTC
# Goals written between two yields of a writer.
CHUNK_GOALS = 512


def iso(value: datetime | None) -> str:
    """An instant as the JSON API writes it (ISO 8601, UTC, "Z"), or "" for none."""
    return "" if value is None else orjson.dumps(value, option=_ISO)[1:-1].decode()
