"""OPML 2.0: an `outline` element per goal, nested as the goals are.

`text` is the name, `_note` the description and `_complete="true"` marks a done goal, as the
outliners write them. So that our own round trip loses nothing, each outline also carries
`_start`, `_end`, `_due` (ISO 8601) and `_completion` (the goal's completion rule); an outline
without them imports as an open, manual goal (done at the time of the import when it says
`_complete="true"` without an `_end`).

Documents are parsed with defusedxml, never the standard library's parser alone: a DOCTYPE, an
entity or an external reference is refused, so no entity expansion (billion laughs) runs.
"""

from __future__ import annotations

import io
from collections.abc import Iterable, Iterator
from datetime import datetime
from email.utils import format_datetime
from typing import Any
from xml.etree.ElementTree import ParseError
from xml.sax.saxutils import escape

from defusedxml import DefusedXmlException
from defusedxml.ElementTree import iterparse

from ...core.types import utcnow
from ...goals.outline import OutlineGoal
from ..nodes import Entry, invalid
from . import CHUNK_GOALS, iso

MEDIA_TYPE = "text/x-opml"
EXTENSION = "opml"
# Line breaks and tabs as character references, so attribute normalisation keeps them.
_ATTRIBUTE = {'"': "&quot;", "\n": "&#10;", "\r": "&#13;", "\t": "&#9;"}


def _attribute(name: str, value: str) -> str:
    return f' {name}="{escape(value, _ATTRIBUTE)}"'


def _open(goal: OutlineGoal) -> str:
    parts = [_attribute("text", goal.name)]
    if goal.description:
        parts.append(_attribute("_note", goal.description))
    if goal.end is not None:
        parts.append(' _complete="true"')
    parts.append(_attribute("_start", iso(goal.start)))
    if goal.end is not None:
        parts.append(_attribute("_end", iso(goal.end)))
    if goal.due is not None:
        parts.append(_attribute("_due", iso(goal.due)))
    parts.append(_attribute("_completion", goal.completion))
    return "<outline" + "".join(parts)


def write(goals: Iterable[OutlineGoal], *, exported_at: datetime) -> Iterator[bytes]:
    """The document; each outline is written once the next goal shows whether it has children."""
    head = (
        '<?xml version="1.0" encoding="UTF-8"?>\n<opml version="2.0">\n<head>\n'
        "<title>Over Achiever</title>\n"
        f"<dateCreated>{format_datetime(exported_at, usegmt=True)}</dateCreated>\n"
        "</head>\n<body>\n"
    )
    parts: list[str] = [head]
    last: OutlineGoal | None = None
    for count, goal in enumerate(goals, start=1):
        if last is not None:
            parts.append(_step(last, goal.depth))
        last = goal
        if count % CHUNK_GOALS == 0:
            yield "".join(parts).encode()
            parts = []
    if last is not None:
        parts.append(_step(last, 0))
    parts.append("</body>\n</opml>\n")
    yield "".join(parts).encode()


def _step(goal: OutlineGoal, next_depth: int) -> str:
    """A goal's outline tag, and the tags it closes before the next goal, at next_depth."""
    if next_depth > goal.depth:
        return _open(goal) + ">\n"
    return _open(goal) + "/>\n" + "</outline>\n" * (goal.depth - next_depth)


_FIELDS = {"text": "name", "_note": "description", "_start": "start", "_due": "due"}


def read(body: bytes) -> list[Entry]:
    """The goals of an OPML document, in pre-order; each 422 names its outline by path.

    Each entry keeps only its own step (`outline[3]`): a path is spelt out, up the parents,
    when an error names it, so a 10 000-deep document holds no 10 000 long paths.
    """
    entries: list[Entry] = []
    # Open elements: (entry index or None, whether outlines inside become goals, children
    # seen by tag name). Goals are the outlines of /opml/body and of such outlines.
    stack: list[tuple[int | None, bool, dict[str, int]]] = []
    done_at = utcnow()
    line = 0
    try:
        for event, element in iterparse(io.BytesIO(body), events=("start", "end"), forbid_dtd=True):
            tag = element.tag if isinstance(element.tag, str) else ""
            if event == "end":
                stack.pop()
                element.clear()
                continue
            if not stack:
                if tag != "opml":
                    raise invalid(f"/{tag}", "the document's root element must be <opml>")
                stack.append((None, False, {}))
                continue
            parent, holds_goals, counts = stack[-1]
            counts[tag] = counts.get(tag, 0) + 1
            index = None
            if tag == "outline" and holds_goals:
                step = f"outline[{counts[tag]}]"
                entries.append(Entry(_fields(element.attrib, done_at), parent, step))
                index = len(entries) - 1
            body_element = tag == "body" and len(stack) == 1
            stack.append((index, index is not None or body_element, {}))
    except ParseError as exc:
        line, column = exc.position
        raise invalid(f"line {line}", f"not well-formed XML (column {column + 1})") from exc
    except (DefusedXmlException, ValueError) as exc:
        raise invalid(
            "document", f"refused: {type(exc).__name__} (no DOCTYPE or entities allowed)"
        ) from exc
    return entries


def path(entries: list[Entry], index: int) -> str:
    """An entry's element path, /opml/body/outline[3]/outline[1]."""
    steps: list[str] = []
    at: int | None = index
    while at is not None:
        steps.append(entries[at].where)
        at = entries[at].parent
    return "/opml/body/" + "/".join(reversed(steps))


def _fields(attributes: dict[str, str], done_at: datetime) -> dict[str, Any]:
    fields: dict[str, Any] = {
        field: attributes[attribute]
        for attribute, field in _FIELDS.items()
        if attribute in attributes
    }
    fields.setdefault("name", "")
    if "_completion" in attributes:
        fields["completion"] = attributes["_completion"]
    if "_end" in attributes:
        fields["end"] = attributes["_end"]
    elif attributes.get("_complete", "").strip().lower() == "true":
        fields["end"] = done_at
    if fields.get("completion") == "auto":
        fields.pop("end", None)  # derived from the children by the rule
    return fields
