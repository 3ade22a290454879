"""iCalendar (RFC 5545): a VTODO per goal, written by the icalendar package one at a time.

UID is `goal-<id>@overachiever`, SUMMARY the name, DESCRIPTION the description, DTSTART the
start, DUE the due instant, COMPLETED the end, STATUS `COMPLETED` or `NEEDS-ACTION`,
PERCENT-COMPLETE the progress in whole percent, RELATED-TO;RELTYPE=PARENT the parent's UID.
The package escapes text and folds lines at 75 octets with CRLF line ends. Instants are in
UTC, to the second (iCalendar has no fractions of a second).
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from datetime import UTC, datetime

from icalendar import Todo

from ...goals.outline import OutlineGoal
from . import CHUNK_GOALS

MEDIA_TYPE = "text/calendar; charset=utf-8"
EXTENSION = "ics"
PRODID = "-//Over Achiever//Goals//EN"


def uid(goal_id: int) -> str:
    """The UID of a goal's VTODO."""
    return f"goal-{goal_id}@overachiever"


def _utc(value: datetime) -> datetime:
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def todo(goal: OutlineGoal, stamp: datetime) -> Todo:
    """One goal's VTODO."""
    item = Todo()
    item.add("uid", uid(goal.id))
    item.add("dtstamp", stamp)
    item.add("summary", goal.name)
    if goal.description:
        item.add("description", goal.description)
    item.add("dtstart", _utc(goal.start).replace(microsecond=0))
    if goal.due is not None:
        item.add("due", _utc(goal.due).replace(microsecond=0))
    if goal.end is not None:
        item.add("completed", _utc(goal.end).replace(microsecond=0))
        item.add("status", "COMPLETED")
    else:
        item.add("status", "NEEDS-ACTION")
    item.add("percent-complete", int(goal.progress * 100))
    if goal.parent_id is not None:
        item.add("related-to", uid(goal.parent_id), parameters={"RELTYPE": "PARENT"})
    return item


def write(goals: Iterable[OutlineGoal], *, exported_at: datetime) -> Iterator[bytes]:
    """The calendar: its header, then each VTODO serialised on its own, then its end."""
    stamp = _utc(exported_at).replace(microsecond=0)
    yield (
        b"BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:" + PRODID.encode() + b"\r\n"
        b"CALSCALE:GREGORIAN\r\nX-WR-CALNAME:Over Achiever\r\n"
    )
    parts: list[bytes] = []
    for count, goal in enumerate(goals, start=1):
        parts.append(todo(goal, stamp).to_ical())
        if count % CHUNK_GOALS == 0:
            yield b"".join(parts)
            parts = []
    parts.append(b"END:VCALENDAR\r\n")
    yield b"".join(parts)
