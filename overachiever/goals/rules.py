"""The rules every change to a tree obeys, for live goals, the trash and the import alike.

A goal is reached only live and by its owner; names are unique among live siblings; a goal
goes after its last sibling unless given a place, which the siblings after it make room for;
no goal moves under itself; no goal ends before it starts; a write honours If-Match.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import case, update

from ..core.db import db
from ..core.errors import CycleConflict, Invalid, NameConflict, NotFound, PreconditionFailed
from ..core.types import MAX_POSITION
from .models import Goal
from .queries import ANCESTORS, FIND_LIVE, NAME_TAKEN, NAMES_TAKEN, NEXT_POSITION, siblings
from .results import result_of
from .schemas import GoalCreate, ImportFields

# Names looked up in one statement by taken_names.
_NAMES_PER_LOOKUP = 500
# Checks an If-Match header against the current ETag; None when no header was sent.
EtagCheck = Callable[[str], bool] | None


def find_live(owner_id: int, goal_id: int) -> Goal | None:
    """One of the owner's live goals, or None."""
    return db.session.execute(
        FIND_LIVE, {"goal_id": goal_id, "owner_id": owner_id}
    ).scalar_one_or_none()


def live_goal(owner_id: int, goal_id: int, what: str = "goal") -> Goal:
    """One of the owner's live goals; anything else (someone else's too) is NotFound."""
    goal = find_live(owner_id, goal_id)
    if goal is None:
        raise NotFound(f"{what} {goal_id} not found")
    return goal


def check_etag(goal: Goal, if_match: EtagCheck) -> None:
    """Refuse the write when the client's copy of the goal is no longer current."""
    if if_match is None:
        return
    result = result_of(goal)
    if not if_match(result.etag):
        raise PreconditionFailed(
            f"goal {result.goal.id} has changed since you read it; read it again and retry",
            current_etag=f'"{result.etag}"',
        )


def check_times(start: datetime, end: datetime | None) -> None:
    """A goal cannot end before it starts."""
    if end is not None and end < start:
        raise Invalid(
            "a goal cannot end before it starts",
            [{"loc": ["body", "end"], "msg": "must not be before start"}],
        )


def name_taken(name: str, parent_id: int | None) -> NameConflict:
    """The error for a name that a live sibling already has."""
    where = "at the top level" if parent_id is None else f"under goal {parent_id}"
    return NameConflict(f"a goal named {name!r} already exists {where}")


def check_name_free(
    owner_id: int, parent_id: int | None, name: str, exclude: int | None = None
) -> None:
    """Refuse a name that a live sibling (other than exclude) already has."""
    params = {"owner_id": owner_id, "parent": parent_id or 0, "name": name, "exclude": exclude or 0}
    if db.session.execute(NAME_TAKEN, params).first() is not None:
        raise name_taken(name, parent_id)


def taken_names(owner_id: int, parent_id: int | None, names: Sequence[str]) -> list[str]:
    """Those of names that live siblings under parent_id already have, sorted.

    Looked up name by name (in batches that stay under both databases' limits on parameters),
    so the cost follows the names asked about, not the number of siblings.
    """
    taken: set[str] = set()
    for start in range(0, len(names), _NAMES_PER_LOOKUP):
        params = {
            "owner_id": owner_id,
            "parent": parent_id or 0,
            "names": list(names[start : start + _NAMES_PER_LOOKUP]),
        }
        taken.update(db.session.execute(NAMES_TAKEN, params).scalars())
    return sorted(taken)


def next_position(owner_id: int, parent_id: int | None) -> int:
    """The position after the last live sibling; saturates at MAX_POSITION."""
    params = {"sibling_owner": owner_id, "sibling_of": parent_id}
    return int(db.session.execute(NEXT_POSITION[parent_id is None], params).scalar_one())


def open_slot(
    owner_id: int, parent_id: int | None, position: int, now: datetime, operation_id: int
) -> None:
    """Shift siblings at or after position one place down, to make room."""
    shifted = case((Goal.position < MAX_POSITION, Goal.position + 1), else_=Goal.position)
    db.session.execute(
        update(Goal)
        .where(siblings(owner_id, parent_id), Goal.position >= position)
        .values(
            position=shifted,
            version=Goal.version + 1,
            updated_at=now,
            operation_id=operation_id,
        )
        .execution_options(synchronize_session=False)
    )


def ancestor_path(goal_id: int, start_id: int) -> list[int]:
    """Ids from start_id up through its ancestors, stopping at goal_id if met: one query."""
    conn = db.session.connection()
    params = {"goal_id": goal_id, "start_id": start_id}
    return list(conn.execute(ANCESTORS.on(conn), params).scalars())


def check_no_cycle(goal_id: int, new_parent_id: int) -> None:
    """Refuse to move a goal under itself or one of its descendants."""
    path = ancestor_path(goal_id, new_parent_id)
    if goal_id in path:
        chain = list(reversed(path[: path.index(goal_id) + 1]))
        raise CycleConflict(
            f"goal {new_parent_id} is inside goal {goal_id}; a goal cannot be moved under itself",
            path=chain,
        )


def default_start(start: datetime | None, end: datetime | None, now: datetime) -> datetime:
    """A new goal's start: as given, else its creation time, or its end if that is earlier
    (a goal recorded as done in the past started no later than it ended)."""
    if start is not None:
        return start
    return min(now, end) if end is not None else now


def new_goal_row(
    owner_id: int,
    fields: GoalCreate | ImportFields,
    now: datetime,
    *,
    parent_id: int | None,
    position: int | None,
    operation_id: int,
) -> dict[str, Any]:
    """The parameters of queries.INSERT for a new goal of these fields, created now.

    A position of None lets INSERT compute it (after the last sibling). An ORM insert of Goal
    reads the columns and leaves sibling_owner and sibling_of (INSERT's look-up) aside.
    """
    return {
        "owner_id": owner_id,
        "parent_id": parent_id,
        "name": fields.name,
        "description": fields.description,
        "start": default_start(fields.start, fields.end, now),
        "end": fields.end,
        "due": fields.due,
        "created_at": now,
        "updated_at": now,
        "version": 1,
        "operation_id": operation_id,
        "completion": fields.completion,
        "sibling_owner": owner_id,
        "sibling_of": parent_id,
        "position": position,
    }
