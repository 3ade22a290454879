"""iCalendar (RFC 5545): a VTODO per goal, escaped and folded by the icalendar package.

UID is `goal-<id>@overachiever`, SUMMARY the name, DESCRIPTION the description, DTSTART the
start, DUE the due instant, COMPLETED the end, STATUS `COMPLETED` or `NEEDS-ACTION`,
PERCENT-COMPLETE the progress in whole percent, RELATED-TO;RELTYPE=PARENT the parent's UID.
The package escapes text (vText) and folds lines at 75 octets with CRLF line ends (Contentline);
the lines are put together here, the same bytes as a Todo component's to_ical(), at a tenth of
its cost (a component a goal made the export of a million goals take minutes). Instants are in
UTC, to the second (iCalendar has no fractions of a second).
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from datetime import UTC, datetime

from icalendar import vText
from icalendar.parser import Contentline

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


def _instant(value: datetime) -> bytes:
    """An instant as iCalendar's UTC DATE-TIME, to the second."""
    return _utc(value).strftime("%Y%m%dT%H%M%SZ").encode()


def _line(name: str, value: bytes) -> bytes:
    """One content line, folded at 75 octets by the package's folding."""
    # The package leaves Contentline unannotated.
    folded: bytes = Contentline(f"{name}:{value.decode()}").to_ical()  # type: ignore[no-untyped-call]
    return folded + b"\r\n"


def _lines(goal: OutlineGoal, stamp: bytes) -> Iterator[bytes]:
    """A goal's VTODO, its properties in the package's order (by name), each escaped by
    vText as Todo.to_ical() would: the same bytes, without building a component a goal."""
    yield b"BEGIN:VTODO\r\n"
    if goal.end is not None:
        yield _line("COMPLETED", _instant(goal.end))
    if goal.description:
        yield _line("DESCRIPTION", vText(goal.description).to_ical())
    yield b"DTSTAMP:" + stamp + b"\r\n"
    yield b"DTSTART:" + _instant(goal.start) + b"\r\n"
    if goal.due is not None:
        yield b"DUE:" + _instant(goal.due) + b"\r\n"
    yield b"PERCENT-COMPLETE:%d\r\n" % int(goal.progress * 100)
    if goal.parent_id is not None:
        yield _line("RELATED-TO;RELTYPE=PARENT", vText(uid(goal.parent_id)).to_ical())
    yield b"STATUS:COMPLETED\r\n" if goal.end is not None else b"STATUS:NEEDS-ACTION\r\n"
    yield _line("SUMMARY", vText(goal.name).to_ical())
    yield _line("UID", vText(uid(goal.id)).to_ical())
    yield b"END:VTODO\r\n"


def write(goals: Iterable[OutlineGoal], *, exported_at: datetime) -> Iterator[bytes]:
    """The calendar: its header, then each VTODO serialised on its own, then its end."""
    stamp = _utc(exported_at).replace(microsecond=0)
    yield (
        b"BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:" + PRODID.encode() + b"\r\n"
        b"CALSCALE:GREGORIAN\r\nX-WR-CALNAME:Over Achiever\r\n"
    )
    when = _instant(stamp)
    parts: list[bytes] = []
    for count, goal in enumerate(goals, start=1):
        parts.extend(_lines(goal, when))
        if count % CHUNK_GOALS == 0:
            yield b"".join(parts)
            parts = []
    parts.append(b"END:VCALENDAR\r\n")
    yield b"".join(parts)
