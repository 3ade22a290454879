"""Completion rules: what completing a goal, or changing its children, does to other goals.

- `manual`: nothing.
- `cascade`: completing the goal gives every open live descendant the same end (or its own
  start, when it starts later: no goal ends before it starts).
- `auto`: the goal is done exactly when it has a live child and every live child is done, its
  end then the latest of theirs; this holds transitively up the ancestors.
- `strict`: completing the goal while a live descendant is open is refused.

`settle` runs at the end of every operation that changes goals, inside its transaction and
under the owner's lock, on the goal rows the operation marked; what it changes it marks too, so
the rules' effects are recorded (and undone) with the change that caused them. A change that
touches no goal with a rule, and no child of one, costs one query here.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import Any

from sqlalchemy import bindparam, case, func, select, update

from ..core.db import db
from ..core.errors import OpenDescendants, RuleConflict
from ..history.models import GoalEvent
from ..history.recording import Stamp
from .models import Goal
from .queries import SUBTREE_IDS

_goals = Goal.__table__
_events = GoalEvent.__table__
# Open descendants a strict refusal lists.
MAX_LISTED = 100
# Ids per statement of a look-up by many ids (under both databases' parameter limits).
_CHUNK = 5000


def refuse_explicit_end(*, name: str) -> RuleConflict:
    """The error for an end set by hand on an `auto` goal."""
    return RuleConflict(
        f"goal {name!r} completes itself when its children are done (completion: auto); "
        "complete its children, or change its rule first"
    )


def _marked() -> Any:
    """The goals an operation marked, with their parent's rule and their state before it."""
    prev = _events.alias("prev")
    parent = _goals.alias("parent")
    old_parent = _goals.alias("old_parent")
    last = select(func.max(_events.c.id)).where(_events.c.goal_id == _goals.c.id).scalar_subquery()
    return (
        select(
            _goals.c.id,
            _goals.c.completion,
            _goals.c.end,
            _goals.c.deleted_at,
            parent.c.id.label("parent_id"),
            parent.c.completion.label("parent_rule"),
            old_parent.c.id.label("old_parent_id"),
            old_parent.c.completion.label("old_parent_rule"),
            prev.c.id.label("prev_id"),
            prev.c.end.label("prev_end"),
        )
        .select_from(
            _goals.outerjoin(prev, prev.c.id == last)
            .outerjoin(parent, parent.c.id == _goals.c.parent_id)
            .outerjoin(old_parent, old_parent.c.id == prev.c.parent_id)
        )
        .where(_goals.c.operation_id == bindparam("op_id"))
    )


_MARKED = _marked()


def settle(stamp: Stamp) -> None:
    """Apply the completion rules to what the operation changed so far (see the module)."""
    rows = db.session.execute(_MARKED, {"op_id": stamp.id}).all()
    # Completed: live and done, and open (or not there) before. A goal that comes back from
    # the trash done (a restore, an undo) is not completed again: it was, before it went.
    completed = [
        r
        for r in rows
        if r.deleted_at is None and r.end is not None and (r.prev_id is None or r.prev_end is None)
    ]
    # A goal under two completed cascades (an import) takes the nearer one's end: the deeper
    # cascade goes first, and an import gives deeper goals larger ids.
    for r in sorted(completed, key=lambda r: r.id, reverse=True):
        if r.completion == "cascade":
            _cascade(r.id, r.end, stamp)
    seeds: set[int] = set()
    for r in rows:
        if r.completion == "auto" and r.deleted_at is None:
            seeds.add(r.id)
        if r.parent_rule == "auto":
            seeds.add(r.parent_id)
        if r.old_parent_rule == "auto":
            seeds.add(r.old_parent_id)
    if any(r.completion == "cascade" for r in completed):
        # A cascade completed goals it did not mark one by one here: the auto ones among them
        # (one without a live child stays open) and their auto parents too.
        seeds.update(_autos_by_marked(stamp))
    if seeds:
        _settle_auto(seeds, stamp)
    # Last, once every auto goal below is settled (an import may complete one).
    for r in completed:
        if r.completion == "strict":
            _check_no_open_descendants(r.id)


def _cascade(root_id: int, end: datetime, stamp: Stamp) -> None:
    """Give every open live descendant of root_id the end `end` (or its own later start)."""
    conn = db.session.connection()
    db.session.execute(
        update(Goal)
        .where(
            Goal.id.in_(SUBTREE_IDS.on(conn)),
            Goal.id != root_id,
            Goal.end.is_(None),
            Goal.deleted_at.is_(None),
        )
        .values(
            end=case((Goal.start > end, Goal.start), else_=end),
            version=Goal.version + 1,
            updated_at=stamp.at,
            operation_id=stamp.id,
        )
        .execution_options(synchronize_session=False),
        {"root_id": root_id},
    )


def _check_no_open_descendants(goal_id: int) -> None:
    """Refuse completing a strict goal while a live descendant is open."""
    conn = db.session.connection()
    open_ids = list(
        db.session.execute(
            select(Goal.id)
            .where(
                Goal.id.in_(SUBTREE_IDS.on(conn)),
                Goal.id != goal_id,
                Goal.end.is_(None),
                Goal.deleted_at.is_(None),
            )
            .order_by(Goal.id)
            .limit(MAX_LISTED),
            {"root_id": goal_id},
        ).scalars()
    )
    if open_ids:
        raise OpenDescendants(
            f"goal {goal_id} is strict: complete its open descendants first"
            f" ({', '.join(map(str, open_ids[:10]))}{'…' if len(open_ids) > 10 else ''})",
            open=open_ids,
        )


def _autos_by_marked(stamp: Stamp) -> list[int]:
    """Auto goals the operation marked, or with a child it marked."""
    parent = _goals.alias("parent")
    marked_autos = select(_goals.c.id).where(
        _goals.c.operation_id == stamp.id, _goals.c.completion == "auto"
    )
    parents = (
        select(parent.c.id)
        .join(_goals, _goals.c.parent_id == parent.c.id)
        .where(_goals.c.operation_id == stamp.id, parent.c.completion == "auto")
    )
    return list(db.session.execute(marked_autos.union(parents)).scalars())


def _chunks(ids: Iterable[int]) -> Iterable[list[int]]:
    listed = list(ids)
    for start in range(0, len(listed), _CHUNK):
        yield listed[start : start + _CHUNK]


Chain = dict[int, tuple[int | None, datetime | None, datetime]]
Kids = dict[int, dict[int, datetime | None]]


def _auto_chain(seeds: set[int]) -> tuple[Chain, Kids]:
    """The live auto goals among seeds and, transitively, their live auto ancestors:
    id -> (parent id, end, start); and the live children of each: id -> {child id: end}.

    Two statements per chunk of seeds, whatever the depth: the recursive walk up, and the
    children of what it finds (the same walk, as a subquery).
    """
    found: Chain = {}
    kids: Kids = {}
    for chunk in _chunks(seeds):
        walk = (
            select(_goals.c.id, _goals.c.parent_id, _goals.c.end, _goals.c.start)
            .where(
                _goals.c.id.in_(chunk),
                _goals.c.completion == "auto",
                _goals.c.deleted_at.is_(None),
            )
            .cte("walk", recursive=True)
        )
        up = _goals.alias("up")
        walk = walk.union(
            select(up.c.id, up.c.parent_id, up.c.end, up.c.start)
            .join(walk, up.c.id == walk.c.parent_id)
            .where(up.c.completion == "auto", up.c.deleted_at.is_(None))
        )
        reached = db.session.execute(select(walk)).all()
        for goal_id, parent_id, end, start in reached:
            found[goal_id] = (parent_id, end, start)
            kids.setdefault(goal_id, {})
        if not reached:
            continue
        for kid, parent_id, end in db.session.execute(
            select(_goals.c.id, _goals.c.parent_id, _goals.c.end).where(
                _goals.c.parent_id.in_(select(walk.c.id)), _goals.c.deleted_at.is_(None)
            )
        ):
            kids[parent_id][kid] = end
    return found, kids


def _settle_auto(seeds: set[int], stamp: Stamp) -> None:
    """Make every auto goal reached from seeds done exactly when its live children are.

    Three statements whatever the depth: the auto goals up from the seeds, their live
    children, one UPDATE of those that change; decided bottom-up here, with a queue.
    """
    chain, kids = _auto_chain(seeds)
    if not chain:
        return
    # Bottom-up: an auto goal is decided once every auto child of it in the chain is.
    waiting = dict.fromkeys(chain, 0)
    for parent_id, _, _ in chain.values():
        if parent_id in waiting:
            waiting[parent_id] += 1
    ready = [goal_id for goal_id, n in waiting.items() if n == 0]
    changed: dict[int, datetime | None] = {}
    while ready:
        goal_id = ready.pop()
        parent_id, end, start = chain[goal_id]
        ends = kids[goal_id].values()
        done = bool(kids[goal_id]) and all(e is not None for e in ends)
        # The latest end of its children, or its own start if that is later (as in a cascade).
        wanted = max(start, *(e for e in ends if e is not None)) if done else None
        if wanted != end:
            changed[goal_id] = wanted
        if parent_id in waiting:
            kids[parent_id][goal_id] = wanted
            waiting[parent_id] -= 1
            if waiting[parent_id] == 0:
                ready.append(parent_id)
    if changed:
        db.session.execute(
            update(_goals)
            .where(_goals.c.id == bindparam("goal_id"))
            .values(
                end=bindparam("new_end"),
                version=_goals.c.version + 1,
                updated_at=stamp.at,
                operation_id=stamp.id,
            ),
            [{"goal_id": g, "new_end": e} for g, e in changed.items()],
        )


__all__ = ["MAX_LISTED", "refuse_explicit_end", "settle"]
