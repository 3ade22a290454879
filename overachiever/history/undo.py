"""Undo: put back what an operation changed, as an operation of its own (so undo of it redoes).

Every goal the operation touched gets the snapshot it had before: a goal it created goes to the
trash, one it trashed comes back, changed fields get their old values. It is refused when any
of those goals is no longer as the operation left it (later work would be overwritten), naming
the later operations that changed them; an undone operation and its undo cancel out, so they
block nothing. It runs under the owner's lock, and checks the tree it leaves: every live goal
under a live parent, no cycle.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import bindparam, select, update
from sqlalchemy.exc import IntegrityError

from ..core.db import db
from ..core.errors import (
    AlreadyUndone,
    CycleConflict,
    NameConflict,
    NotFound,
    NotUndoable,
    UndoConflict,
)
from ..goals.completion import settle
from ..goals.models import Goal
from ..users.models import User
from .models import SNAPSHOT_FIELDS, TRASH_FIELDS, GoalEvent, Operation
from .recording import Stamp, operation
from .service import operation_dict

_goals = Goal.__table__
_events = GoalEvent.__table__
_operations = Operation.__table__
_KEPT = (*SNAPSHOT_FIELDS, *TRASH_FIELDS)
# Operations whose effects cannot be put back: a purge erased them, a baseline only describes.
NOT_UNDOABLE = frozenset({"purge", "baseline"})


def undo(*, owner: User, operation_id: int) -> dict[str, Any]:
    """Undo one of the owner's operations; returns the new (undo) operation."""
    with operation(owner.id, kind="undo", actor_id=owner.id) as stamp:
        target = db.session.execute(
            select(_operations).where(
                _operations.c.id == operation_id, _operations.c.owner_id == owner.id
            )
        ).first()
        if target is None:
            raise NotFound(f"operation {operation_id} not found")
        if target.undone_by is not None:
            raise AlreadyUndone(
                f"operation {operation_id} was undone by operation {target.undone_by};"
                " undo that one to redo it",
                undone_by=target.undone_by,
            )
        touched = _touched(operation_id)
        if target.kind in NOT_UNDOABLE or any(t["kind"] == "purged" for t in touched):
            raise NotUndoable(f"operation {operation_id} ({target.kind}) cannot be undone")
        _check_unchanged(operation_id, touched)
        _put_back(touched, stamp)
        _check_tree(owner.id, operation_id, touched, stamp)
        # What was put back obeys the rules of today (a rule changed since, a child added).
        settle(stamp)
        db.session.execute(
            update(_operations).where(_operations.c.id == operation_id).values(undone_by=stamp.id)
        )
        db.session.execute(
            update(_operations).where(_operations.c.id == stamp.id).values(undoes=operation_id)
        )
    return _result(owner.id, stamp.id)


def _result(owner_id: int, undo_id: int) -> dict[str, Any]:
    return operation_dict(owner_id=owner_id, operation_id=undo_id)


def _touched(operation_id: int) -> list[dict[str, Any]]:
    """Each goal the operation touched: its snapshot after, before (None if it made the goal),
    and now (None if purged since): one query."""
    prev = _events.alias("prev")
    rows = db.session.execute(
        select(
            _events.c.goal_id,
            _events.c.kind,
            prev.c.id.label("prev_id"),
            _goals.c.id.label("now_id"),
            *(_events.c[f].label(f"after_{f}") for f in _KEPT),
            *(prev.c[f].label(f"before_{f}") for f in _KEPT),
            *(_goals.c[f].label(f"now_{f}") for f in _KEPT),
        )
        .select_from(
            _events.outerjoin(prev, prev.c.id == _events.c.prev_id).outerjoin(
                _goals, _goals.c.id == _events.c.goal_id
            )
        )
        .where(_events.c.operation_id == operation_id)
    ).mappings()
    touched = []
    for r in rows:
        touched.append(
            {
                "goal_id": r["goal_id"],
                "kind": r["kind"],
                "before": None if r["prev_id"] is None else {f: r[f"before_{f}"] for f in _KEPT},
                "after": {f: r[f"after_{f}"] for f in _KEPT},
                "now": None if r["now_id"] is None else {f: r[f"now_{f}"] for f in _KEPT},
            }
        )
    return touched


def _later_operations(operation_id: int, goal_ids: list[int]) -> list[int]:
    """Operations after operation_id that changed any of goal_ids and still stand."""
    if not goal_ids:
        return []
    rows = db.session.execute(
        select(_events.c.operation_id)
        .join(_operations, _operations.c.id == _events.c.operation_id)
        .where(
            _events.c.goal_id.in_(goal_ids),
            _events.c.operation_id > operation_id,
            _operations.c.undone_by.is_(None),
            # An undo cancels out with what it undid; one that undid an earlier operation than
            # this one still changed these goals later.
            (_operations.c.undoes.is_(None)) | (_operations.c.undoes < operation_id),
        )
        .group_by(_events.c.operation_id)
        .order_by(_events.c.operation_id)
    )
    return list(rows.scalars())


def _check_unchanged(operation_id: int, touched: list[dict[str, Any]]) -> None:
    """Refuse when a goal is no longer as the operation left it."""
    changed = [t["goal_id"] for t in touched if t["now"] != t["after"]]
    if not changed:
        return
    conflicts = _later_operations(operation_id, changed)
    raise UndoConflict(
        f"later operations changed goals that operation {operation_id} changed"
        f" ({', '.join(map(str, changed[:10]))}); undo them first",
        conflicts=conflicts,
    )


def _trash_roots(created: dict[int, int | None]) -> dict[int, int]:
    """For goals an operation created (id -> parent id), the topmost created goal above each."""
    roots: dict[int, int] = {}
    for goal_id in created:
        path = [goal_id]
        top = goal_id
        while top not in roots:
            parent = created.get(top)
            if parent is None or parent not in created:
                roots[top] = top
                break
            path.append(parent)
            top = parent
        for g in path:
            roots[g] = roots[top]
    return roots


def _put_back(touched: list[dict[str, Any]], stamp: Stamp) -> None:
    """Give each touched goal its snapshot from before the operation: two statements at most."""
    now = stamp.at
    restored = [t for t in touched if t["before"] is not None]
    created = {t["goal_id"]: t["now"]["parent_id"] for t in touched if t["before"] is None}
    try:
        if restored:
            db.session.execute(
                update(_goals)
                .where(_goals.c.id == bindparam("goal_id"))
                .values(
                    **{f: bindparam(f"v_{f}") for f in _KEPT},
                    version=_goals.c.version + 1,
                    updated_at=now,
                    operation_id=stamp.id,
                ),
                [
                    {"goal_id": t["goal_id"], **{f"v_{f}": t["before"][f] for f in _KEPT}}
                    for t in restored
                ],
            )
        if created:
            roots = _trash_roots(created)
            db.session.execute(
                update(_goals)
                .where(_goals.c.id == bindparam("goal_id"))
                .values(
                    deleted_at=now,
                    trash_root_id=bindparam("root"),
                    version=_goals.c.version + 1,
                    updated_at=now,
                    operation_id=stamp.id,
                ),
                [{"goal_id": g, "root": roots[g]} for g in created],
            )
    except IntegrityError as exc:
        raise NameConflict(
            "a goal this undo would bring back has the name of a live sibling; rename one first"
        ) from exc


def _check_tree(
    owner_id: int, operation_id: int, touched: list[dict[str, Any]], stamp: Stamp
) -> None:
    """Refuse an undo that leaves a live goal under a missing or trashed parent, or a cycle."""
    parent = _goals.alias("parent")
    orphans = db.session.execute(
        select(_goals.c.id, _goals.c.parent_id)
        .select_from(_goals.outerjoin(parent, parent.c.id == _goals.c.parent_id))
        .where(
            _goals.c.operation_id == stamp.id,
            _goals.c.deleted_at.is_(None),
            _goals.c.parent_id.is_not(None),
            (parent.c.id.is_(None)) | (parent.c.deleted_at.is_not(None)),
        )
    ).all()
    if orphans:
        parents = sorted({p for _, p in orphans})
        raise UndoConflict(
            f"goals {', '.join(str(p) for p in parents[:10])} that this undo would put goals"
            " back under are in the trash or gone; restore them first",
            conflicts=_later_operations(operation_id, parents),
        )
    moved = [
        t["goal_id"]
        for t in touched
        if t["before"] is not None
        and t["before"]["deleted_at"] is None
        and t["before"]["parent_id"] != t["after"]["parent_id"]
    ]
    if not moved:
        return
    parents_of: dict[int, int | None] = dict(
        db.session.execute(
            select(_goals.c.id, _goals.c.parent_id).where(
                _goals.c.owner_id == owner_id, _goals.c.deleted_at.is_(None)
            )
        ).all()
    )
    for goal_id in moved:
        seen = {goal_id}
        up = parents_of.get(goal_id)
        while up is not None:
            if up in seen:
                raise CycleConflict(
                    f"undoing operation {operation_id} would put goal {goal_id} under itself",
                    path=[goal_id, up],
                )
            seen.add(up)
            up = parents_of.get(up)


__all__ = ["NOT_UNDOABLE", "undo"]
