"""An export's walk: every goal of a forest or subtree in pre-order, with its depth and progress,
in memory that does not grow with the goals' text.

The tree's shape is read first as three numbers per goal (id, parent id, done), kept in arrays
in the database's grouped order (each parent's children together, parents in id order), so a
goal's children are found by binary search over the parent ids. From that shape come the
pre-order, each goal's depth and its progress (bottom-up over the reversed pre-order). The
goals' fields (names, descriptions, instants) are then read a batch at a time, by id, as the
document is written: about 50 bytes a goal are held, whatever its name and description.

Everything is iterative: a chain of any depth is walked with explicit stacks.
"""

from __future__ import annotations

from array import array
from bisect import bisect_left, bisect_right
from collections.abc import Callable, Iterable, Iterator, Sequence
from datetime import datetime
from itertools import islice
from typing import Any, NamedTuple

from .tree import _collector_paused

# Goals whose fields are read per statement.
FIELD_BATCH = 2000
_ROWS = 4096


class OutlineGoal(NamedTuple):
    """One goal of an export, in pre-order: its fields, depth (0 at the top) and progress."""

    id: int
    parent_id: int | None  # None at the top of the export (a subtree's root too)
    depth: int
    name: str
    description: str
    start: datetime
    end: datetime | None
    due: datetime | None
    completion: str
    progress: float


class Shape:
    """A forest's or subtree's shape: pre-order, depths, parents and progress, in arrays."""

    def __init__(self, rows: Iterable[Sequence[Any]], root_id: int | None = None) -> None:
        """Read (id, parent_id, done) rows in grouped order; roots are the rows without a
        parent, or the one row root_id."""
        ids, parents, done = array("q"), array("q"), bytearray()
        source = iter(rows)
        with _collector_paused():
            while batch := list(islice(source, _ROWS)):
                for goal_id, parent, flag in batch:
                    ids.append(goal_id)
                    parents.append(parent or 0)
                    done.append(1 if flag else 0)
        n = len(ids)
        # Top-level rows (parent 0) come first or last, as the database sorts NULL.
        lo, hi = 0, n
        while lo < n and parents[lo] == 0:
            lo += 1
        if lo == n:
            lo = 0
        while hi > lo and parents[hi - 1] == 0:
            hi -= 1
        if root_id is None:
            roots = [k for k in (*range(lo), *range(hi, n)) if parents[k] == 0]
        else:
            roots = [ids.index(root_id)] if root_id in ids else []
        self.ids = ids
        self.done = done
        # Pre-order rows, their depths, and each row's parent row (-1 at the top).
        order, depths, up = array("q"), array("l"), array("q", bytes(8 * n))
        stack = array("q", reversed(roots))
        stack_depth = array("l", [0] * len(roots))
        for k in roots:
            up[k] = -1
        while stack:
            k = stack.pop()
            depth = stack_depth.pop()
            order.append(k)
            depths.append(depth)
            goal_id = ids[k]
            first = bisect_left(parents, goal_id, lo, hi)
            last = bisect_right(parents, goal_id, first, hi)
            for kid in range(last - 1, first - 1, -1):
                up[kid] = k
                stack.append(kid)
                stack_depth.append(depth + 1)
        self.order, self.depths = order, depths
        # Leaves and done leaves below each row, bottom-up; a done goal counts all as done.
        leaves, done_leaves = array("q", bytes(8 * n)), array("q", bytes(8 * n))
        for k in reversed(order):
            if leaves[k] == 0:
                leaves[k] = 1
                done_leaves[k] = done[k]
            elif done[k]:
                done_leaves[k] = leaves[k]
            parent = up[k]
            if parent >= 0:
                leaves[parent] += leaves[k]
                done_leaves[parent] += done_leaves[k]
        self.leaves, self.done_leaves, self.up = leaves, done_leaves, up

    def __len__(self) -> int:
        return len(self.order)

    def progress(self, k: int) -> float:
        """1.0 when done, else the share of the leaves below that are done."""
        if self.done[k]:
            return 1.0
        return self.done_leaves[k] / self.leaves[k]

    def goals(self, fetch: Callable[[list[int]], Iterable[Sequence[Any]]]) -> Iterator[OutlineGoal]:
        """The goals in pre-order; fetch(ids) returns (id, name, description, start, end, due,
        completion) rows of those ids, in any order. A goal gone since the shape was read (never
        within one snapshot) is left out."""
        ids, order, depths, up = self.ids, self.order, self.depths, self.up
        for at in range(0, len(order), FIELD_BATCH):
            rows = order[at : at + FIELD_BATCH]
            fields = {row[0]: row for row in fetch([ids[k] for k in rows])}
            for i, k in enumerate(rows, start=at):
                row = fields.get(ids[k])
                if row is None:
                    continue
                parent = up[k]
                yield OutlineGoal(
                    ids[k],
                    None if parent < 0 else ids[parent],
                    depths[i],
                    row[1],
                    row[2],
                    row[3],
                    row[4],
                    row[5],
                    row[6],
                    self.progress(k),
                )
