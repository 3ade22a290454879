"""The tree as it was: each goal's last snapshot at an instant, read with one query.

Roll-ups are computed on that state, by the same Forest that reads the live tree. A goal that
did not exist at the instant, was in the trash then, or has been purged since (its record is
erased) is not found.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import func, select

from ..core.db import db, read_transaction
from ..core.errors import Invalid, NotFound
from ..core.types import utcnow
from ..goals.models import Goal
from ..goals.results import GoalResult
from ..goals.tree import Forest, Stats
from ..sharing import access
from ..users.models import User
from .models import GoalEvent

_events = GoalEvent.__table__
# Rows fetched per batch (a server-side cursor on PostgreSQL), as the live forest read does.
_STREAM_ROWS = 4096
_goals = Goal.__table__


def _check_past(at: datetime) -> None:
    if at > utcnow():
        raise Invalid(
            "as_of is in the future; the record only knows the past",
            [{"loc": ["query", "as_of"], "msg": "must not be in the future"}],
        )


def _snapshot_rows(owner_id: int, at: datetime, *, full: bool = False) -> Any:
    """The owner's goals live at `at`, each as its last event then, in sibling order.

    Each of the owner's goals (live or in the trash today; a purged one's record is erased)
    seeks its last event up to `at` in its own events, newest first: the work follows the
    goals, not every event the owner ever made.
    """
    last = (
        select(_events.c.id)
        .where(_events.c.goal_id == _goals.c.id, _events.c.at <= at)
        .order_by(_events.c.id.desc())
        .limit(1)
        .correlate(_goals)
        .scalar_subquery()
    )
    # A tree needs six columns; one goal's answer needs them all.
    more = (
        (
            _events.c.description,
            _events.c.start,
            _events.c.position,
            _events.c.at.label("updated_at"),
            _goals.c.created_at,
        )
        if full
        else ()
    )
    stmt = (
        select(
            _events.c.goal_id.label("id"),
            _events.c.parent_id,
            _events.c.name,
            _events.c.end,
            _events.c.due,
            # Events recorded before completion rules existed hold none: those goals were manual.
            func.coalesce(_events.c.completion, "manual").label("completion"),
            *more,
        )
        .select_from(_goals.join(_events, _events.c.id == last))
        .where(
            _goals.c.owner_id == owner_id,
            _events.c.deleted_at.is_(None),
            _events.c.erased.is_(False),
        )
        .order_by(_events.c.parent_id, _events.c.position, _events.c.goal_id)
    )
    return db.session.execute(stmt.execution_options(yield_per=_STREAM_ROWS))


def forest_as_of(*, owner: User, at: datetime) -> Forest:
    """The owner's forest as it was at `at`."""
    _check_past(at)
    read_transaction()
    # Streamed into the forest as the live read is: each parent's children come together.
    return Forest.from_grouped(_snapshot_rows(owner.id, at))


def _rows_under(rows: list[Any], goal_id: int) -> list[Any]:
    """The rows of the subtree under goal_id (in the given order); NotFound if absent."""
    if not any(r.id == goal_id for r in rows):
        raise NotFound(f"goal {goal_id} did not exist then, or was in the trash")
    children: dict[int, list[int]] = {}
    for r in rows:
        if r.parent_id is not None:
            children.setdefault(r.parent_id, []).append(r.id)
    inside = {goal_id}
    stack = [goal_id]
    while stack:
        for kid in children.get(stack.pop(), ()):
            inside.add(kid)
            stack.append(kid)
    return [r for r in rows if r.id in inside]


def subtree_as_of(*, caller: User, goal_id: int, at: datetime) -> Forest:
    """The subtree under a goal as it was at `at`: the caller's own (even trashed since), or
    one they may read now."""
    _check_past(at)
    read_transaction()
    grant = access.readable(caller=caller, goal_id=goal_id, trashed=True)
    rows = _rows_under(list(_snapshot_rows(grant.owner_id, at)), goal_id)
    return Forest.from_grouped(rows, roots=[goal_id])


@dataclass(frozen=True, slots=True)
class _AsOfGoal:
    """A goal's fields as they were, under the names GoalResult reads."""

    id: int
    parent_id: int | None
    name: str
    end: datetime | None
    due: datetime | None
    completion: str
    description: str
    start: datetime
    position: int
    updated_at: datetime
    created_at: datetime
    version: int


def goal_as_of(*, caller: User, goal_id: int, at: datetime) -> GoalResult:
    """A goal as it was at `at` (as for subtree_as_of), with roll-ups of its subtree then."""
    _check_past(at)
    read_transaction()
    grant = access.readable(caller=caller, goal_id=goal_id, trashed=True)
    rows = _rows_under(list(_snapshot_rows(grant.owner_id, at, full=True)), goal_id)
    by_id = {r.id: r for r in rows}
    children: dict[int, list[int]] = {}
    for r in rows:
        if r.id != goal_id:
            children.setdefault(r.parent_id, []).append(r.id)
    # Leaves and done leaves bottom-up, over a pre-order walk reversed (no recursion).
    order: list[int] = []
    stack = [goal_id]
    while stack:
        g = stack.pop()
        order.append(g)
        stack.extend(children.get(g, ()))
    leaves: dict[int, int] = {}
    done_leaves: dict[int, int] = {}
    for g in reversed(order):
        kids = children.get(g)
        total = sum(leaves[k] for k in kids) if kids else 1
        leaves[g] = total
        finished = sum(done_leaves[k] for k in kids) if kids else 0
        done_leaves[g] = total if by_id[g].end is not None else finished
    # Its version then: how many events it had by that instant.
    version = db.session.execute(
        select(func.count()).where(_events.c.goal_id == goal_id, _events.c.at <= at)
    ).scalar_one()
    root = _AsOfGoal(**by_id[goal_id]._asdict(), version=version)
    stats = Stats(
        children_count=len(children.get(goal_id, ())),
        descendants_count=len(order) - 1,
        done_descendants_count=sum(1 for g in order[1:] if by_id[g].end is not None),
        leaves=leaves[goal_id],
        done_leaves=done_leaves[goal_id],
        done=root.end is not None,
    )
    return GoalResult(root, stats)  # type: ignore[arg-type]  # the same attribute names


__all__ = ["forest_as_of", "goal_as_of", "subtree_as_of"]
