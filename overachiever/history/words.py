"""An event or an operation told in words, for the CLI (the UI tells them in its own script)."""

from __future__ import annotations

from datetime import datetime
from typing import Any


def _when(value: Any) -> str:
    return value.strftime("%Y-%m-%d %H:%M") if isinstance(value, datetime) else str(value)


def event_words(event: dict[str, Any]) -> str:
    """One event as a sentence: who did what to which goal."""
    who = event["actor"]["name"] if event["actor"] else "the server"
    name = event["name"]
    what = f"goal {event['goal_id']}" if name is None else repr(name)
    changes = event["changes"]
    kind = event["kind"]
    if kind == "created":
        return f"{who} created {what}"
    if kind in ("trashed", "restored", "purged"):
        return f"{who} {kind} {what}"
    parts = []
    if "end" in changes:
        parts.append("completed" if changes["end"][1] is not None else "reopened")
    if "parent_id" in changes:
        after = changes["parent_id"][1]
        parts.append("moved to the top level" if after is None else f"moved under goal {after}")
    elif "position" in changes:
        parts.append("reordered")
    others = [f for f in ("description", "start", "due") if f in changes]
    if others:
        parts.append(f"changed the {', '.join(others)} of")
    if "name" in changes:
        before, after = changes["name"]
        renamed = f"{who} renamed {before!r} to {after!r}"
        return f"{renamed} and {' and '.join(parts)} it" if parts else renamed
    return f"{who} {' and '.join(parts or ['saved'])} {what}"


def operation_words(op: dict[str, Any]) -> str:
    """One operation as a line: when, who, what, how many goals, undo links."""
    who = op["actor"]["name"] if op["actor"] else "the server"
    line = f"{_when(op['at'])}  #{op['id']:<6} {who}: {op['kind']}, {op['goals_count']} goal(s)"
    if op["undoes"]:
        line += f", undoing #{op['undoes']}"
    if op["undone_by"]:
        line += f" (undone by #{op['undone_by']})"
    return line
