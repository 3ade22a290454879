"""Goal rules: ownership, the tree (moves, cycles, order), completion, import and the trash.

Every read of a tree costs a fixed number of queries (recursive CTEs or one scan of the
owner's goals); every structural change runs in a write transaction that holds the owner's
lock, so concurrent moves can never create a cycle.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import partial
from typing import Any, Generic, TypeVar

from flask import current_app
from sqlalchemy import (
    Select,
    and_,
    bindparam,
    case,
    delete,
    func,
    insert,
    literal,
    literal_column,
    or_,
    select,
    text,
    true,
    update,
)
from sqlalchemy.engine import Connection, Row
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import aliased
from sqlalchemy.sql.elements import ColumnClause
from sqlalchemy.sql.selectable import CTE, FromClause

from ..core.db import db, read_transaction
from ..core.errors import CycleConflict, Invalid, NameConflict, NotFound, PreconditionFailed
from ..core.types import utcnow
from ..users.locks import owner_transaction
from ..users.models import User
from .models import Goal
from .tree import Forest, Stats

_S = TypeVar("_S")

# Checks an If-Match header against the current ETag; None when no header was sent.
EtagCheck = Callable[[str], bool] | None

goals = Goal.__table__
LIVE = Goal.deleted_at.is_(None)


@dataclass(slots=True)
class GoalView:
    """A goal with its subtree roll-ups, as every goal endpoint returns it."""

    # A Goal, or (for a plain read) a row of the goals table with the same attribute names.
    goal: Goal | Row[Any]
    stats: Stats

    @property
    def etag(self) -> str:
        """A strong validator of the whole representation (own fields and roll-ups)."""
        s = self.stats
        key = f"{self.goal.id}:{self.goal.version}:{s.children_count}:{s.descendants_count}:"
        key += f"{s.done_descendants_count}:{s.leaves}:{s.done_leaves}"
        return hashlib.blake2b(key.encode(), digest_size=10).hexdigest()

    def as_dict(self) -> dict[str, Any]:
        """Fields of the GoalOut schema."""
        g, s = self.goal, self.stats
        return {
            "id": g.id,
            "parent_id": g.parent_id,
            "name": g.name,
            "description": g.description,
            "start": g.start,
            "end": g.end,
            "due": g.due,
            "position": g.position,
            "created_at": g.created_at,
            "updated_at": g.updated_at,
            "version": g.version,
            "progress": s.progress,
            "children_count": s.children_count,
            "descendants_count": s.descendants_count,
            "done_descendants_count": s.done_descendants_count,
        }


# ---------------------------------------------------------------------------- reads


# Tree reads run prepared Core statements: building an ORM statement per request costs more
# than running it, and rows of plain columns need no ORM loading.
_ZERO: ColumnClause[Any] = literal_column("0")
_ONE: ColumnClause[Any] = literal_column("1")
# Rows are fetched from the database in batches this big (a server-side cursor on PostgreSQL),
# so reading a forest never holds every row object at once.
_STREAM_ROWS = 4096


def _flag(condition: Any) -> Any:
    return case((condition, _ONE), else_=_ZERO)


def _step(
    walked: CTE, link: Callable[[Any], Any], lateral: bool, live: bool = True
) -> tuple[FromClause, Any]:
    """The FROM clause of a tree walk's recursive step, and the columns of the goals it reaches.

    link(step) relates a reached goal to a walked one (its child, or its parent); live keeps
    only goals outside the trash. With lateral (PostgreSQL), each walked goal's next goals are
    looked up by index, one walked goal at a time: a LATERAL subquery that OFFSET 0 keeps the
    planner from flattening. Joined as a whole, PostgreSQL hashes the entire goals table at
    every level whenever its statistics make a step look big, as they do on a table of a few
    thousand goals: each single read then scans the table once per level of the subtree.
    SQLite has no LATERAL, and needs none: its planner seeks the index for each walked goal.
    """
    step = goals.alias("step")
    condition = link(step)
    if live:
        condition = and_(condition, step.c.deleted_at.is_(None))
    if not lateral:
        return walked.join(step, condition), step.c
    fenced = select(step).where(condition).offset(0).lateral("step")
    return walked.join(fenced, true()), fenced.c


class _ByDialect(Generic[_S]):
    """A statement built once in each form of _step, chosen by the connection it runs on:
    the LATERAL one on PostgreSQL."""

    def __init__(self, build: Callable[[bool], _S]) -> None:
        self._forms = (build(False), build(True))

    def on(self, conn: Connection) -> _S:
        """The form for this connection's database."""
        return self._forms[conn.dialect.name == "postgresql"]


def _subtree_ids_statement(lateral: bool) -> Select[Any]:
    """Ids of the live subtree under :root_id, the root included."""
    sub = select(goals.c.id).where(goals.c.id == bindparam("root_id")).cte("sub", recursive=True)
    children, child = _step(sub, lambda step: step.c.parent_id == sub.c.id, lateral)
    return select(sub.union_all(select(child.id).select_from(children)).c.id)


def _subtree_statement(lateral: bool) -> Select[Any]:
    """The live subtree under :root_id, the root included, children grouped in sibling order."""
    names = ("id", "parent_id", "name", "end", "due", "position")
    sub = (
        select(*(goals.c[n] for n in names))
        .where(goals.c.id == bindparam("root_id"))
        .cte("sub", recursive=True)
    )
    children, child = _step(sub, lambda step: step.c.parent_id == sub.c.id, lateral)
    sub = sub.union_all(select(*(child[n] for n in names)).select_from(children))
    return select(sub.c.id, sub.c.parent_id, sub.c.name, sub.c.end, sub.c.due).order_by(
        sub.c.parent_id, sub.c.position, sub.c.id
    )


def _stats_statement(roots: Any, lateral: bool) -> Select[Any]:
    """Roll-ups of each goal that `roots` selects, aggregated by the database: one row per root.

    The recursive walk carries, per goal, its level (0 root, 1 child, 2 deeper), its parent,
    whether it is done, and whether a goal above it (up to the root) is done. A goal is a leaf
    unless it is some walked goal's parent, so leaves = goals - distinct parents; a leaf counts
    as done when it or a goal above it is done, and a parent's own flag is its children's
    `under_done`, so done leaves = flagged goals - distinct parents of under_done children.
    """
    sub = (
        select(
            goals.c.id.label("root"),
            goals.c.id,
            goals.c.parent_id,
            _ZERO.label("level"),
            _flag(goals.c.end.is_not(None)).label("done"),
            _ZERO.label("under_done"),
        )
        .where(roots)
        .cte("stats_sub", recursive=True)
    )
    children, child = _step(sub, lambda step: step.c.parent_id == sub.c.id, lateral)
    sub = sub.union_all(
        select(
            sub.c.root,
            child.id,
            child.parent_id,
            case((sub.c.level == 0, _ONE), else_=literal_column("2")),
            _flag(child.end.is_not(None)),
            _flag(sub.c.done + sub.c.under_done > 0),
        ).select_from(children)
    )
    below = sub.c.level > 0
    parents = func.count(case((below, sub.c.parent_id)).distinct())
    flagged_parents = func.count(
        case((and_(below, sub.c.under_done == 1), sub.c.parent_id)).distinct()
    )
    return select(
        sub.c.root,
        func.sum(_flag(sub.c.level == 1)).label("children_count"),
        func.sum(_flag(below)).label("descendants_count"),
        func.sum(case((below, sub.c.done), else_=_ZERO)).label("done_descendants_count"),
        (func.count() - parents).label("leaves"),
        (func.sum(_flag(sub.c.done + sub.c.under_done > 0)) - flagged_parents).label("done_leaves"),
        func.max(case((sub.c.level == 0, sub.c.done), else_=_ZERO)).label("done"),
    ).group_by(sub.c.root)


def _goal_statement(lateral: bool) -> Select[Any]:
    """One live goal of one owner with its roll-ups: a single query for a single read."""
    one = and_(
        goals.c.id == bindparam("goal_id"),
        goals.c.owner_id == bindparam("owner_id"),
        goals.c.deleted_at.is_(None),
    )
    rollup = _stats_statement(one, lateral).subquery("rollup")
    # The goal's own row is looked up by its key too: joined on rollup.root alone, PostgreSQL
    # may expect many roll-up rows and hash-join a scan of the whole goals table.
    return (
        select(goals, *list(rollup.c)[1:])
        .join(rollup, rollup.c.root == goals.c.id)
        .where(goals.c.id == bindparam("goal_id"))
    )


def _stats_of(row: Any) -> Stats:
    return Stats(
        children_count=int(row.children_count),
        descendants_count=int(row.descendants_count),
        done_descendants_count=int(row.done_descendants_count),
        leaves=int(row.leaves),
        done_leaves=int(row.done_leaves),
        done=bool(row.done),
    )


_FOREST = (
    select(goals.c.id, goals.c.parent_id, goals.c.name, goals.c.end, goals.c.due)
    .where(goals.c.owner_id == bindparam("owner_id"), goals.c.deleted_at.is_(None))
    # Each parent's children together, in sibling order: what Forest.from_grouped reads.
    .order_by(goals.c.parent_id, goals.c.position, goals.c.id)
    .execution_options(yield_per=_STREAM_ROWS)
)
_SUBTREE = _ByDialect(
    lambda lateral: _subtree_statement(lateral).execution_options(yield_per=_STREAM_ROWS)
)
_STATS = _ByDialect(
    partial(_stats_statement, goals.c.id.in_(bindparam("root_ids", expanding=True)))
)
_GOAL = _ByDialect(_goal_statement)
_SUBTREE_IDS = _ByDialect(_subtree_ids_statement)
_FIND_LIVE = select(Goal).where(
    Goal.id == bindparam("goal_id"), Goal.owner_id == bindparam("owner_id"), LIVE
)


def stats_for(root_ids: Sequence[int]) -> dict[int, Stats]:
    """Roll-ups of each goal in root_ids (which must be live goals): one query."""
    if not root_ids:
        return {}
    conn = db.session.connection()
    rows = conn.execute(_STATS.on(conn), {"root_ids": list(root_ids)})
    return {row.root: _stats_of(row) for row in rows}


def _find_live(owner_id: int, goal_id: int) -> Goal | None:
    return db.session.execute(
        _FIND_LIVE, {"goal_id": goal_id, "owner_id": owner_id}
    ).scalar_one_or_none()


def _live_goal(owner_id: int, goal_id: int, what: str = "goal") -> Goal:
    """One of the owner's live goals; anything else (someone else's too) is NotFound."""
    goal = _find_live(owner_id, goal_id)
    if goal is None:
        raise NotFound(f"{what} {goal_id} not found")
    return goal


def _view(goal: Goal) -> GoalView:
    return GoalView(goal, stats_for([goal.id])[goal.id])


def get_goal(owner: User, goal_id: int) -> GoalView:
    """One of the owner's live goals, with roll-ups: one query, no ORM object."""
    conn = db.session.connection()
    row = conn.execute(_GOAL.on(conn), {"goal_id": goal_id, "owner_id": owner.id}).first()
    if row is None:
        raise NotFound(f"goal {goal_id} not found")
    return GoalView(row, _stats_of(row))


_SORT_COLUMNS = {
    "position": Goal.position,
    "name": Goal.name,
    "start": Goal.start,
    "end": Goal.end,
    "due": Goal.due,
    "created": Goal.created_at,
}


@dataclass(slots=True)
class ListFilter:
    """Filters and paging of the flat list."""

    parent: str | None = None
    status: str = "all"
    q: str | None = None
    due_before: datetime | None = None
    due_after: datetime | None = None
    sort: str = "position"
    offset: int = 0
    limit: int = 50


def list_goals(owner: User, f: ListFilter) -> tuple[list[GoalView], int]:
    """A page of the owner's live goals, and how many match in all."""
    read_transaction()  # the count, the page and its roll-ups from one snapshot
    stmt: Select[Any] = select(Goal).where(Goal.owner_id == owner.id, LIVE)
    if f.parent == "root":
        stmt = stmt.where(Goal.parent_id.is_(None))
    elif f.parent is not None:
        parent = _live_goal(owner.id, int(f.parent))
        stmt = stmt.where(Goal.parent_id == parent.id)
    if f.status == "open":
        stmt = stmt.where(Goal.end.is_(None))
    elif f.status == "done":
        stmt = stmt.where(Goal.end.is_not(None))
    if f.q:
        stmt = stmt.where(
            or_(
                Goal.name.icontains(f.q, autoescape=True),
                Goal.description.icontains(f.q, autoescape=True),
            )
        )
    if f.due_before is not None:
        stmt = stmt.where(Goal.due < f.due_before)
    if f.due_after is not None:
        stmt = stmt.where(Goal.due >= f.due_after)
    total = db.session.execute(select(func.count()).select_from(stmt.subquery())).scalar_one()
    column = _SORT_COLUMNS[f.sort.lstrip("-")]
    order = column.desc() if f.sort.startswith("-") else column.asc()
    id_order = Goal.id.desc() if f.sort.startswith("-") else Goal.id.asc()
    page = (
        db.session.execute(
            stmt.order_by(order.nulls_last(), id_order).offset(f.offset).limit(f.limit)
        )
        .scalars()
        .all()
    )
    stats = stats_for([g.id for g in page])
    # PostgreSQL reads each statement at its own moment (READ COMMITTED): a goal purged between
    # the page and its roll-ups is left out, as if the page had been read a moment later.
    return [GoalView(g, stats[g.id]) for g in page if g.id in stats], total


def forest(owner: User) -> Forest:
    """The owner's whole live forest, read with one query."""
    read_transaction()  # streamed with a server-side cursor on PostgreSQL
    rows = db.session.connection().execute(_FOREST, {"owner_id": owner.id})
    return Forest.from_grouped(rows)


def subtree(owner: User, goal_id: int) -> Forest:
    """The live subtree rooted at one of the owner's goals: two queries."""
    read_transaction()
    root = _live_goal(owner.id, goal_id)
    conn = db.session.connection()
    rows = conn.execute(_SUBTREE.on(conn), {"root_id": root.id})
    return Forest.from_grouped(rows, roots=[root.id])


# ---------------------------------------------------------------------------- writes


def _check_etag(goal: Goal, if_match: EtagCheck) -> None:
    if if_match is None:
        return
    view = _view(goal)
    if not if_match(view.etag):
        raise PreconditionFailed(
            f"goal {view.goal.id} has changed since you read it; read it again and retry",
            current_etag=f'"{view.etag}"',
        )


def _check_times(start: datetime, end: datetime | None) -> None:
    if end is not None and end < start:
        raise Invalid(
            "a goal cannot end before it starts",
            [{"loc": ["body", "end"], "msg": "must not be before start"}],
        )


# Phrased like the unique index on (owner_id, coalesce(parent_id, 0), name): one index seek.
_NAME_TAKEN = (
    select(goals.c.id)
    .where(
        goals.c.owner_id == bindparam("owner_id"),
        goals.c.deleted_at.is_(None),
        func.coalesce(goals.c.parent_id, _ZERO) == bindparam("parent"),
        goals.c.name == bindparam("name"),
        goals.c.id != bindparam("exclude"),
    )
    .limit(1)
)


def _next_position_statement(top: bool) -> Select[Any]:
    """The position after the last live sibling (top-level ones, or one parent's children).

    0 for a first child; saturates at POSITION_LIMIT. Run alone, or as the position of an
    INSERT. The last sibling is the first live one of a backward walk down ix_goals_owner_tree,
    ordered by all its columns: PostgreSQL does not see a `parent_id IS NULL` range as ordered
    by position, so a max(position) of top-level goals read every one of them.
    """
    last_sibling = (
        select(goals.c.position)
        .where(
            goals.c.owner_id == bindparam("sibling_owner"),
            goals.c.parent_id.is_(None) if top else goals.c.parent_id == bindparam("sibling_of"),
            goals.c.deleted_at.is_(None),
        )
        .order_by(
            goals.c.owner_id.desc(),
            goals.c.parent_id.desc(),
            goals.c.position.desc(),
            goals.c.id.desc(),
        )
        .limit(1)
        .subquery("last_sibling")
    )
    last = func.max(last_sibling.c.position)  # NULL when there is none
    return select(
        case((last >= POSITION_LIMIT, POSITION_LIMIT), else_=func.coalesce(last + 1, 0))
    ).select_from(last_sibling)


def _name_taken(name: str, parent_id: int | None) -> NameConflict:
    where = "at the top level" if parent_id is None else f"under goal {parent_id}"
    return NameConflict(f"a goal named {name!r} already exists {where}")


def _check_name_free(
    owner_id: int, parent_id: int | None, name: str, exclude: int | None = None
) -> None:
    params = {"owner_id": owner_id, "parent": parent_id or 0, "name": name, "exclude": exclude or 0}
    if db.session.execute(_NAME_TAKEN, params).first() is not None:
        raise _name_taken(name, parent_id)


def _siblings(owner_id: int, parent_id: int | None) -> Any:
    return and_(
        Goal.owner_id == owner_id,
        LIVE,
        Goal.parent_id.is_(None) if parent_id is None else Goal.parent_id == parent_id,
    )


# The largest position a client may set, and PostgreSQL's INTEGER column may hold. Positions
# saturate there instead of overflowing (a 500 on PostgreSQL); siblings that share a position
# keep their order by id.
POSITION_LIMIT = 2**31 - 1
_NEXT_POSITION = {top: _next_position_statement(top) for top in (True, False)}


def _next_position(owner_id: int, parent_id: int | None) -> int:
    params = {"sibling_owner": owner_id, "sibling_of": parent_id}
    return int(db.session.execute(_NEXT_POSITION[parent_id is None], params).scalar_one())


def _open_slot(owner_id: int, parent_id: int | None, position: int, now: datetime) -> None:
    """Shift siblings at or after position one place down, to make room."""
    shifted = case((Goal.position < POSITION_LIMIT, Goal.position + 1), else_=Goal.position)
    db.session.execute(
        update(Goal)
        .where(_siblings(owner_id, parent_id), Goal.position >= position)
        .values(position=shifted, version=Goal.version + 1, updated_at=now)
        .execution_options(synchronize_session=False)
    )


def _ancestors_statement(lateral: bool) -> Select[Any]:
    """Ids from :start_id up through its ancestors, stopping at :goal_id if met, nearest first."""
    anc = (
        select(goals.c.id, goals.c.parent_id, literal(0).label("depth"))
        .where(goals.c.id == bindparam("start_id"))
        .cte("anc", recursive=True)
    )
    parents, parent = _step(
        anc,
        lambda step: and_(step.c.id == anc.c.parent_id, anc.c.id != bindparam("goal_id")),
        lateral,
        live=False,
    )
    anc = anc.union_all(select(parent.id, parent.parent_id, anc.c.depth + 1).select_from(parents))
    return select(anc.c.id).order_by(anc.c.depth)


_ANCESTORS = _ByDialect(_ancestors_statement)


def _ancestor_path(goal_id: int, start_id: int) -> list[int]:
    """Ids from start_id up through its ancestors, stopping at goal_id if met: one query."""
    conn = db.session.connection()
    params = {"goal_id": goal_id, "start_id": start_id}
    return list(conn.execute(_ANCESTORS.on(conn), params).scalars())


def _check_no_cycle(goal_id: int, new_parent_id: int) -> None:
    path = _ancestor_path(goal_id, new_parent_id)
    if goal_id in path:
        chain = list(reversed(path[: path.index(goal_id) + 1]))
        raise CycleConflict(
            f"goal {new_parent_id} is inside goal {goal_id}; a goal cannot be moved under itself",
            path=chain,
        )


def _flush_names() -> None:
    """Flush, turning a unique-name violation that slipped past the check into a 409."""
    try:
        db.session.flush()
    except IntegrityError as exc:
        raise NameConflict("a sibling goal already has that name") from exc


# The fields of a new goal, bound from create_goal's row; its position comes last.
_NEW_FIELDS = (
    "owner_id",
    "parent_id",
    "name",
    "description",
    "start",
    "end",
    "due",
    "created_at",
    "updated_at",
    "version",
)


def _insert_statement(top: bool, auto_position: bool) -> Any:
    """INSERT one goal and return its row, if its live parent (or, at the top, its owner) exists.

    One statement checks what the goal stands on, and returns no row when that is gone; its
    position, unless given, follows its last sibling, computed by the database.
    """
    users = User.__table__
    stands_on = (
        select(users.c.id).where(users.c.id == bindparam("owner_id"))
        if top
        else select(goals.c.id).where(
            goals.c.id == bindparam("parent_id"),
            goals.c.owner_id == bindparam("owner_id"),
            goals.c.deleted_at.is_(None),
        )
    )
    position: Any = bindparam("position", type_=goals.c.position.type)
    if auto_position:
        position = _NEXT_POSITION[top].scalar_subquery()
    values = [bindparam(name, type_=goals.c[name].type) for name in _NEW_FIELDS]
    new = select(*values, position).where(stands_on.exists())
    return insert(goals).from_select([*_NEW_FIELDS, "position"], new).returning(*goals.c)


_INSERT = {
    (top, auto): _insert_statement(top, auto) for top in (True, False) for auto in (True, False)
}


def _is_unique_violation(exc: IntegrityError) -> bool:
    # PostgreSQL names the condition by SQLSTATE; SQLite only in its message.
    return getattr(exc.orig, "sqlstate", None) == "23505" or "UNIQUE" in str(exc.orig)


def _new_goal_row(owner_id: int, data: dict[str, Any], now: datetime) -> dict[str, Any]:
    """The parameters of _INSERT for a new goal of these fields, created now."""
    parent_id = data.get("parent_id")
    return {
        "owner_id": owner_id,
        "parent_id": parent_id,
        "name": data["name"],
        "description": data.get("description") or "",
        "start": data.get("start") or now,
        "end": data.get("end"),
        "due": data.get("due"),
        "created_at": now,
        "updated_at": now,
        "version": 1,
        "sibling_owner": owner_id,
        "sibling_of": parent_id,
        "position": data.get("position"),
    }


def create_goal(owner: User, data: dict[str, Any]) -> GoalView:
    """Create a goal (under a parent of the same owner, or at the top level)."""
    now = utcnow()
    row = _new_goal_row(owner.id, data, now)
    _check_times(row["start"], row["end"])
    parent_id, name, position = row["parent_id"], row["name"], row["position"]
    # At the end of its siblings, a create is one statement, which SQLite runs as a transaction
    # of its own; at a given position, the siblings after it move down first.
    with owner_transaction(owner.id, single_statement=position is None) as session:
        if position is not None:
            _open_slot(owner.id, parent_id, position, now)
        try:
            stmt = _INSERT[parent_id is None, position is None]
            goal = session.connection().execute(stmt, row).first()
        except IntegrityError as exc:
            # The sibling-name index decides, in the same statement, instead of a look-up first.
            if not _is_unique_violation(exc):
                raise
            raise _name_taken(name, parent_id) from exc
        if goal is None:
            gone = f"parent goal {parent_id}" if parent_id is not None else f"user {owner.id}"
            raise NotFound(f"{gone} not found")
    done = goal.end is not None
    return GoalView(goal, Stats(done=done, done_leaves=int(done)))


_WRITABLE = ("name", "description", "parent_id", "position", "start", "end", "due")


def update_goal(
    owner: User, goal_id: int, changes: dict[str, Any], if_match: EtagCheck = None
) -> GoalView:
    """Apply changes (a PATCH, or a PUT with every field) under the tree rules."""
    unknown = set(changes) - set(_WRITABLE)
    if unknown:
        raise Invalid(f"not writable: {', '.join(sorted(unknown))}")
    for field in ("name", "start", "description"):
        if field in changes and changes[field] is None:
            raise Invalid(
                f"{field} cannot be null", [{"loc": ["body", field], "msg": "cannot be null"}]
            )
    now = utcnow()
    with owner_transaction(owner.id):
        goal = _live_goal(owner.id, goal_id)
        _check_etag(goal, if_match)
        start = changes.get("start", goal.start)
        end = changes.get("end", goal.end)
        _check_times(start, end)

        new_parent = changes.get("parent_id", goal.parent_id)
        moved = new_parent != goal.parent_id
        if moved and new_parent is not None:
            _live_goal(owner.id, new_parent, "parent goal")
            _check_no_cycle(goal.id, new_parent)
        new_name = changes.get("name", goal.name)
        if moved or new_name != goal.name:
            _check_name_free(owner.id, new_parent, new_name, exclude=goal.id)

        position = changes.get("position")
        if position is not None and (moved or position != goal.position):
            _open_slot(owner.id, new_parent, position, now)
        elif moved:
            position = _next_position(owner.id, new_parent)

        # The slot shift above bypassed the ORM; reload so the in-memory goal is current.
        db.session.refresh(goal)
        goal.parent_id = new_parent
        if position is not None:
            goal.position = position
        goal.name = new_name
        for field in ("description", "start", "due"):
            if field in changes:
                setattr(goal, field, changes[field])
        goal.end = end
        goal.version = goal.version + 1
        goal.updated_at = now
        _flush_names()
        view = _view(goal)
    return view


def trash_goal(owner: User, goal_id: int, if_match: EtagCheck = None) -> None:
    """Move a goal and its whole live subtree to the trash."""
    now = utcnow()
    with owner_transaction(owner.id) as session:
        _purge_expired(owner.id, now)
        goal = _live_goal(owner.id, goal_id)
        _check_etag(goal, if_match)
        session.execute(
            update(Goal)
            .where(Goal.id.in_(_SUBTREE_IDS.on(session.connection())))
            .values(deleted_at=now, trash_root_id=goal.id, version=Goal.version + 1, updated_at=now)
            .execution_options(synchronize_session=False),
            {"root_id": goal.id},
        )
        session.expire(goal)


# ---------------------------------------------------------------------------- import


@dataclass(slots=True)
class ImportedNode:
    """One validated node of an import, with its place in the payload."""

    fields: dict[str, Any]
    parent: int | None  # index of the parent node in the pre-order list, None for a top node
    position: int


_PLANNER_ROWS = text("SELECT reltuples FROM pg_class WHERE oid = 'goals'::regclass")


def import_trees(owner: User, nodes: Sequence[ImportedNode], parent_id: int | None) -> list[int]:
    """Create validated nodes (given in pre-order) in one transaction; returns their ids."""
    now = utcnow()
    for node in nodes:
        node.fields.setdefault("start", None)
        if node.fields["start"] is None:
            node.fields["start"] = now
    with owner_transaction(owner.id) as session:
        if parent_id is not None:
            _live_goal(owner.id, parent_id, "parent goal")
        tops = [n for n in nodes if n.parent is None]
        existing = set(
            session.execute(select(Goal.name).where(_siblings(owner.id, parent_id))).scalars()
        )
        clash = sorted({n.fields["name"] for n in tops} & existing)
        if clash:
            where = "at the top level" if parent_id is None else f"under goal {parent_id}"
            raise NameConflict(f"goals named {', '.join(map(repr, clash))} already exist {where}")
        base = _next_position(owner.id, parent_id)

        # Insert one depth level at a time: each level's parents already have their ids.
        depth = [0] * len(nodes)
        for i, node in enumerate(nodes):
            depth[i] = 0 if node.parent is None else depth[node.parent] + 1
        ids: list[int] = [0] * len(nodes)
        levels: dict[int, list[int]] = {}
        for i, d in enumerate(depth):
            levels.setdefault(d, []).append(i)
        for d in sorted(levels):
            members = levels[d]
            params = []
            for i in members:
                node = nodes[i]
                params.append(
                    {
                        "owner_id": owner.id,
                        "parent_id": parent_id if node.parent is None else ids[node.parent],
                        "name": node.fields["name"],
                        "description": node.fields.get("description") or "",
                        "start": node.fields["start"],
                        "end": node.fields.get("end"),
                        "due": node.fields.get("due"),
                        "position": (
                            min(base + node.position, POSITION_LIMIT)
                            if node.parent is None
                            else node.position
                        ),
                        "created_at": now,
                        "updated_at": now,
                        "version": 1,
                    }
                )
            try:
                result = session.execute(
                    insert(Goal).returning(Goal.id, sort_by_parameter_order=True), params
                )
            except IntegrityError as exc:
                raise NameConflict("two imported siblings share a name") from exc
            for i, new_id in zip(members, result.scalars().all(), strict=True):
                ids[i] = new_id
        _refresh_statistics(session, len(nodes))
    return ids


# The smallest import after which PostgreSQL's planner statistics are refreshed at once.
ANALYZE_AFTER = 1000


def _refresh_statistics(session: Any, added: int) -> None:
    """Re-analyze the goals table after an import that is a large part of it (PostgreSQL).

    Autovacuum catches up within a minute or so; until then the planner takes the table for
    the size it was, and may walk a deep tree with a scan of the table per level (seconds for
    a 10 000-deep chain instead of milliseconds).
    """
    if added < ANALYZE_AFTER or session.get_bind().dialect.name != "postgresql":
        return
    known = session.execute(_PLANNER_ROWS).scalar()
    if known is None or known < 0 or added * 10 >= known:  # -1: never analyzed
        session.execute(text("ANALYZE goals"))


# ---------------------------------------------------------------------------- trash


def _retention() -> timedelta:
    return timedelta(days=int(current_app.config["TRASH_RETENTION_DAYS"]))


def _delete_trashed(doomed: Callable[[Any], Any]) -> int:
    """Delete the trashed goals that doomed(entity) selects; returns how many went.

    A separately trashed child of a goal that goes stays in the trash, detached (it is
    restored at the top level). The parent key has no ON DELETE action: a SET NULL would
    make live children top-level one row at a time and trip the sibling-name index.
    """
    gone = aliased(Goal)
    gone_ids = select(gone.id).where(doomed(gone))
    db.session.execute(
        update(Goal)
        .where(Goal.parent_id.in_(gone_ids), Goal.deleted_at.is_not(None), ~doomed(Goal))
        .values(parent_id=None)
        .execution_options(synchronize_session=False)
    )
    result = db.session.execute(
        delete(Goal).where(doomed(Goal)).execution_options(synchronize_session=False)
    )
    return int(result.rowcount or 0)  # type: ignore[attr-defined]


def _purge_expired(owner_id: int, now: datetime) -> int:
    cutoff = now - _retention()

    def expired(g: Any) -> Any:
        return and_(g.owner_id == owner_id, g.trash_root_id.is_not(None), g.deleted_at < cutoff)

    return _delete_trashed(expired)


def purge_expired() -> int:
    """Purge every trashed goal older than the retention period (for cron); returns the count."""
    now = utcnow()
    owners = (
        db.session.execute(
            select(Goal.owner_id)
            .where(Goal.trash_root_id.is_not(None), Goal.deleted_at < now - _retention())
            .distinct()
        )
        .scalars()
        .all()
    )
    purged = 0
    for owner_id in owners:
        # Owner by owner, under each owner's lock, like every other change to a tree: a restore
        # racing the purge waits for it (and then finds the goal gone) instead of failing.
        try:
            with owner_transaction(owner_id):
                purged += _purge_expired(owner_id, now)
        except NotFound:
            continue  # the account was deleted meanwhile, and its goals with it
    return purged


def _trash_statement() -> Select[Any]:
    """The owner's trashed roots since :cutoff, each with the size of its subtree.

    Joined root to members (each member found once, by its index), not to a grouped subquery:
    a planner that misjudges the trash's size then still does linear work.
    """
    root, member = goals.alias("root"), goals.alias("member")
    return (
        select(root.c.id, root.c.name, root.c.parent_id, root.c.deleted_at, func.count())
        .join(member, member.c.trash_root_id == root.c.id)
        .where(
            root.c.owner_id == bindparam("owner_id"),
            root.c.trash_root_id == root.c.id,
            root.c.deleted_at >= bindparam("cutoff"),
        )
        .group_by(root.c.id, root.c.name, root.c.parent_id, root.c.deleted_at)
        .order_by(root.c.deleted_at.desc(), root.c.id.desc())
    )


_TRASH = _trash_statement()


def list_trash(owner: User) -> list[dict[str, Any]]:
    """The owner's trashed subtrees that have not expired, newest first."""
    retention = _retention()
    cutoff = utcnow() - retention
    rows = db.session.execute(_TRASH, {"owner_id": owner.id, "cutoff": cutoff})
    return [
        {
            "id": r[0],
            "name": r[1],
            "parent_id": r[2],
            "deleted_at": r[3],
            "purge_at": r[3] + retention,
            "goals_count": r[4],
        }
        for r in rows
    ]


def _trash_root(owner: User, goal_id: int) -> Goal:
    goal = db.session.execute(
        select(Goal).where(
            Goal.id == goal_id,
            Goal.owner_id == owner.id,
            Goal.trash_root_id == goal_id,
        )
    ).scalar_one_or_none()
    if goal is None:
        raise NotFound(f"goal {goal_id} is not in the trash")
    return goal


def restore(owner: User, goal_id: int) -> GoalView:
    """Put a trashed subtree back with the same ids: under its parent if live, else at the top."""
    now = utcnow()
    with owner_transaction(owner.id) as session:
        _purge_expired(owner.id, now)
        root = _trash_root(owner, goal_id)
        parent_id = root.parent_id
        if parent_id is not None and _find_live(owner.id, parent_id) is None:
            parent_id = None
        _check_name_free(owner.id, parent_id, root.name, exclude=root.id)
        session.execute(
            update(Goal)
            .where(Goal.trash_root_id == root.id, Goal.owner_id == owner.id)
            .values(deleted_at=None, trash_root_id=None, version=Goal.version + 1, updated_at=now)
            .execution_options(synchronize_session=False)
        )
        if parent_id != root.parent_id:
            session.execute(
                update(Goal)
                .where(Goal.id == root.id)
                .values(parent_id=parent_id, position=_next_position(owner.id, parent_id))
                .execution_options(synchronize_session=False)
            )
        session.refresh(root)
        view = _view(root)
    return view


def purge(owner: User, goal_id: int) -> None:
    """Delete a trashed subtree for good."""
    with owner_transaction(owner.id) as session:
        root = _trash_root(owner, goal_id)
        root_id = root.id
        session.expunge(root)
        _delete_trashed(lambda g: and_(g.trash_root_id == root_id, g.owner_id == owner.id))


def bulk_create_chain(owner: User, names: Iterable[str]) -> list[int]:
    """Create a chain of goals, each under the previous one (demo data, tests of depth)."""
    nodes = [ImportedNode({"name": n}, i - 1 if i else None, 0) for i, n in enumerate(names)]
    return import_trees(owner, nodes, None)
