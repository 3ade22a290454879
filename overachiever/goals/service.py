"""Live goals: read them (one, a page, the forest, a subtree), create, change, move, trash.

Every read of a tree costs a fixed number of queries (recursive CTEs or one scan of the
owner's goals); every structural change runs in a write transaction that holds the owner's
lock, so concurrent moves can never create a cycle.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from functools import partial
from typing import Any

from sqlalchemy import Select, func, or_, select, update
from sqlalchemy.exc import IntegrityError

from ..core.db import db, read_transaction, snapshot_connection
from ..core.errors import NameConflict, NotFound
from ..core.search import contains_folded
from ..history.recording import operation
from ..sharing import access
from ..users.models import User
from .completion import refuse_explicit_end, settle
from .models import LIVE, Goal
from .outline import OutlineGoal, Shape
from .queries import (
    FOREST,
    GOAL,
    INSERT,
    INSERT_WITHIN_LIMIT,
    OUTLINE,
    OUTLINE_FIELDS,
    OUTLINE_SUBTREE,
    SUBTREE,
    SUBTREE_IDS,
    ByDialect,
    stats_of,
)
from .quota import goals_held, limit_reached, room_before_create
from .results import GoalResult, result_of, stats_for
from .rules import (
    EtagCheck,
    check_etag,
    check_name_free,
    check_no_cycle,
    check_times,
    live_goal,
    name_taken,
    new_goal_row,
    next_position,
    open_slot,
)
from .schemas import GoalCreate, GoalListQuery, GoalPatch, GoalPut
from .trash import purge_expired_of
from .tree import Forest, Stats

# ---------------------------------------------------------------------------- reads


def get_goal(*, caller: User, goal_id: int) -> GoalResult:
    """A live goal the caller may read, with roll-ups: one query, no ORM object."""
    conn = db.session.connection()
    row = conn.execute(READABLE_GOAL.on(conn), {"goal_id": goal_id, "caller_id": caller.id}).first()
    if row is None:
        raise NotFound(f"goal {goal_id} not found")
    return GoalResult(row, stats_of(row))


# One goal with its roll-ups, read by whoever may read it: the access decision and the read
# in one statement, for the owner and a recipient of a share alike.
READABLE_GOAL = ByDialect(lambda lateral: access.with_readable_owner(GOAL.form(lateral)))


_SORT_COLUMNS = {
    "position": Goal.position,
    "name": Goal.name,
    "start": Goal.start,
    "end": Goal.end,
    "due": Goal.due,
    "created": Goal.created_at,
}


def list_goals(*, owner: User, query: GoalListQuery) -> tuple[list[GoalResult], int]:
    """A page of the owner's live goals, and how many match in all."""
    read_transaction()  # the count, the page and its roll-ups from one snapshot
    stmt: Select[Any] = select(Goal).where(Goal.owner_id == owner.id, LIVE)
    if query.parent == "root":
        stmt = stmt.where(Goal.parent_id.is_(None))
    elif query.parent is not None:
        parent = live_goal(owner.id, int(query.parent))
        stmt = stmt.where(Goal.parent_id == parent.id)
    if query.status == "open":
        stmt = stmt.where(Goal.end.is_(None))
    elif query.status == "done":
        stmt = stmt.where(Goal.end.is_not(None))
    if query.q:
        stmt = stmt.where(
            or_(contains_folded(Goal.name, query.q), contains_folded(Goal.description, query.q))
        )
    if query.due_before is not None:
        stmt = stmt.where(Goal.due < query.due_before)
    if query.due_after is not None:
        stmt = stmt.where(Goal.due >= query.due_after)
    total = db.session.execute(select(func.count()).select_from(stmt.subquery())).scalar_one()
    column = _SORT_COLUMNS[query.sort.lstrip("-")]
    order = column.desc() if query.sort.startswith("-") else column.asc()
    id_order = Goal.id.desc() if query.sort.startswith("-") else Goal.id.asc()
    page = (
        db.session.execute(
            stmt.order_by(order.nulls_last(), id_order).offset(query.offset).limit(query.limit)
        )
        .scalars()
        .all()
    )
    stats = stats_for([g.id for g in page])
    # PostgreSQL reads each statement at its own moment (READ COMMITTED): a goal purged between
    # the page and its roll-ups is left out, as if the page had been read a moment later.
    return [GoalResult(g, stats[g.id]) for g in page if g.id in stats], total


def forest(*, owner: User) -> Forest:
    """The owner's whole live forest, read with one query."""
    read_transaction()  # streamed with a server-side cursor on PostgreSQL
    rows = db.session.connection().execute(FOREST, {"owner_id": owner.id})
    return Forest.from_grouped(rows)


def subtree(*, caller: User, goal_id: int) -> Forest:
    """The live subtree rooted at a goal the caller may read: two queries."""
    read_transaction()
    access.readable(caller=caller, goal_id=goal_id)
    conn = db.session.connection()
    rows = conn.execute(SUBTREE.on(conn), {"root_id": goal_id})
    return Forest.from_grouped(rows, roots=[goal_id])


def outline(*, caller: User, goal_id: int | None = None) -> Iterator[OutlineGoal]:
    """The caller's live forest, or the live subtree at a goal the caller may read, in
    pre-order with depths and progress: what an export writes.

    The goal is checked now; the goals are read as they are iterated, from one snapshot on a
    connection of their own (a streamed answer is written after the request has ended), in
    memory that does not grow with their text (goals/outline.py).
    """
    if goal_id is None:
        return _outline_goals(db.engine, caller.id, None)
    grant = access.readable(caller=caller, goal_id=goal_id)
    return _outline_goals(db.engine, grant.owner_id, goal_id)


def _outline_goals(engine: Any, owner_id: int, root_id: int | None) -> Iterator[OutlineGoal]:
    with snapshot_connection(engine) as conn:
        if root_id is None:
            rows = conn.execute(OUTLINE, {"owner_id": owner_id})
        else:
            rows = conn.execute(OUTLINE_SUBTREE.on(conn), {"root_id": root_id})
        shape = Shape(rows, root_id)
        yield from shape.goals(lambda ids: conn.execute(OUTLINE_FIELDS, {"ids": ids}))


# ---------------------------------------------------------------------------- writes


def _is_unique_violation(exc: IntegrityError) -> bool:
    # PostgreSQL names the condition by SQLSTATE; SQLite only in its message.
    return getattr(exc.orig, "sqlstate", None) == "23505" or "UNIQUE" in str(exc.orig)


def _flush_names() -> None:
    """Flush, turning a unique-name violation that slipped past the check into a 409."""
    try:
        db.session.flush()
    except IntegrityError as exc:
        raise NameConflict("a sibling goal already has that name") from exc


class _ParentElsewhere(Exception):
    """The parent is not one of the caller's own live goals: whose it is must be decided."""


def create_goal(
    *, caller: User, goal_in: GoalCreate, max_goals: int = 0, actor: User | None = None
) -> GoalResult:
    """Create a goal: the caller's at the top level, or the parent's owner's under a parent.

    The caller owns the parent or edits it through a share. max_goals: the most goals the
    owner may hold, trash included (0: no limit); actor: who asked, when an administrator acts
    for the caller (the v1.0 API).
    """
    # Without a start, a goal starts when it is made, or when it ended if that is earlier.
    if goal_in.start is not None:
        check_times(goal_in.start, goal_in.end)
    if goal_in.completion == "auto" and goal_in.end is not None:
        raise refuse_explicit_end(name=goal_in.name)
    made = partial(_create, caller=caller, goal_in=goal_in, max_goals=max_goals, actor=actor)
    try:
        # Under the caller's own parent, the common case, the INSERT checks the parent itself.
        return made(owner_id=caller.id)
    except _ParentElsewhere:
        # Not the caller's: a parent they edit through a share (in its owner's tree), or none.
        return made(owner_id=access.placing(caller=caller, parent_id=goal_in.parent_id))


def _create(
    *, owner_id: int, caller: User, goal_in: GoalCreate, max_goals: int, actor: User | None
) -> GoalResult:
    """Create the goal in owner_id's tree, under the owner's lock."""
    parent_id, position = goal_in.parent_id, goal_in.position
    near_limit = room_before_create(owner_id=owner_id, max_goals=max_goals)
    with operation(owner_id, kind="create", actor_id=(actor or caller).id) as stamp:
        if owner_id != caller.id:  # decided again under the lock: the share may be gone
            access.placing(caller=caller, parent_id=parent_id)
        session = db.session
        # The goal's timestamps are its operation's, so the tree as of that instant holds it.
        row = new_goal_row(
            owner_id,
            goal_in,
            stamp.at,
            parent_id=parent_id,
            position=position,
            operation_id=stamp.id,
        )
        # At a given position, the siblings after it move down first.
        if position is not None:
            open_slot(owner_id, parent_id, position, stamp.at, stamp.id)
        try:
            inserts = INSERT_WITHIN_LIMIT if near_limit else INSERT
            stmt = inserts[parent_id is None, position is None]
            params = {**row, "max_goals": max_goals} if near_limit else row
            goal = session.connection().execute(stmt, params).first()
        except IntegrityError as exc:
            # The sibling-name index decides, in the same statement, instead of a look-up first.
            if not _is_unique_violation(exc):
                raise
            raise name_taken(goal_in.name, parent_id) from exc
        if goal is None:
            if near_limit and (held := goals_held(owner_id)) >= max_goals:
                raise limit_reached(held=held, adding=1, max_goals=max_goals)
            if parent_id is not None and owner_id == caller.id:
                raise _ParentElsewhere  # rolls the attempt back; create_goal decides
            gone = f"parent goal {parent_id}" if parent_id is not None else f"user {owner_id}"
            raise NotFound(f"{gone} not found")
        # A new manual goal at the top level has no parent and no children for a rule to move.
        if parent_id is not None or goal_in.completion != "manual":
            settle(stamp)
    done = goal.end is not None
    return GoalResult(goal, Stats(done=done, done_leaves=int(done)))


def update_goal(
    *,
    caller: User,
    goal_id: int,
    changes: GoalPatch | GoalPut,
    if_match: EtagCheck = None,
    actor: User | None = None,
) -> GoalResult:
    """Apply changes (a PATCH, or a PUT with every field) under the tree rules.

    Only the fields the client sent change: those in changes.model_fields_set. The caller owns
    the goal or edits it through a share, within which an editor's moves stay; actor: as for
    create_goal.
    """
    sent = changes.model_fields_set
    with access.editing(caller=caller, goal_id=goal_id, kind="update", actor=actor) as (
        grant,
        stamp,
    ):
        owner_id = grant.owner_id
        goal = live_goal(owner_id, goal_id)
        check_etag(goal, if_match)
        start = changes.start if "start" in sent else goal.start
        end = changes.end if "end" in sent else goal.end
        check_times(start, end)
        rule = changes.completion if "completion" in sent else goal.completion
        if rule == "auto" and "end" in sent and end != goal.end:
            raise refuse_explicit_end(name=goal.name)

        new_parent = changes.parent_id if "parent_id" in sent else goal.parent_id
        moved = new_parent != goal.parent_id
        position = changes.position
        reordered = position is not None and position != goal.position
        # Reordering the shared goal moves it among its owner's goals outside the share.
        if moved or (reordered and not grant.is_owner):
            target = None
            if new_parent is not None:
                target = access.readable(caller=caller, goal_id=new_parent, what="parent goal")
            access.refuse_outside(grant, goal_id=goal.id, target=target)
        if moved and new_parent is not None:
            live_goal(owner_id, new_parent, "parent goal")
            check_no_cycle(goal.id, new_parent)
        new_name = changes.name if "name" in sent else goal.name
        if moved or new_name != goal.name:
            check_name_free(owner_id, new_parent, new_name, exclude=goal.id)

        if position is not None and (moved or reordered):
            open_slot(owner_id, new_parent, position, stamp.at, stamp.id)
        elif moved:
            position = next_position(owner_id, new_parent)

        # The slot shift above bypassed the ORM; reload so the in-memory goal is current.
        db.session.refresh(goal)
        goal.parent_id = new_parent
        if position is not None:
            goal.position = position
        goal.name = new_name
        for field in ("description", "start", "due"):
            if field in sent:
                setattr(goal, field, getattr(changes, field))
        goal.end = end
        goal.completion = rule
        goal.version = goal.version + 1
        goal.updated_at = stamp.at
        goal.operation_id = stamp.id
        _flush_names()
        settle(stamp)
        # The rules may have changed the goal itself (an auto goal's end).
        db.session.refresh(goal)
        result = result_of(goal)
    return result


def trash_goal(
    *, caller: User, goal_id: int, retention: timedelta, if_match: EtagCheck = None
) -> None:
    """Move a goal and its whole live subtree to the trash (its owner's).

    The caller owns the goal, or edits a share it is strictly inside. The owner's trashed
    goals older than retention are purged first.
    """
    with access.editing(caller=caller, goal_id=goal_id, kind="trash") as (grant, stamp):
        access.refuse_shared_root(grant, goal_id=goal_id, action="delete")
        session = db.session
        now = stamp.at
        purge_expired_of(grant.owner_id, now - retention)
        goal = live_goal(grant.owner_id, goal_id)
        check_etag(goal, if_match)
        session.execute(
            update(Goal)
            .where(Goal.id.in_(SUBTREE_IDS.on(session.connection())))
            .values(
                deleted_at=now,
                trash_root_id=goal.id,
                version=Goal.version + 1,
                updated_at=now,
                operation_id=stamp.id,
            )
            .execution_options(synchronize_session=False),
            {"root_id": goal.id},
        )
        session.expire(goal)
        settle(stamp)
