"""Goal-tree algorithms over rows already fetched: roll-ups, filters, JSON writers.

Everything here is iterative (explicit stacks and queues), so a chain of any depth works, and
nothing here touches the database: callers fetch the rows with a fixed number of queries.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal, NamedTuple

import orjson

Status = Literal["open", "done", "all"]


class Row(NamedTuple):
    """The columns a tree needs of one goal."""

    id: int
    parent_id: int | None
    name: str
    end: datetime | None
    due: datetime | None


@dataclass(slots=True)
class Stats:
    """Roll-ups of one goal's subtree."""

    children_count: int = 0
    descendants_count: int = 0
    done_descendants_count: int = 0
    leaves: int = 1
    done_leaves: int = 0
    done: bool = False

    @property
    def progress(self) -> float:
        """1.0 when done, else the share of the subtree's leaves that are done."""
        if self.done:
            return 1.0
        return self.done_leaves / self.leaves if self.leaves else 0.0


class Forest:
    """Rows indexed as a forest: roots, and each goal's children in sibling order."""

    def __init__(self, rows: Iterable[Row], roots: Sequence[int] | None = None) -> None:
        """Index rows (given in sibling order); roots default to rows whose parent is absent."""
        self.rows: dict[int, Row] = {}
        self.children: dict[int, list[int]] = {}
        for row in rows:
            self.rows[row.id] = row
        found_roots: list[int] = []
        for row in self.rows.values():
            if row.parent_id is not None and row.parent_id in self.rows:
                self.children.setdefault(row.parent_id, []).append(row.id)
            else:
                found_roots.append(row.id)
        self.roots: list[int] = list(roots) if roots is not None else found_roots
        for root in self.roots:
            if root not in self.rows:
                raise KeyError(root)

    def breadth_first(self) -> list[int]:
        """Every goal reachable from the roots, parents before their children."""
        order: list[int] = []
        queue = deque(self.roots)
        while queue:
            goal_id = queue.popleft()
            order.append(goal_id)
            queue.extend(self.children.get(goal_id, ()))
        return order

    def stats(self) -> dict[int, Stats]:
        """Roll-ups for every goal reachable from the roots, computed bottom-up."""
        result: dict[int, Stats] = {}
        for goal_id in reversed(self.breadth_first()):
            done = self.rows[goal_id].end is not None
            kids = self.children.get(goal_id)
            s = Stats(done=done)
            if kids:
                s.children_count = len(kids)
                s.leaves = 0
                for kid in kids:
                    k = result[kid]
                    s.descendants_count += 1 + k.descendants_count
                    s.done_descendants_count += int(k.done) + k.done_descendants_count
                    s.leaves += k.leaves
                    s.done_leaves += k.done_leaves
            else:
                s.done_leaves = 0
            if done:
                # A done goal counts every leaf below it as done.
                s.done_leaves = s.leaves
            result[goal_id] = s
        return result

    def keep(self, status: Status, stats: dict[int, Stats]) -> set[int] | None:
        """Goals shown under a status filter: those that match, with their ancestors."""
        if status == "all":
            return None
        want_done = status == "done"
        kept: set[int] = set()
        for goal_id in reversed(self.breadth_first()):
            if stats[goal_id].done == want_done or any(
                k in kept for k in self.children.get(goal_id, ())
            ):
                kept.add(goal_id)
        return kept

    def pre_order(
        self, max_depth: int | None = None, kept: set[int] | None = None
    ) -> Iterator[tuple[int, int]]:
        """(goal id, depth) in pre-order, roots at depth 0."""
        stack: list[tuple[int, int]] = [
            (r, 0) for r in reversed(self.roots) if kept is None or r in kept
        ]
        while stack:
            goal_id, depth = stack.pop()
            yield goal_id, depth
            if max_depth is not None and depth + 1 >= max_depth:
                continue
            for kid in reversed(self.children.get(goal_id, ())):
                if kept is None or kid in kept:
                    stack.append((kid, depth + 1))


def _node_fields(row: Row, stats: Stats) -> dict[str, Any]:
    return {
        "id": row.id,
        "name": row.name,
        "end": row.end,
        "due": row.due,
        "progress": stats.progress,
    }


_JSON_OPTS = orjson.OPT_UTC_Z | orjson.OPT_NAIVE_UTC
_CHUNK = 64 * 1024


def _chunked(parts: Iterable[bytes]) -> Iterator[bytes]:
    """Group many small byte strings into chunks of about 64 KiB for streaming."""
    buffer: list[bytes] = []
    size = 0
    for part in parts:
        buffer.append(part)
        size += len(part)
        if size >= _CHUNK:
            yield b"".join(buffer)
            buffer, size = [], 0
    if buffer:
        yield b"".join(buffer)


def _nested_parts(
    forest: Forest,
    stats: dict[int, Stats],
    roots: Sequence[int],
    max_depth: int | None,
    kept: set[int] | None,
) -> Iterator[bytes]:
    """JSON text of nested nodes, written with an explicit stack instead of recursion."""
    # Each stack entry is either a goal to open (id, depth) or a closing marker (-1, 0).
    stack: list[tuple[int, int]] = [(r, 0) for r in reversed(roots)]
    first_in_list = [True]
    while stack:
        goal_id, depth = stack.pop()
        if goal_id == -1:
            first_in_list.pop()
            yield b"]}"
            continue
        prefix = b"" if first_in_list[-1] else b","
        first_in_list[-1] = False
        head = orjson.dumps(_node_fields(forest.rows[goal_id], stats[goal_id]), option=_JSON_OPTS)
        yield prefix + head[:-1] + b',"children":['
        first_in_list.append(True)
        stack.append((-1, 0))
        if max_depth is not None and depth + 1 >= max_depth:
            continue
        for kid in reversed(forest.children.get(goal_id, ())):
            if kept is None or kid in kept:
                stack.append((kid, depth + 1))


def _filtered(
    forest: Forest, status: Status, pin_roots: bool
) -> tuple[dict[int, Stats], set[int] | None]:
    stats = forest.stats()
    kept = forest.keep(status, stats)
    if kept is not None and pin_roots:
        kept.update(forest.roots)
    return stats, kept


def nested_json(
    forest: Forest, *, status: Status = "all", max_depth: int | None = None, wrap: bool = True
) -> Iterator[bytes]:
    """The forest as nested JSON: {"items": [node, ...]}, or, unwrapped, its one root node.

    An unwrapped root (a subtree read) is shown whatever the status filter says.
    """
    stats, kept = _filtered(forest, status, pin_roots=not wrap)
    if wrap:
        roots = [r for r in forest.roots if kept is None or r in kept]
        parts = _nested_parts(forest, stats, roots, max_depth, kept)
        yield from _chunked(_concat(b'{"items":[', parts, b"]}"))
    else:
        yield from _chunked(_nested_parts(forest, stats, forest.roots[:1], max_depth, kept))


def flat_json(
    forest: Forest, *, status: Status = "all", max_depth: int | None = None, pin_roots: bool = False
) -> Iterator[bytes]:
    """The forest in pre-order without nesting: {"items": [{id, parent_id, depth, ...}, ...]}."""
    stats, kept = _filtered(forest, status, pin_roots)

    def parts() -> Iterator[bytes]:
        first = True
        for goal_id, depth in forest.pre_order(max_depth, kept):
            row = forest.rows[goal_id]
            item = {
                "id": row.id,
                "parent_id": row.parent_id,
                "depth": depth,
                "name": row.name,
                "end": row.end,
                "due": row.due,
                "progress": stats[goal_id].progress,
            }
            yield (b"" if first else b",") + orjson.dumps(item, option=_JSON_OPTS)
            first = False

    yield from _chunked(_concat(b'{"items":[', parts(), b"]}"))


def _concat(head: bytes, body: Iterable[bytes], tail: bytes) -> Iterator[bytes]:
    yield head
    yield from body
    yield tail
