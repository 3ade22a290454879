"""CSV (RFC 4180, CRLF line ends): a header line, then one row per goal in pre-order.

The columns are `id,parent_id,depth,name,description,start,end,due,completion,progress`. On
import, ids only tie rows together (any text, unique), `parent_id` names another row's id or
is empty at the top, and rows may come in any order: each parent's children keep the order of
their rows. `depth` and `progress` are computed and ignored on import; every column but `name`
may be left out. An `auto` goal's end is left to its rule. Parent ids that point nowhere or
form a cycle are refused, naming the row's line.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Iterator
from datetime import datetime
from typing import Any

from ...goals.outline import OutlineGoal
from ..nodes import Entry, invalid
from . import CHUNK_GOALS, iso

MEDIA_TYPE = "text/csv; charset=utf-8"
EXTENSION = "csv"
COLUMNS = (
    "id",
    "parent_id",
    "depth",
    "name",
    "description",
    "start",
    "end",
    "due",
    "completion",
    "progress",
)
_OPTIONAL_FIELDS = ("description", "start", "end", "due", "completion")


def write(goals: Iterable[OutlineGoal], *, exported_at: datetime) -> Iterator[bytes]:
    """The header and one row per goal (the stdlib writer: quotes, doubled quotes, CRLF)."""
    del exported_at
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(COLUMNS)
    for count, goal in enumerate(goals, start=1):
        writer.writerow(
            (
                goal.id,
                "" if goal.parent_id is None else goal.parent_id,
                goal.depth,
                goal.name,
                goal.description,
                iso(goal.start),
                iso(goal.end),
                iso(goal.due),
                goal.completion,
                repr(goal.progress),
            )
        )
        if count % CHUNK_GOALS == 0:
            yield buffer.getvalue().encode()
            buffer.seek(0)
            buffer.truncate()
    yield buffer.getvalue().encode()


def read(text: str) -> list[Entry]:
    """The goals of a CSV document, in pre-order (parents before their children)."""
    reader = csv.reader(io.StringIO(text, newline=""), strict=True)
    line = 1  # where the record being read starts
    try:
        header = next(reader, None)
        if header is None:
            raise invalid("line 1", "the header line is missing")
        columns = [name.strip().lower() for name in header]
        unknown = [name for name in columns if name not in COLUMNS]
        if unknown:
            raise invalid("line 1", f"unknown columns {unknown}; the columns are {list(COLUMNS)}")
        if "name" not in columns:
            raise invalid("line 1", "the header must name a `name` column")
        if len(set(columns)) != len(columns):
            raise invalid("line 1", "a column is named twice")
        # (line, fields, id, parent id) of each row, in file order.
        rows: list[tuple[int, dict[str, Any], str | None, str | None]] = []
        line = reader.line_num + 1
        for record in reader:
            if not record or record == [""]:
                line = reader.line_num + 1
                continue
            if len(record) != len(columns):
                raise invalid(
                    f"line {line}", f"has {len(record)} fields, the header {len(columns)}"
                )
            values = dict(zip(columns, record, strict=True))
            fields: dict[str, Any] = {"name": values["name"]}
            for name in _OPTIONAL_FIELDS:
                value = values.get(name, "")
                if name == "description":
                    if value:
                        fields[name] = value
                elif value.strip():
                    fields[name] = value.strip()
            if fields.get("completion") == "auto":
                fields.pop("end", None)  # derived from the children by the rule
            goal_id = values.get("id", "").strip() or None
            parent_id = values.get("parent_id", "").strip() or None
            rows.append((line, fields, goal_id, parent_id))
            line = reader.line_num + 1
    except csv.Error as exc:
        raise invalid(f"line {line}", f"not valid CSV: {exc}") from exc
    return _in_pre_order(rows)


def _in_pre_order(rows: list[tuple[int, dict[str, Any], str | None, str | None]]) -> list[Entry]:
    by_id: dict[str, int] = {}
    for i, (line, _fields, goal_id, _parent) in enumerate(rows):
        if goal_id is not None:
            if goal_id in by_id:
                raise invalid(f"line {line}", f"id {goal_id!r} is given to two rows", "id")
            by_id[goal_id] = i
    children: dict[int | None, list[int]] = {}
    for i, (line, _fields, _id, parent_id) in enumerate(rows):
        if parent_id is None:
            children.setdefault(None, []).append(i)
        elif parent_id not in by_id:
            raise invalid(f"line {line}", f"parent id {parent_id!r} is no row's id", "parent_id")
        else:
            children.setdefault(by_id[parent_id], []).append(i)
    entries: list[Entry] = []
    reached = 0
    stack: list[tuple[int, int | None]] = [(i, None) for i in reversed(children.get(None, []))]
    while stack:
        i, parent = stack.pop()
        line, fields, _id, _parent = rows[i]
        entries.append(Entry(fields, parent, f"line {line}"))
        reached += 1
        index = len(entries) - 1
        stack.extend((kid, index) for kid in reversed(children.get(i, [])))
    if reached < len(rows):
        seen = {int(e.where.removeprefix("line ")) for e in entries}
        first = next(line for line, *_ in rows if line not in seen)
        raise invalid(
            f"line {first}",
            "the row's parent ids form a cycle: it is under no top-level row",
            "parent_id",
        )
    return entries
