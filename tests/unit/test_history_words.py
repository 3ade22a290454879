"""Events and operations told in words (the CLI's lines)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

from overachiever.history.words import event_words, operation_words

ALICE = {"id": 1, "name": "alice"}
T = datetime(2026, 1, 2, 3, 4, tzinfo=UTC)


def _event(kind: str, changes: dict[str, Any], name: str | None = "Paint") -> dict[str, Any]:
    return {"actor": ALICE, "goal_id": 5, "name": name, "kind": kind, "changes": changes}


@pytest.mark.parametrize(
    ("kind", "changes", "words"),
    [
        ("created", {"name": [None, "Paint"]}, "alice created 'Paint'"),
        ("trashed", {}, "alice trashed 'Paint'"),
        ("updated", {"end": [None, T]}, "alice completed 'Paint'"),
        ("updated", {"end": [T, None]}, "alice reopened 'Paint'"),
        ("updated", {"name": ["Paint", "Paint walls"]}, "alice renamed 'Paint' to 'Paint walls'"),
        (
            "updated",
            {"name": ["a", "b"], "end": [None, T]},
            "alice renamed 'a' to 'b' and completed it",
        ),
        ("updated", {"parent_id": [1, None]}, "alice moved to the top level 'Paint'"),
        ("updated", {"position": [1, 2]}, "alice reordered 'Paint'"),
        ("updated", {"due": [None, T]}, "alice changed the due of 'Paint'"),
        ("updated", {}, "alice saved 'Paint'"),
    ],
)
def test_event_words(kind: str, changes: dict[str, Any], words: str) -> None:
    assert event_words(_event(kind, changes)) == words


def test_a_purged_goal_and_the_server_as_actor() -> None:
    event = {**_event("purged", {}, name=None), "actor": None}
    assert event_words(event) == "the server purged goal 5"


def test_operation_words() -> None:
    op = {"id": 9, "at": T, "actor": ALICE, "kind": "undo", "goals_count": 2, "undoes": 7}
    assert operation_words({**op, "undone_by": 11}) == (
        "2026-01-02 03:04  #9      alice: undo, 2 goal(s), undoing #7 (undone by #11)"
    )
