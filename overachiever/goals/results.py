"""What the goal services return: a goal with the roll-ups of its subtree, and how they are read."""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy.engine import Row

from ..core.db import db
from .models import Goal
from .queries import PAGE_STATS, STATS, stats_of
from .tree import Stats, nest_stats


@dataclass(slots=True)
class GoalResult:
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
            "completion": g.completion,
            "progress": s.progress,
            "children_count": s.children_count,
            "descendants_count": s.descendants_count,
            "done_descendants_count": s.done_descendants_count,
        }


def stats_for(root_ids: Sequence[int]) -> dict[int, Stats]:
    """Roll-ups of each goal in root_ids (which must be live goals): one query.

    One goal's are summed up by the database. Several goals may lie in each other's subtrees
    (a page of goals along one chain): theirs are read region by region, every goal once, and
    added up here, so a page costs the union of its subtrees, not their sum.
    """
    if not root_ids:
        return {}
    conn = db.session.connection()
    params = {"root_ids": list(root_ids)}
    if len(root_ids) == 1:
        return {row.root: stats_of(row) for row in conn.execute(STATS.on(conn), params)}
    regions: dict[int, Stats] = {}
    nested: dict[int, list[tuple[int, bool]]] = {}
    for row in conn.execute(PAGE_STATS.on(conn), params):
        if row.nested is None:
            regions[row.root] = stats_of(row)
        else:
            nested.setdefault(row.root, []).append((row.nested, bool(row.done)))
    return nest_stats(regions, nested)


def result_of(goal: Goal) -> GoalResult:
    """A live goal with its roll-ups, read now: one query."""
    return GoalResult(goal, stats_for([goal.id])[goal.id])
