"""Helpers for history tests: the record checked against the goals, the goals as a state."""

from __future__ import annotations

from typing import Any

from sqlalchemy import func, select

from overachiever.core.db import db
from overachiever.goals.models import Goal
from overachiever.history.models import SNAPSHOT_FIELDS, TRASH_FIELDS, GoalEvent, Operation
from overachiever.history.service import feed

KEPT = (*SNAPSHOT_FIELDS, *TRASH_FIELDS)


def goal_state(owner_id: int) -> dict[int, tuple[Any, ...]]:
    """Every goal of an owner (live or trashed) by id: the fields an undo puts back."""
    rows = db.session.execute(
        select(Goal.id, *(getattr(Goal, f) for f in KEPT)).where(Goal.owner_id == owner_id)
    ).all()
    return {r[0]: tuple(r[1:]) for r in rows}


def live_state(owner_id: int) -> dict[int, tuple[Any, ...]]:
    """The owner's live goals by id: (name, parent_id, end), what a tree read shows."""
    rows = db.session.execute(
        select(Goal.id, Goal.name, Goal.parent_id, Goal.end).where(
            Goal.owner_id == owner_id, Goal.deleted_at.is_(None)
        )
    ).all()
    return {r[0]: tuple(r[1:]) for r in rows}


def assert_record_matches(owner_id: int) -> None:
    """Each goal's latest event holds exactly its present fields; every goal has events."""
    last = (
        select(GoalEvent.goal_id, func.max(GoalEvent.id).label("id"))
        .where(GoalEvent.owner_id == owner_id)
        .group_by(GoalEvent.goal_id)
        .subquery()
    )
    events = db.session.execute(
        select(GoalEvent.goal_id, GoalEvent.kind, *(getattr(GoalEvent, f) for f in KEPT)).join(
            last, last.c.id == GoalEvent.id
        )
    ).all()
    recorded = {e[0]: tuple(e[2:]) for e in events if e[1] != "purged"}
    assert recorded == goal_state(owner_id)


def operations_of(owner_id: int) -> list[Any]:
    """The owner's operations, oldest first."""
    return list(
        db.session.execute(
            select(Operation)
            .where(Operation.owner_id == owner_id)
            .order_by(Operation.id)
            .execution_options(populate_existing=True)
        ).scalars()
    )


def last_operation(owner_id: int) -> int:
    """The id of the owner's latest operation."""
    return operations_of(owner_id)[-1].id  # type: ignore[no-any-return]


def operation_changes(owner: Any, operation_id: int) -> list[dict[str, Any]]:
    """What an operation changed, read from its events as the feed shows them, in the form of
    a dry run's changes: {goal_id, field, before, after}; a created goal has goal_id None, and
    parent_id None when its parent was created by the same operation."""
    events: list[dict[str, Any]] = []
    after = None
    while True:
        page = feed(owner=owner, after=after, limit=1000)
        events.extend(e for e in page["items"] if e["operation_id"] == operation_id)
        if not page["more"]:
            break
        after = page["cursor"]
    created = {e["goal_id"] for e in events if e["kind"] == "created"}
    changes: list[dict[str, Any]] = []
    for e in events:
        new = e["kind"] == "created"
        if e["kind"] in ("trashed", "restored"):
            trashed = e["kind"] == "trashed"
            changes.append(
                {
                    "goal_id": e["goal_id"],
                    "field": "trashed",
                    "before": not trashed,
                    "after": trashed,
                }
            )
        for field, (before, after_value) in e["changes"].items():
            if new and field == "parent_id" and after_value in created:
                continue
            changes.append(
                {
                    "goal_id": None if new else e["goal_id"],
                    "field": field,
                    "before": before,
                    "after": after_value,
                }
            )
    return changes
