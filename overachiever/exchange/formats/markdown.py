"""Markdown: a nested task list, `- [ ] name` / `- [x] name`, two spaces a level, each goal's
description as lines indented under its item.

Names are escaped (a backslash before each Markdown character) and unescaped on import with
markdown-it-py's own CommonMark unescaping. The list's structure is read line by line, not by
markdown-it: its block parser recurses once per level of nesting (and stops at `maxNesting`),
so a 10 000-deep list would exhaust the interpreter's stack. The reader takes what people paste
too: `*`, `+` and numbered markers, items without a box (open goals), any consistent
indentation; a title or text before the first item is left out.

A description is kept as Markdown text, verbatim, but for a line that would read as a list
item (or starts with a backslash), which gets a backslash in front; blank lines at its start
and end, and the kind of its line breaks, are not carried. Markdown carries no instants: a
goal imported as done (`[x]`) ends at the time of the import.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from datetime import datetime
from typing import Any

from markdown_it.common.utils import unescapeAll

from ...core.types import utcnow
from ...goals.outline import OutlineGoal
from ..nodes import Entry, invalid
from . import CHUNK_GOALS

MEDIA_TYPE = "text/markdown; charset=utf-8"
EXTENSION = "md"

_LINES = re.compile(r"\r\n?|\n")
# Characters that could start Markdown inline syntax in a name.
_SPECIALS = re.compile(r"([\\`*_\[\]<>&~|])")
# A list item: indentation, marker, the spaces after it, an optional task box, the text.
_ITEM = re.compile(r"( *)([-*+]|[0-9]{1,9}[.)])(?: +|$)(?:\[([ xX])\](?: +|$))?(.*)")
# A description line that would read as an item (or as an escape) once indented.
_LOOKS_LIKE_ITEM = re.compile(r"\s*(?:[-*+]|[0-9]{1,9}[.)])(?:\s|$)|\s*\\")


def escape(name: str) -> str:
    """A name with a backslash before each character Markdown could read as syntax."""
    return _SPECIALS.sub(r"\\\1", name)


def _description_lines(description: str) -> list[str]:
    lines = description.replace("\r\n", "\n").replace("\r", "\n").split("\n")
    lines = ["" if not line.strip() else line for line in lines]
    while lines and not lines[-1]:
        lines.pop()
    first = 0
    while first < len(lines) and not lines[first]:
        first += 1
    return [
        (_indent_of(line) * " " + "\\" + line.lstrip(" ")) if _LOOKS_LIKE_ITEM.match(line) else line
        for line in lines[first:]
    ]


def _indent_of(line: str) -> int:
    return len(line) - len(line.lstrip(" "))


def write(goals: Iterable[OutlineGoal], *, exported_at: datetime) -> Iterator[bytes]:
    """The task list, one item per goal in pre-order."""
    del exported_at  # a list has no place for it
    parts: list[str] = []
    for count, goal in enumerate(goals, start=1):
        indent = "  " * goal.depth
        box = "[x]" if goal.end is not None else "[ ]"
        parts.append(f"{indent}- {box} {escape(goal.name)}\n")
        if goal.description:
            inner = indent + "  "
            parts.extend(
                f"{inner}{line}\n" if line else "\n"
                for line in _description_lines(goal.description)
            )
        if count % CHUNK_GOALS == 0:
            yield "".join(parts).encode()
            parts = []
    yield "".join(parts).encode()


def read(text: str) -> list[Entry]:
    """The goals of a Markdown list, in pre-order; unbalanced indentation is refused."""
    entries: list[Entry] = []
    descriptions: list[list[str]] = []
    # Open items: (indentation, entry index), outermost first.
    stack: list[tuple[int, int]] = []
    base: int | None = None
    done_at = utcnow()
    content = 0  # where the last item's text starts: its description is indented that far
    # Only CR and LF end lines (str.splitlines would also split at U+2028, which names may hold).
    for number, line in enumerate(_LINES.split(text), start=1):
        expanded = line.expandtabs(4) if line.startswith("\t") or " \t" in line else line
        item = _ITEM.fullmatch(expanded)
        if item is None:
            if entries:
                cut = min(_indent_of(line), content)
                descriptions[-1].append(line[cut:] if line.strip() else "")
            continue
        indent = len(item.group(1))
        if base is None:
            base = indent
        popped = False
        while stack and stack[-1][0] > indent:
            stack.pop()
            popped = True
        if stack and stack[-1][0] == indent:
            stack.pop()
        elif (stack and popped) or (not stack and indent != base):
            raise invalid(
                f"line {number}",
                f"unbalanced indentation: {indent} spaces match no open item's level",
            )
        parent = stack[-1][1] if stack else None
        box, name = item.group(3), item.group(4)
        fields: dict[str, Any] = {"name": unescapeAll(name.strip())}
        if box in ("x", "X"):
            fields["end"] = done_at
        entries.append(Entry(fields, parent, f"line {number}"))
        descriptions.append([])
        stack.append((indent, len(entries) - 1))
        content = item.end(2) - item.start(2) + indent + 1
    for entry, lines in zip(entries, descriptions, strict=True):
        while lines and not lines[-1]:
            lines.pop()
        first = 0
        while first < len(lines) and not lines[first]:
            first += 1
        if first < len(lines):
            entry.fields["description"] = "\n".join(
                line[1:] if line.startswith("\\") else _unescape_indented(line)
                for line in lines[first:]
            )
    return entries


def _unescape_indented(line: str) -> str:
    """A description line whose escape follows its own indentation loses the backslash."""
    spaces = _indent_of(line)
    if spaces and line[spaces:].startswith("\\"):
        return line[:spaces] + line[spaces + 1 :]
    return line
