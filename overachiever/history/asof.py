"""The tree as it was: each goal's last snapshot at an instant, read with one query.

Roll-ups are computed on that state, by the same Forest that reads the live tree. A goal that
did not exist at the instant, was in the trash then, or has been purged since (its record is
erased) is not found.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime
from typing import Any

from sqlalchemy import func, select

from ..core.db import db, read_transaction
from ..core.errors import Invalid, NotFound
from ..core.types import utcnow
from ..goals.results import GoalResult
from ..goals.tree import Forest, Stats
from ..users.models import User
from .models import GoalEvent

_events = GoalEvent.__table__


def _check_past(at: datetime) -> None:
    if at > utcnow():
        raise Invalid(
            "as_of is in the future; the record only knows the past",
            [{"loc": ["query", "as_of"], "msg": "must not be in the future"}],
        )


def _snapshot_rows(owner_id: int, at: datetime) -> list[Any]:
    """The owner's goals live at `at`, each as its last event then, in sibling order."""
    last = (
        select(
            _events.c.goal_id,
            func.max(_events.c.id).label("id"),
            func.min(_events.c.at).label("created_at"),
            func.count().label("version"),
        )
        .where(_events.c.owner_id == owner_id, _events.c.at <= at)
        .group_by(_events.c.goal_id)
        .subquery("last")
    )
    stmt = (
        select(
            _events.c.goal_id.label("id"),
            _events.c.parent_id,
            _events.c.name,
            _events.c.end,
            _events.c.due,
            _events.c.description,
            _events.c.start,
            _events.c.position,
            # Events recorded before completion rules existed hold none: those goals were manual.
            func.coalesce(_events.c.completion, "manual").label("completion"),
            _events.c.at.label("updated_at"),
            last.c.created_at,
            last.c.version,
        )
        .join(last, last.c.id == _events.c.id)
        .where(_events.c.deleted_at.is_(None), _events.c.erased.is_(False))
        .order_by(_events.c.parent_id, _events.c.position, _events.c.goal_id)
    )
    return list(db.session.execute(stmt))


def forest_as_of(*, owner: User, at: datetime) -> Forest:
    """The owner's forest as it was at `at`."""
    _check_past(at)
    read_transaction()
    rows = _snapshot_rows(owner.id, at)
    return Forest.from_grouped(_forest_rows(rows))


def _nulls_first(rows: list[Any]) -> list[Any]:
    """Rows with top-level goals first: the databases sort NULL parents differently."""
    return [r for r in rows if r.parent_id is None] + [r for r in rows if r.parent_id is not None]


def _forest_rows(rows: list[Any]) -> Iterator[tuple[Any, ...]]:
    """The columns a Forest reads, top-level goals first."""
    return ((r.id, r.parent_id, r.name, r.end, r.due, r.completion) for r in _nulls_first(rows))


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


def subtree_as_of(*, owner: User, goal_id: int, at: datetime) -> Forest:
    """The subtree under one of the owner's goals as it was at `at`."""
    _check_past(at)
    read_transaction()
    rows = _rows_under(_snapshot_rows(owner.id, at), goal_id)
    return Forest.from_grouped(_forest_rows(rows), roots=[goal_id])


def goal_as_of(*, owner: User, goal_id: int, at: datetime) -> GoalResult:
    """One of the owner's goals as it was at `at`, with roll-ups of its subtree then."""
    _check_past(at)
    read_transaction()
    rows = _rows_under(_snapshot_rows(owner.id, at), goal_id)
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
    root = by_id[goal_id]
    stats = Stats(
        children_count=len(children.get(goal_id, ())),
        descendants_count=len(order) - 1,
        done_descendants_count=sum(1 for g in order[1:] if by_id[g].end is not None),
        leaves=leaves[goal_id],
        done_leaves=done_leaves[goal_id],
        done=root.end is not None,
    )
    return GoalResult(root, stats)


__all__ = ["forest_as_of", "goal_as_of", "subtree_as_of"]
