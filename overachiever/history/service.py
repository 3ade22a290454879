"""Reading the record: a goal's events, the operations list, one operation, the changes feed.

Each read is a fixed number of queries: a page of rows, its count, and for operations the ids
of the goals they touched.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import Select, func, select

from ..core.db import db, read_transaction
from ..core.errors import NotFound
from ..sharing import access
from ..users.models import User
from . import cursor
from .models import SNAPSHOT_FIELDS, GoalEvent, Operation

_events = GoalEvent.__table__
_prev = _events.alias("prev")
_operations = Operation.__table__
_users = User.__table__
# The goal ids an operation lists; goals_count tells how many it touched in all.
GOAL_IDS_SHOWN = 1000

_EVENTS = select(
    _events.c.id,
    _events.c.operation_id,
    _events.c.at,
    _events.c.goal_id,
    _events.c.kind,
    _events.c.erased,
    _operations.c.actor_id,
    _users.c.name.label("actor_name"),
    _prev.c.id.label("prev_id"),
    *(_events.c[f] for f in SNAPSHOT_FIELDS),
    *(_prev.c[f].label(f"prev_{f}") for f in SNAPSHOT_FIELDS),
).select_from(
    _events.join(_operations, _operations.c.id == _events.c.operation_id)
    .outerjoin(_users, _users.c.id == _operations.c.actor_id)
    .outerjoin(_prev, _prev.c.id == _events.c.prev_id)
)


def changes_of(row: Any) -> dict[str, list[Any]]:
    """Each field an event changed, as [before, after]; a created goal's set fields from null."""
    if row.erased or row.kind == "purged":
        return {}
    if row.prev_id is None:
        return {f: [None, getattr(row, f)] for f in SNAPSHOT_FIELDS if getattr(row, f) is not None}
    changed = {}
    for f in SNAPSHOT_FIELDS:
        before, after = getattr(row, f"prev_{f}"), getattr(row, f)
        if before != after:
            changed[f] = [before, after]
    return changed


def _actor(actor_id: int | None, name: str | None) -> dict[str, Any] | None:
    return None if actor_id is None else {"id": actor_id, "name": name}


def event_dict(row: Any) -> dict[str, Any]:
    """An event as the API shows it."""
    return {
        "id": row.id,
        "operation_id": row.operation_id,
        "at": row.at,
        "actor": _actor(row.actor_id, row.actor_name),
        "goal_id": row.goal_id,
        "name": row.name,
        "kind": row.kind,
        "changes": changes_of(row),
    }


def goal_history(
    *, caller: User, goal_id: int, offset: int, limit: int
) -> tuple[list[dict[str, Any]], int]:
    """A page of a goal's events, newest first: one the caller may read, or owns in the trash."""
    read_transaction()
    access.readable(caller=caller, goal_id=goal_id, trashed=True)
    mine = _events.c.goal_id == goal_id
    total = db.session.execute(select(func.count()).where(mine)).scalar_one()
    rows = db.session.execute(
        _EVENTS.where(mine).order_by(_events.c.id.desc()).offset(offset).limit(limit)
    )
    return [event_dict(r) for r in rows], total


_OPERATIONS = select(
    _operations,
    _users.c.name.label("actor_name"),
).select_from(_operations.outerjoin(_users, _users.c.id == _operations.c.actor_id))


def _operation_dicts(rows: list[Any]) -> list[dict[str, Any]]:
    """Operations as the API shows them, with the goals each touched: one more query."""
    if not rows:
        return []
    ids = [r.id for r in rows]
    touched: dict[int, list[int]] = {i: [] for i in ids}
    counts: dict[int, int] = dict.fromkeys(ids, 0)
    numbered = (
        select(
            _events.c.operation_id,
            _events.c.goal_id,
            func.row_number()
            .over(partition_by=_events.c.operation_id, order_by=_events.c.id)
            .label("n"),
            func.count().over(partition_by=_events.c.operation_id).label("total"),
        )
        .where(_events.c.operation_id.in_(ids))
        .subquery()
    )
    for op_id, goal_id, _n, total in db.session.execute(
        select(numbered)
        .where(numbered.c.n <= GOAL_IDS_SHOWN)
        .order_by(numbered.c.operation_id, numbered.c.n)
    ):
        touched[op_id].append(goal_id)
        counts[op_id] = total
    return [
        {
            "id": r.id,
            "at": r.at,
            "actor": _actor(r.actor_id, r.actor_name),
            "kind": r.kind,
            "goal_ids": touched[r.id],
            "goals_count": counts[r.id],
            "undoes": r.undoes,
            "undone_by": r.undone_by,
        }
        for r in rows
    ]


def list_operations(*, owner: User, offset: int, limit: int) -> tuple[list[dict[str, Any]], int]:
    """A page of the owner's operations, newest first."""
    read_transaction()
    mine = _operations.c.owner_id == owner.id
    total = db.session.execute(select(func.count()).where(mine)).scalar_one()
    rows = db.session.execute(
        _OPERATIONS.where(mine).order_by(_operations.c.id.desc()).offset(offset).limit(limit)
    ).all()
    return _operation_dicts(list(rows)), total


def get_operation(*, owner: User, operation_id: int) -> dict[str, Any]:
    """One of the owner's operations."""
    read_transaction()
    return operation_dict(owner_id=owner.id, operation_id=operation_id)


def operation_dict(*, owner_id: int, operation_id: int) -> dict[str, Any]:
    """One of an owner's operations as the API shows it (inside the caller's transaction)."""
    rows = db.session.execute(
        _OPERATIONS.where(_operations.c.id == operation_id, _operations.c.owner_id == owner_id)
    ).all()
    if not rows:
        raise NotFound(f"operation {operation_id} not found")
    return _operation_dicts(list(rows))[0]


def feed(*, owner: User, after: str | None, limit: int) -> dict[str, Any]:
    """The owner's events after a cursor (from the start without one), oldest first."""
    last = cursor.read(after, owner_id=owner.id) if after else 0
    stmt: Select[Any] = (
        _EVENTS.where(_events.c.owner_id == owner.id, _events.c.id > last)
        .order_by(_events.c.id)
        .limit(limit + 1)
    )
    rows = db.session.execute(stmt).all()
    more = len(rows) > limit
    rows = rows[:limit]
    if rows:
        last = rows[-1].id
    return {
        "items": [event_dict(r) for r in rows],
        "cursor": cursor.make(last, owner_id=owner.id),
        "more": more,
    }
