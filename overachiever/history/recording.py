"""Recording: every change of goals is written down in the transaction that makes it.

A change runs inside `operation(...)`: the owner's lock is taken, an operation row is added,
and every statement of the change marks the goal rows it touches with the operation's id.
Before the transaction commits, one INSERT ... SELECT copies each marked goal into an event
(its snapshot, and the id of its previous event), so a crash loses both or neither, and no
statement can change goals without being recorded, whatever it was.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import (
    Select,
    and_,
    bindparam,
    case,
    delete,
    false,
    func,
    insert,
    literal,
    null,
    select,
    true,
    update,
)
from sqlalchemy.orm import Session

from ..core.db import db, write_transaction
from ..core.errors import NotFound
from ..core.types import BigId, UTCDateTime, utcnow
from ..goals.models import Goal
from ..users.locks import OWNER, OWNER_FOR_UPDATE
from .models import SNAPSHOT_FIELDS, TRASH_FIELDS, GoalEvent, Operation

_goals = Goal.__table__
_events = GoalEvent.__table__
_operations = Operation.__table__
_KEPT = (*SNAPSHOT_FIELDS, *TRASH_FIELDS)


@dataclass(frozen=True, slots=True)
class Stamp:
    """The operation a change is recorded under: what its statements mark goals with."""

    id: int
    owner_id: int
    at: datetime


def _begin_statement(locking: bool) -> Any:
    """INSERT an operation for :owner_id if that user exists, locking the user's row: the
    owner's lock and the operation in one round trip."""
    owner = (OWNER_FOR_UPDATE if locking else OWNER).subquery("owner")
    values = select(
        owner.c.id,
        bindparam("actor_id", type_=BigId),
        bindparam("kind"),
        bindparam("at", type_=UTCDateTime()),
    )
    return (
        insert(_operations)
        .from_select(["owner_id", "actor_id", "kind", "at"], values)
        .returning(_operations.c.id)
    )


# By whether the owner's row is locked: PostgreSQL (SQLite's write lock is held already).
_BEGIN = {locking: _begin_statement(locking) for locking in (False, True)}


def begin(*, owner_id: int, kind: str, actor_id: int | None) -> Stamp:
    """Add an operation, and on PostgreSQL lock its owner's row; NotFound if the owner is gone.

    Inside the owner's lock, operations of one owner are in order, and so are their times.
    """
    at = utcnow()
    conn = db.session.connection()
    params = {"owner_id": owner_id, "actor_id": actor_id, "kind": kind, "at": at}
    op_id = conn.execute(_BEGIN[conn.dialect.name == "postgresql"], params).scalar()
    if op_id is None:
        raise NotFound(f"user {owner_id} not found")
    return Stamp(op_id, owner_id, at)


def _last_event(goal_id: Any) -> Any:
    """The id of a goal's latest event, as a scalar subquery."""
    earlier = _events.alias("earlier")
    return select(func.max(earlier.c.id)).where(earlier.c.goal_id == goal_id).scalar_subquery()


def _record_statement() -> Any:
    """INSERT an event for every goal marked with :op_id, kind told by its previous event."""
    prev = _events.alias("prev")
    kind = case(
        (prev.c.id.is_(None), literal("created")),
        (and_(prev.c.deleted_at.is_(None), _goals.c.deleted_at.is_not(None)), literal("trashed")),
        (and_(prev.c.deleted_at.is_not(None), _goals.c.deleted_at.is_(None)), literal("restored")),
        else_=literal("updated"),
    )
    columns = ["operation_id", "owner_id", "goal_id", "prev_id", "at", "kind", "erased", *_KEPT]
    rows = (
        select(
            bindparam("op_id", type_=BigId),
            _goals.c.owner_id,
            _goals.c.id,
            prev.c.id,
            bindparam("at", type_=UTCDateTime()),
            kind,
            false(),
            *(_goals.c[name] for name in _KEPT),
        )
        .select_from(_goals.outerjoin(prev, prev.c.id == _last_event(_goals.c.id)))
        .where(_goals.c.operation_id == bindparam("op_id"))
    )
    return insert(_events).from_select(columns, rows)


# Public: the bench ceiling runs it as the app does.
RECORD_EVENTS = _record_statement()


def record(stamp: Stamp) -> int:
    """Write the events of an operation; drop the operation if it changed nothing."""
    result = db.session.execute(RECORD_EVENTS, {"op_id": stamp.id, "at": stamp.at})
    recorded = int(result.rowcount or 0)  # type: ignore[attr-defined]
    if not recorded:
        has_tombstones = db.session.execute(
            select(_events.c.id).where(_events.c.operation_id == stamp.id).limit(1)
        ).first()
        if has_tombstones is None:
            db.session.execute(delete(_operations).where(_operations.c.id == stamp.id))
    return recorded


def record_purge(stamp: Stamp, doomed: Select[Any]) -> None:
    """Before goals are deleted for good: a tombstone for each, and their earlier events erased.

    doomed selects the ids of the goals about to go.
    """
    tombstones = select(
        bindparam("op_id", type_=BigId),
        _goals.c.owner_id,
        _goals.c.id,
        _last_event(_goals.c.id),
        bindparam("at", type_=UTCDateTime()),
        literal("purged"),
        true(),
    ).where(_goals.c.id.in_(doomed))
    columns = ["operation_id", "owner_id", "goal_id", "prev_id", "at", "kind", "erased"]
    db.session.execute(
        insert(_events).from_select(columns, tombstones), {"op_id": stamp.id, "at": stamp.at}
    )
    db.session.execute(
        update(_events)
        .where(_events.c.goal_id.in_(doomed), _events.c.erased.is_(False))
        .values(erased=True, **dict.fromkeys(_KEPT, null()))
    )


# Set while a dry run goes: operations compute and record everything, then roll back.
_dry_run: ContextVar[bool] = ContextVar("dry_run", default=False)


class _DryRunDone(Exception):
    """Ends a dry run's transaction (rolled back), carrying what it would have changed."""

    def __init__(self, changes: list[dict[str, Any]]) -> None:
        super().__init__("dry run")
        self.changes = changes


def dry_run(call: Callable[[], object]) -> list[dict[str, Any]]:
    """Run a change as usual, rules and record included, and roll it back: what it would change.

    The changes are read from the operation's events, so they are what the same code would
    have stored. A refused change raises as the real one would.
    """
    token = _dry_run.set(True)
    try:
        call()
    except _DryRunDone as done:
        return done.changes
    finally:
        _dry_run.reset(token)
    return []  # the call made no operation: nothing would change


def _planned_changes(stamp: Stamp) -> list[dict[str, Any]]:
    """Every field of every goal the operation changed: {goal_id, field, before, after}."""
    prev = _events.alias("prev")
    rows = db.session.execute(
        select(
            _events.c.goal_id,
            _events.c.kind,
            prev.c.id.label("prev_id"),
            *(_events.c[f] for f in SNAPSHOT_FIELDS),
            *(prev.c[f].label(f"prev_{f}") for f in SNAPSHOT_FIELDS),
        )
        .select_from(_events.outerjoin(prev, prev.c.id == _events.c.prev_id))
        .where(_events.c.operation_id == stamp.id)
        .order_by(_events.c.id)
    ).all()
    created = {r.goal_id for r in rows if r.prev_id is None}
    changes: list[dict[str, Any]] = []
    for r in rows:
        if r.prev_id is None:
            # A goal to be created has no id yet; nor has a parent to be created with it.
            for f in SNAPSHOT_FIELDS:
                after = getattr(r, f)
                if f == "parent_id" and after in created:
                    after = None
                if after is not None:
                    changes.append({"goal_id": None, "field": f, "before": None, "after": after})
            continue
        if r.kind in ("trashed", "restored"):
            trashed = r.kind == "trashed"
            changes.append(
                {"goal_id": r.goal_id, "field": "trashed", "before": not trashed, "after": trashed}
            )
        for f in SNAPSHOT_FIELDS:
            before, after = getattr(r, f"prev_{f}"), getattr(r, f)
            if before != after:
                changes.append({"goal_id": r.goal_id, "field": f, "before": before, "after": after})
    return changes


@contextmanager
def operation(
    owner_id: int,
    *,
    kind: str,
    actor_id: int | None,
    serialise_all: bool = False,
) -> Iterator[Stamp]:
    """A write transaction under the owner's lock whose changes are recorded as one operation.

    The body marks every goal row it changes with the stamp's id (operation_id).
    """
    begun: list[Stamp] = []

    def lock_and_begin(_session: Session) -> None:
        begun.append(begin(owner_id=owner_id, kind=kind, actor_id=actor_id))

    with write_transaction(lock=lock_and_begin, serialise_all=serialise_all):
        stamp = begun[0]
        yield stamp
        record(stamp)
        if _dry_run.get():
            raise _DryRunDone(_planned_changes(stamp))


__all__ = ["Stamp", "begin", "dry_run", "operation", "record", "record_purge"]
