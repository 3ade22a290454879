"""The goal statements, built once: tree walks, roll-ups, look-ups, positions, insert, trash.

Tree reads run prepared Core statements: building an ORM statement per request costs more
than running it, and rows of plain columns need no ORM loading. A statement that walks a
tree comes in two forms, one per database (see `_step`), chosen by the connection it runs on.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import partial
from typing import Any, Generic, TypeVar

from sqlalchemy import (
    Select,
    and_,
    bindparam,
    case,
    func,
    insert,
    literal,
    literal_column,
    null,
    select,
    text,
    true,
    union_all,
)
from sqlalchemy.engine import Connection
from sqlalchemy.orm import aliased
from sqlalchemy.sql.elements import ColumnClause
from sqlalchemy.sql.selectable import CTE, CompoundSelect, FromClause, Subquery

from ..core.types import MAX_POSITION
from ..users.models import User
from .models import LIVE, Goal
from .tree import Stats

_S = TypeVar("_S")

goal_table = Goal.__table__

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
    reached = goal_table.alias("step")
    if not lateral:
        condition = link(reached)
        if live:
            condition = and_(condition, reached.c.deleted_at.is_(None))
        return walked.join(reached, condition), reached.c
    fenced = select(reached).where(link(reached)).offset(0).lateral("step")
    return walked.join(fenced, fenced.c.deleted_at.is_(None) if live else true()), fenced.c


class ByDialect(Generic[_S]):
    """A statement built once in each form of _step, chosen by the connection it runs on:
    the LATERAL one on PostgreSQL."""

    def __init__(self, build: Callable[[bool], _S]) -> None:
        self._forms = (build(False), build(True))

    def on(self, conn: Connection) -> _S:
        """The form for this connection's database."""
        return self._forms[conn.dialect.name == "postgresql"]

    def form(self, lateral: bool) -> _S:
        """The LATERAL form (PostgreSQL's) or the other."""
        return self._forms[lateral]


def _by_id(name: str) -> Subquery:
    """The goal whose id is :name, looked up by its key alone, behind an OFFSET 0 fence.

    Given the owner and trash conditions beside the id, PostgreSQL without statistics (a new
    or just restored table) weighs the partial sibling-name index, which also holds owner_id
    and implies deleted_at IS NULL, as cheap as the key, and may read the owner's every goal
    in it to find one. The conditions go outside the fence, on the one row found.
    """
    return (
        select(goal_table)
        .where(goal_table.c.id == bindparam(name))
        .offset(0)
        .subquery(name.removesuffix("_id"))
    )


# ---------------------------------------------------------------------------- tree walks


def _subtree_ids_statement(lateral: bool) -> Select[Any]:
    """Ids of the live subtree under :root_id, the root included."""
    sub = (
        select(goal_table.c.id)
        .where(goal_table.c.id == bindparam("root_id"))
        .cte("sub", recursive=True)
    )
    children, child = _step(sub, lambda reached: reached.c.parent_id == sub.c.id, lateral)
    return select(sub.union_all(select(child.id).select_from(children)).c.id)


def _subtree_statement(lateral: bool) -> Select[Any]:
    """The live subtree under :root_id, the root included, children grouped in sibling order."""
    names = ("id", "parent_id", "name", "end", "due", "completion", "position")
    sub = (
        select(*(goal_table.c[n] for n in names))
        .where(goal_table.c.id == bindparam("root_id"))
        .cte("sub", recursive=True)
    )
    children, child = _step(sub, lambda reached: reached.c.parent_id == sub.c.id, lateral)
    sub = sub.union_all(select(*(child[n] for n in names)).select_from(children))
    return select(
        sub.c.id, sub.c.parent_id, sub.c.name, sub.c.end, sub.c.due, sub.c.completion
    ).order_by(sub.c.parent_id, sub.c.position, sub.c.id)


def _subtree_outline_statement(lateral: bool) -> Select[Any]:
    """(id, parent_id, done) of the live subtree under :root_id, the root included, each
    parent's children together in sibling order, parents in id order."""
    names = ("id", "parent_id", "end", "position")
    sub = (
        select(*(goal_table.c[n] for n in names))
        .where(goal_table.c.id == bindparam("root_id"))
        .cte("outline", recursive=True)
    )
    children, child = _step(sub, lambda reached: reached.c.parent_id == sub.c.id, lateral)
    sub = sub.union_all(select(*(child[n] for n in names)).select_from(children))
    return select(sub.c.id, sub.c.parent_id, _flag(sub.c.end.is_not(None))).order_by(
        sub.c.parent_id, sub.c.position, sub.c.id
    )


def _subtree_spans_statement(lateral: bool) -> Select[Any]:
    """(id, parent_id, start, end) of the live subtree under :root_id, if that goal is a live
    goal of :owner_id (no rows otherwise), in no particular order: what a burn-up counts."""
    names = ("id", "parent_id", "start", "end")
    source = _by_id("root_id") if lateral else goal_table
    sub = (
        select(*(source.c[n] for n in names))
        .where(
            source.c.id == bindparam("root_id"),
            source.c.owner_id == bindparam("owner_id"),
            source.c.deleted_at.is_(None),
        )
        .cte("spans", recursive=True)
    )
    children, child = _step(sub, lambda reached: reached.c.parent_id == sub.c.id, lateral)
    sub = sub.union_all(select(*(child[n] for n in names)).select_from(children))
    return select(*(sub.c[n] for n in names))


def _stats_walk(roots: Any, lateral: bool, stop_at: Any = None, source: Any = goal_table) -> CTE:
    """The walk that roll-ups are summed over: the live subtree of each goal `roots` selects
    (from source: the goals table, or a goal found by _by_id).

    Each row carries its walk's root, its level (0 root, 1 child, 2 deeper), its parent,
    whether it is done, and whether a goal above it (up to the root) is done. With stop_at (a
    condition on a reached goal), a reached goal that meets it is marked `stop` and not walked
    on from: it is a root of its own walk, whose rows are not repeated under this one.
    """
    sub = (
        select(
            source.c.id.label("root"),
            source.c.id,
            source.c.parent_id,
            _ZERO.label("level"),
            _flag(source.c.end.is_not(None)).label("done"),
            _ZERO.label("under_done"),
            *([] if stop_at is None else [_ZERO.label("stop")]),
        )
        .where(roots)
        .cte("stats_sub", recursive=True)
    )

    def link(reached: Any) -> Any:
        below = reached.c.parent_id == sub.c.id
        return below if stop_at is None else and_(below, sub.c.stop == 0)

    children, child = _step(sub, link, lateral)
    return sub.union_all(
        select(
            sub.c.root,
            child.id,
            child.parent_id,
            case((sub.c.level == 0, _ONE), else_=literal_column("2")),
            _flag(child.end.is_not(None)),
            _flag(sub.c.done + sub.c.under_done > 0),
            *([] if stop_at is None else [_flag(stop_at(child))]),
        ).select_from(children)
    )


def _rollups(sub: Any, own: Any = None) -> list[Any]:
    """The roll-up aggregates of a _stats_walk, grouped by root (in stats_of's names).

    A goal is a leaf unless it is some walked goal's parent, so leaves = goals - distinct
    parents; a leaf counts as done when it or a goal above it is done, and a parent's own flag
    is its children's `under_done`, so done leaves = flagged goals - distinct parents of
    under_done children. With own, only the goals it selects count as leaves (the others are
    the roots of walks of their own, which count their leaves).
    """
    below = sub.c.level > 0
    flagged = sub.c.done + sub.c.under_done > 0
    parents = func.count(case((below, sub.c.parent_id)).distinct())
    flagged_parents = func.count(
        case((and_(below, sub.c.under_done == 1), sub.c.parent_id)).distinct()
    )
    goals = func.count() if own is None else func.sum(_flag(own))
    return [
        func.sum(_flag(sub.c.level == 1)).label("children_count"),
        func.sum(_flag(below)).label("descendants_count"),
        func.sum(case((below, sub.c.done), else_=_ZERO)).label("done_descendants_count"),
        (goals - parents).label("leaves"),
        (func.sum(_flag(flagged if own is None else and_(own, flagged))) - flagged_parents).label(
            "done_leaves"
        ),
        func.max(case((sub.c.level == 0, sub.c.done), else_=_ZERO)).label("done"),
    ]


def _stats_statement(roots: Any, lateral: bool, source: Any = goal_table) -> Select[Any]:
    """Roll-ups of each goal that `roots` selects, aggregated by the database: one row per root.

    Each root's subtree is walked on its own: for a single goal (or goals whose subtrees do
    not overlap) that is the least work; PAGE_STATS is for goals that may be nested.
    """
    sub = _stats_walk(roots, lateral, source=source)
    return select(sub.c.root, *_rollups(sub)).group_by(sub.c.root)


def _page_stats_statement(lateral: bool) -> CompoundSelect[Any]:
    """Roll-ups of the live goals in :root_ids, which may lie inside each other's subtrees.

    Walked root by root, a goal under k of them would be read k times: a page of 500 goals
    along one chain would read the chain's subtree 500 times. Instead each walk stops at the
    next goal of :root_ids it meets, so every goal is read once, in the region of the nearest
    goal of :root_ids above it (or itself). The rows are each region's roll-ups (nested NULL),
    which count a goal where its walk stopped as a child or descendant but not its subtree,
    and one row per such goal (nested: its id, done: whether a goal of the region above it is
    done); nest_stats adds the regions up.
    """
    page: Any = bindparam("root_ids", expanding=True)
    sub = _stats_walk(goal_table.c.id.in_(page), lateral, lambda goal: goal.id.in_(page))
    regions = select(sub.c.root, null().label("nested"), *_rollups(sub, own=sub.c.stop == 0))
    stops = select(sub.c.root, sub.c.id, *[_ZERO] * 5, sub.c.under_done).where(sub.c.stop == 1)
    return union_all(regions.group_by(sub.c.root), stops)


def _goal_statement(lateral: bool) -> Select[Any]:
    """One live goal of one owner with its roll-ups: a single query for a single read."""
    source = _by_id("goal_id") if lateral else goal_table
    one = and_(
        source.c.id == bindparam("goal_id"),
        source.c.owner_id == bindparam("owner_id"),
        source.c.deleted_at.is_(None),
    )
    rollup = _stats_statement(one, lateral, source).subquery("rollup")
    # The goal's own row is looked up by its key too: joined on rollup.root alone, PostgreSQL
    # may expect many roll-up rows and hash-join a scan of the whole goals table.
    return (
        select(goal_table, *list(rollup.c)[1:])
        .join(rollup, rollup.c.root == goal_table.c.id)
        .where(goal_table.c.id == bindparam("goal_id"))
    )


def _ancestors_statement(lateral: bool) -> Select[Any]:
    """Ids from :start_id up through its ancestors, stopping at :goal_id if met, nearest first."""
    anc = (
        select(goal_table.c.id, goal_table.c.parent_id, literal(0).label("depth"))
        .where(goal_table.c.id == bindparam("start_id"))
        .cte("anc", recursive=True)
    )
    parents, parent = _step(
        anc,
        lambda reached: and_(reached.c.id == anc.c.parent_id, anc.c.id != bindparam("goal_id")),
        lateral,
        live=False,
    )
    anc = anc.union_all(select(parent.id, parent.parent_id, anc.c.depth + 1).select_from(parents))
    return select(anc.c.id).order_by(anc.c.depth)


def stats_of(row: Any) -> Stats:
    """The roll-ups in a row of STATS or GOAL."""
    return Stats(
        children_count=int(row.children_count),
        descendants_count=int(row.descendants_count),
        done_descendants_count=int(row.done_descendants_count),
        leaves=int(row.leaves),
        done_leaves=int(row.done_leaves),
        done=bool(row.done),
    )


# The owner's whole live forest (:owner_id), each parent's children together, in sibling
# order: what Forest.from_grouped reads.
FOREST = (
    select(
        goal_table.c.id,
        goal_table.c.parent_id,
        goal_table.c.name,
        goal_table.c.end,
        goal_table.c.due,
        goal_table.c.completion,
    )
    .where(goal_table.c.owner_id == bindparam("owner_id"), goal_table.c.deleted_at.is_(None))
    .order_by(goal_table.c.parent_id, goal_table.c.position, goal_table.c.id)
    .execution_options(yield_per=_STREAM_ROWS)
)
# An export's outline of the owner's (:owner_id) live forest: (id, parent_id, done), each
# parent's children together in sibling order, parents in id order (top-level goals first on
# SQLite, last on PostgreSQL). The fields are read later, OUTLINE_FIELDS by id.
OUTLINE = (
    select(goal_table.c.id, goal_table.c.parent_id, _flag(goal_table.c.end.is_not(None)))
    .where(goal_table.c.owner_id == bindparam("owner_id"), goal_table.c.deleted_at.is_(None))
    .order_by(goal_table.c.parent_id, goal_table.c.position, goal_table.c.id)
    .execution_options(yield_per=_STREAM_ROWS)
)
# The same for the live subtree under :root_id.
OUTLINE_SUBTREE = ByDialect(
    lambda lateral: _subtree_outline_statement(lateral).execution_options(yield_per=_STREAM_ROWS)
)
# What an export writes of the goals :ids (in no order).
OUTLINE_FIELDS = select(
    goal_table.c.id,
    goal_table.c.name,
    goal_table.c.description,
    goal_table.c.start,
    goal_table.c.end,
    goal_table.c.due,
    goal_table.c.completion,
).where(goal_table.c.id.in_(bindparam("ids", expanding=True)))
# The live subtree under :root_id, for Forest.from_grouped.
SUBTREE = ByDialect(
    lambda lateral: _subtree_statement(lateral).execution_options(yield_per=_STREAM_ROWS)
)
# The owner's (:owner_id) live goals as (id, parent_id, start, end), in no particular
# order: the instants the forest's burn-up counts.
FOREST_SPANS = (
    select(goal_table.c.id, goal_table.c.parent_id, goal_table.c.start, goal_table.c.end)
    .where(goal_table.c.owner_id == bindparam("owner_id"), goal_table.c.deleted_at.is_(None))
    .execution_options(yield_per=_STREAM_ROWS)
)
# The same for the live subtree under :root_id, a live goal of :owner_id (no rows if not).
SUBTREE_SPANS = ByDialect(
    lambda lateral: _subtree_spans_statement(lateral).execution_options(yield_per=_STREAM_ROWS)
)
# Roll-ups of each live goal in :root_ids, one row per goal (read with stats_of); for goals
# whose subtrees do not overlap, such as a single goal.
STATS = ByDialect(
    partial(_stats_statement, goal_table.c.id.in_(bindparam("root_ids", expanding=True)))
)
# Roll-ups of the live goals in :root_ids, which may be nested: rows of regions and of the
# goals nested in them, for nest_stats.
PAGE_STATS = ByDialect(_page_stats_statement)
# One live goal (:goal_id) of one owner (:owner_id), its row with its roll-ups.
GOAL = ByDialect(_goal_statement)
# Ids of the live subtree under :root_id.
SUBTREE_IDS = ByDialect(_subtree_ids_statement)
# Ids from :start_id up through its ancestors, stopping at :goal_id.
ANCESTORS = ByDialect(_ancestors_statement)
# One live goal (:goal_id) of one owner (:owner_id), as an ORM object.
_found = aliased(Goal, _by_id("goal_id"))
FIND_LIVE = select(_found).where(
    _found.owner_id == bindparam("owner_id"), _found.deleted_at.is_(None)
)


# ---------------------------------------------------------------------------- siblings


# Whether a live sibling (:owner_id, :parent, 0 at the top level) other than :exclude has
# :name. Phrased like the unique index on (owner_id, coalesce(parent_id, 0), name): one seek.
NAME_TAKEN = (
    select(goal_table.c.id)
    .where(
        goal_table.c.owner_id == bindparam("owner_id"),
        goal_table.c.deleted_at.is_(None),
        func.coalesce(goal_table.c.parent_id, _ZERO) == bindparam("parent"),
        goal_table.c.name == bindparam("name"),
        goal_table.c.id != bindparam("exclude"),
    )
    .limit(1)
)


# Which of :names (expanding) the owner's (:owner_id) live goals under :parent (0 at the top
# level) have: a seek of the sibling-name index per name, however many siblings there are.
NAMES_TAKEN = select(goal_table.c.name).where(
    goal_table.c.owner_id == bindparam("owner_id"),
    goal_table.c.deleted_at.is_(None),
    func.coalesce(goal_table.c.parent_id, _ZERO) == bindparam("parent"),
    goal_table.c.name.in_(bindparam("names", expanding=True)),
)


def siblings(owner_id: int, parent_id: int | None) -> Any:
    """The condition on Goal that selects the owner's live children of parent_id (or tops)."""
    return and_(
        Goal.owner_id == owner_id,
        LIVE,
        Goal.parent_id.is_(None) if parent_id is None else Goal.parent_id == parent_id,
    )


def _next_position_statement(top: bool) -> Select[Any]:
    """The position after the last live sibling (top-level ones, or one parent's children).

    0 for a first child; saturates at MAX_POSITION. Run alone, or as the position of an
    INSERT. The last sibling is the first live one of a backward walk down ix_goals_owner_tree,
    ordered by all its columns: PostgreSQL does not see a `parent_id IS NULL` range as ordered
    by position, so a max(position) of top-level goals read every one of them.
    """
    parent = goal_table.c.parent_id
    last_sibling = (
        select(goal_table.c.position)
        .where(
            goal_table.c.owner_id == bindparam("sibling_owner"),
            parent.is_(None) if top else parent == bindparam("sibling_of"),
            goal_table.c.deleted_at.is_(None),
        )
        .order_by(
            goal_table.c.owner_id.desc(),
            goal_table.c.parent_id.desc(),
            goal_table.c.position.desc(),
            goal_table.c.id.desc(),
        )
        .limit(1)
        .subquery("last_sibling")
    )
    last = func.max(last_sibling.c.position)  # NULL when there is none
    return select(
        case((last >= MAX_POSITION, MAX_POSITION), else_=func.coalesce(last + 1, 0))
    ).select_from(last_sibling)


# The position after the last live sibling of :sibling_owner under :sibling_of, by top.
NEXT_POSITION = {top: _next_position_statement(top) for top in (True, False)}


# ---------------------------------------------------------------------------- insert


# The fields of a new goal, bound from a new goal's row; its position comes last.
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
    "operation_id",
    "completion",
)


def _insert_statement(top: bool, auto_position: bool, limited: bool = False) -> Any:
    """INSERT one goal and return its row, if its live parent (or, at the top, its owner) exists.

    One statement checks what the goal stands on, and returns no row when that is gone; its
    position, unless given, follows its last sibling, computed by the database. Limited, it
    also returns none when the owner already has :max_goals goals, trash included.
    """
    users = User.__table__
    stands_on = (
        select(users.c.id).where(users.c.id == bindparam("owner_id"))
        if top
        else select(goal_table.c.id).where(
            goal_table.c.id == bindparam("parent_id"),
            goal_table.c.owner_id == bindparam("owner_id"),
            goal_table.c.deleted_at.is_(None),
        )
    )
    position: Any = bindparam("position", type_=goal_table.c.position.type)
    if auto_position:
        position = NEXT_POSITION[top].scalar_subquery()
    values = [bindparam(name, type_=goal_table.c[name].type) for name in _NEW_FIELDS]
    new = select(*values, position).where(stands_on.exists())
    if limited:
        held = select(func.count()).where(goal_table.c.owner_id == bindparam("owner_id"))
        new = new.where(held.scalar_subquery() < bindparam("max_goals"))
    return insert(goal_table).from_select([*_NEW_FIELDS, "position"], new).returning(*goal_table.c)


# INSERT one goal, by (top level, position computed): bound from a new goal's row (with
# sibling_owner and sibling_of for a computed position); no row when its parent is gone.
INSERT = {
    (top, auto): _insert_statement(top, auto) for top in (True, False) for auto in (True, False)
}
# The same, inserting nothing once :owner_id has :max_goals goals.
INSERT_WITHIN_LIMIT = {
    (top, auto): _insert_statement(top, auto, limited=True)
    for top in (True, False)
    for auto in (True, False)
}


# ---------------------------------------------------------------------------- trash


def _trash_statement() -> Select[Any]:
    """The owner's trashed roots since :cutoff, each with the size of its subtree.

    Joined root to members (each member found once, by its index), not to a grouped subquery:
    a planner that misjudges the trash's size then still does linear work.
    """
    root, member = goal_table.alias("root"), goal_table.alias("member")
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


# The trashed roots of :owner_id since :cutoff: (id, name, parent_id, deleted_at, size).
TRASH = _trash_statement()

# PostgreSQL's planner's estimate of the goals table's size (-1: never analyzed).
PLANNER_ROWS = text("SELECT reltuples FROM pg_class WHERE oid = 'goals'::regclass")
