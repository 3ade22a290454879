"""Goal-tree algorithms over rows already fetched: roll-ups, filters, JSON writers.

Everything here is iterative (explicit stacks and queues), so a chain of any depth works, and
nothing here touches the database: callers fetch the rows with a fixed number of queries.

A forest is held in columns (ids in an array, names and timestamps in lists, completion rules
one byte each) with the rows of each parent's children stored next to each other, in sibling
order: a goal's children are one range of row numbers, found with one dict lookup. That keeps
a million goals in under 200 MB and lets the writers walk the tree without building a node
object per goal.
"""

from __future__ import annotations

import gc
from array import array
from bisect import bisect_right
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from functools import cached_property
from itertools import chain, islice
from typing import Any, Literal, NamedTuple

import orjson

Status = Literal["open", "done", "all"]

# Rows are ingested in batches of this many, column by column.
_BATCH = 4096
# A response chunk holds this many goals (tens of kilobytes).
_CHUNK_GOALS = 512
_CLOSE = -1
# Completion rules, stored one byte per goal as their index here ("manual" is 0).
RULES = ("manual", "cascade", "auto", "strict")
_RULE_CODE = {rule: code for code, rule in enumerate(RULES)}
_RULE_JSON = [orjson.dumps(rule) for rule in RULES]


class Row(NamedTuple):
    """The columns a tree needs of one goal."""

    id: int
    parent_id: int | None
    name: str
    end: datetime | None
    due: datetime | None
    completion: str = "manual"


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


def nest_stats(
    regions: dict[int, Stats], nested: dict[int, list[tuple[int, bool]]]
) -> dict[int, Stats]:
    """Roll-ups of goals whose subtrees may contain each other, from the roll-ups of regions.

    A goal's region is its subtree down to the next goals of `regions` below it, which it
    counts as children or descendants, but not their subtrees. nested[p] lists those goals q
    next below p's region, each with whether a goal of p's region above q is done (then every
    leaf under q is done for p). Regions are added up deepest first, with an explicit queue;
    the given Stats objects are updated in place.
    """
    inside = {q for below in nested.values() for q, _ in below}
    order = [p for p in regions if p not in inside]
    i = 0
    while i < len(order):
        order.extend(q for q, _ in nested.get(order[i], ()))
        i += 1
    for p in reversed(order):
        total = regions[p]
        for q, under_done in nested.get(p, ()):
            part = regions[q]
            total.descendants_count += part.descendants_count
            total.done_descendants_count += part.done_descendants_count
            total.leaves += part.leaves
            total.done_leaves += part.leaves if under_done else part.done_leaves
    return regions


@contextmanager
def _collector_paused() -> Iterator[None]:
    """Pause the cyclic garbage collector while a big forest is read in.

    Reading creates and drops a row object per goal and keeps a few large lists, none of them
    in a reference cycle; left running, the collector would traverse the whole heap again and
    again as the lists grow, making a 100 000-goal read take 1.6 times as long per goal.
    """
    running = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if running:
            gc.enable()


class Forest:
    """Rows indexed as a forest: roots, and each goal's children in sibling order."""

    def __init__(self, rows: Iterable[Sequence[Any]], roots: Sequence[int] | None = None) -> None:
        """Index rows (id, parent_id, name, end, due[, completion]) given in sibling order, in
        any grouping; rows without a completion rule are manual.

        Roots default to rows whose parent is absent, in the order given.
        """
        listed = list(rows)
        if roots is None:
            present = {r[0] for r in listed}
            roots = [r[0] for r in listed if r[1] is None or r[1] not in present]
        # Each parent's children brought together, in the order given.
        siblings: dict[Any, list[Sequence[Any]]] = {}
        for r in listed:
            siblings.setdefault(r[1], []).append(r)
        with _collector_paused():
            self._ingest(chain.from_iterable(siblings.values()), roots)

    @classmethod
    def from_grouped(
        cls, rows: Iterable[Sequence[Any]], roots: Sequence[int] | None = None
    ) -> Forest:
        """Index rows that come with each parent's children together, in sibling order.

        This is how the database returns them (ORDER BY parent_id, position, id); the rows are
        consumed as a stream, so no row objects are kept.
        """
        forest = cls.__new__(cls)
        with _collector_paused():
            forest._ingest(rows, roots)
        return forest

    def _ingest(self, rows: Iterable[Sequence[Any]], roots: Sequence[int] | None) -> None:
        ids = array("q")
        names: list[str] = []
        ends: list[datetime | None] = []
        dues: list[datetime | None] = []
        rules = bytearray()
        # parent id -> (first row, row after the last) of its children.
        groups: dict[int | None, tuple[int, int]] = {}
        current: Any = object()  # a sentinel no parent id equals
        start = count = 0
        source = iter(rows)
        while batch := list(islice(source, _BATCH)):
            columns = tuple(zip(*batch, strict=True))
            batch_ids, parents, batch_names, batch_ends, batch_dues = columns[:5]
            ids.extend(batch_ids)
            names.extend(batch_names)
            ends.extend(batch_ends)
            dues.extend(batch_dues)
            if len(columns) > 5:
                rules.extend(_RULE_CODE[rule] for rule in columns[5])
            else:
                rules.extend(bytes(len(batch)))
            for parent in parents:
                if parent != current:
                    if count > start:
                        if current in groups:
                            raise ValueError(f"children of {current} are not grouped together")
                        groups[current] = (start, count)
                    current, start = parent, count
                count += 1
        if count > start:
            if current in groups:
                raise ValueError(f"children of {current} are not grouped together")
            groups[current] = (start, count)
        self._ids, self._names, self._ends, self._dues = ids, names, ends, dues
        self._rules = rules
        self._groups = groups
        self._rollup: tuple[array[int], array[int]] | None = None
        self._bfs: array[int] | None = None
        # Root rows, and the parent id each one has (outside the forest, or None).
        self._roots: list[int] = []
        self._root_parents: list[int | None] = []
        if roots is not None:
            spans = sorted((s, e, parent) for parent, (s, e) in groups.items())
            # Many roots (every top-level goal of a forest) are looked up in one pass.
            row_of = self._row_of if len(roots) < 2 else self._rows_by_id().__getitem__
            for goal_id in roots:
                k = row_of(goal_id)
                self._roots.append(k)
                self._root_parents.append(spans[bisect_right(spans, (k, count + 1)) - 1][2])
        else:
            first, stop = groups.get(None, (0, 0))
            self._roots = list(range(first, stop))
            self._root_parents = [None] * len(self._roots)
            if len(self._order()) < count:
                # Some parents are absent (never so in a live forest read from the database):
                # their children are roots too, in row order.
                present = set(ids)
                orphans = [
                    (k, parent)
                    for parent, (s, e) in groups.items()
                    if parent is not None and parent not in present
                    for k in range(s, e)
                ]
                pairs = sorted([*zip(self._roots, self._root_parents, strict=True), *orphans])
                self._roots = [k for k, _ in pairs]
                self._root_parents = [parent for _, parent in pairs]
                self._bfs = None
        self.roots: list[int] = [ids[k] for k in self._roots]

    def _row_of(self, goal_id: int) -> int:
        try:
            return self._ids.index(goal_id)
        except ValueError:
            raise KeyError(goal_id) from None

    def _rows_by_id(self) -> dict[int, int]:
        """Goal id -> row number (the first row, as _row_of finds it)."""
        ids = self._ids
        return {ids[k]: k for k in range(len(ids) - 1, -1, -1)}

    # ---------------------------------------------------------------- walks and roll-ups

    def _order(self) -> array[int]:
        """Row numbers reachable from the roots, parents before children (breadth-first)."""
        if self._bfs is None:
            ids, groups = self._ids, self._groups
            order = array("q", self._roots)
            i = 0
            while i < len(order):
                span = groups.get(ids[order[i]])
                i += 1
                if span is not None:
                    order.extend(range(*span))
            self._bfs = order
        return self._bfs

    def _leaves(self) -> tuple[array[int], array[int]]:
        """Leaves and done leaves below each reachable row, computed bottom-up once."""
        if self._rollup is None:
            ids, ends, groups = self._ids, self._ends, self._groups
            zeros = bytes(8 * len(ids))
            leaves, done = array("q", zeros), array("q", zeros)
            for k in reversed(self._order()):
                span = groups.get(ids[k])
                if span is None:
                    total, finished = 1, 0
                else:
                    s, e = span
                    total, finished = sum(leaves[s:e]), sum(done[s:e])
                leaves[k] = total
                # A done goal counts every leaf below it as done.
                done[k] = total if ends[k] is not None else finished
            self._rollup = leaves, done
        return self._rollup

    def _mask(self, status: Status, pin_roots: bool) -> bytearray | None:
        """Rows shown under a status filter (1 = shown): matches, with their ancestors."""
        if status == "all":
            return None
        ids, ends, groups = self._ids, self._ends, self._groups
        want_done = status == "done"
        mask = bytearray(len(ids))
        for k in reversed(self._order()):
            span = groups.get(ids[k])
            if (ends[k] is not None) == want_done or (
                span is not None and mask.find(1, span[0], span[1]) >= 0
            ):
                mask[k] = 1
        if pin_roots:
            for k in self._roots:
                mask[k] = 1
        return mask

    # ---------------------------------------------------------------- views by goal id

    @cached_property
    def rows(self) -> dict[int, Row]:
        """Every row by goal id (built on first use)."""
        result: dict[int, Row] = {}
        ids, names, ends, dues, rules = self._ids, self._names, self._ends, self._dues, self._rules
        for parent, (s, e) in self._groups.items():
            for k in range(s, e):
                result[ids[k]] = Row(ids[k], parent, names[k], ends[k], dues[k], RULES[rules[k]])
        return result

    @cached_property
    def children(self) -> dict[int, list[int]]:
        """Children ids of each goal that has some, in sibling order (built on first use)."""
        present = set(self._ids)
        return {
            parent: list(self._ids[s:e])
            for parent, (s, e) in self._groups.items()
            if parent is not None and parent in present
        }

    def _walk(
        self, max_depth: int | None, mask: bytearray | None
    ) -> Iterator[tuple[int, int, int | None]]:
        """(row, depth, parent id) in pre-order from the roots, with an explicit stack."""
        ids, groups = self._ids, self._groups
        stack: list[tuple[int, int, int | None]] = [
            (k, 0, parent)
            for k, parent in zip(reversed(self._roots), reversed(self._root_parents), strict=True)
            if mask is None or mask[k]
        ]
        while stack:
            k, depth, parent = stack.pop()
            yield k, depth, parent
            if max_depth is not None and depth + 1 >= max_depth:
                continue
            goal_id = ids[k]
            span = groups.get(goal_id)
            if span is not None:
                stack.extend(
                    (kid, depth + 1, goal_id)
                    for kid in range(span[1] - 1, span[0] - 1, -1)
                    if mask is None or mask[kid]
                )


# ---------------------------------------------------------------------------- JSON writers

_JSON_OPTS = orjson.OPT_UTC_Z | orjson.OPT_NAIVE_UTC
_NULL = b"null"


def chunked(parts: Iterable[bytes], size: int = 64 * 1024) -> Iterator[bytes]:
    """Group many small byte strings into chunks of about `size` bytes for streaming."""
    buffer: list[bytes] = []
    total = 0
    for part in parts:
        buffer.append(part)
        total += len(part)
        if total >= size:
            yield b"".join(buffer)
            buffer, total = [], 0
    if buffer:
        yield b"".join(buffer)


def _stamp(value: datetime | None) -> bytes:
    return _NULL if value is None else orjson.dumps(value, option=_JSON_OPTS)


def _nested_parts(
    forest: Forest, roots: Sequence[int], max_depth: int | None, mask: bytearray | None
) -> Iterator[bytes]:
    """JSON text of nested nodes, in chunks, written with an explicit stack of row numbers.

    The stack holds rows to open and _CLOSE markers; the depth of the next row opened is the
    number of nodes open at that moment.
    """
    ids, names, ends, dues, rules, groups = (
        forest._ids,
        forest._names,
        forest._ends,
        forest._dues,
        forest._rules,
        forest._groups,
    )
    leaves, done = forest._leaves()
    dumps = orjson.dumps
    limit = -1 if max_depth is None else max_depth
    stack = list(reversed(roots))
    parts: list[bytes] = []
    comma = False  # whether the next node follows a sibling
    depth = 0
    while stack:
        k = stack.pop()
        if k == _CLOSE:
            parts.append(b"]}")
            comma = True
            depth -= 1
            continue
        goal_id = ids[k]
        end = ends[k]
        due = dues[k]
        parts.append(
            b'%s{"id":%d,"name":%s,"end":%s,"due":%s,"progress":%s,"completion":%s,"children":['
            % (
                b"," if comma else b"",
                goal_id,
                dumps(names[k]),
                _NULL if end is None else dumps(end, option=_JSON_OPTS),
                _NULL if due is None else dumps(due, option=_JSON_OPTS),
                dumps(done[k] / leaves[k]) if end is None else b"1.0",
                _RULE_JSON[rules[k]],
            )
        )
        comma = False
        stack.append(_CLOSE)
        depth += 1
        if depth != limit:
            span = groups.get(goal_id)
            if span is not None:
                kids = range(span[1] - 1, span[0] - 1, -1)
                stack.extend(kids if mask is None else [c for c in kids if mask[c]])
        if len(parts) >= _CHUNK_GOALS:
            yield b"".join(parts)
            parts = []
    if parts:
        yield b"".join(parts)


def nested_json(
    forest: Forest, *, status: Status = "all", max_depth: int | None = None, wrap: bool = True
) -> Iterator[bytes]:
    """The forest as nested JSON: {"items": [node, ...]}, or, unwrapped, its one root node.

    An unwrapped root (a subtree read) is shown whatever the status filter says.
    """
    mask = forest._mask(status, pin_roots=not wrap)
    if wrap:
        roots = [k for k in forest._roots if mask is None or mask[k]]
        yield b'{"items":['
        yield from _nested_parts(forest, roots, max_depth, mask)
        yield b"]}"
    else:
        yield from _nested_parts(forest, forest._roots[:1], max_depth, mask)


def flat_json(
    forest: Forest, *, status: Status = "all", max_depth: int | None = None, pin_roots: bool = False
) -> Iterator[bytes]:
    """The forest in pre-order without nesting: {"items": [{id, parent_id, depth, ...}, ...]}."""
    mask = forest._mask(status, pin_roots)
    ids, names, ends, dues = forest._ids, forest._names, forest._ends, forest._dues
    rules = forest._rules
    leaves, done = forest._leaves()
    dumps = orjson.dumps
    parts: list[bytes] = [b'{"items":[']
    comma = b""
    for k, depth, parent in forest._walk(max_depth, mask):
        end = ends[k]
        parts.append(
            b'%s{"id":%d,"parent_id":%s,"depth":%d,"name":%s,"end":%s,"due":%s,"progress":%s,'
            b'"completion":%s}'
            % (
                comma,
                ids[k],
                _NULL if parent is None else b"%d" % parent,
                depth,
                dumps(names[k]),
                _stamp(end),
                _stamp(dues[k]),
                dumps(done[k] / leaves[k]) if end is None else b"1.0",
                _RULE_JSON[rules[k]],
            )
        )
        comma = b","
        if len(parts) >= _CHUNK_GOALS:
            yield b"".join(parts)
            parts = []
    parts.append(b"]}")
    yield b"".join(parts)


def named_json(forest: Forest) -> Iterator[bytes]:
    """The forest as nested objects keyed by goal name, {name: {child name: {...}}, ...}, in chunks.

    Names are unique among an owner's live siblings, so no object repeats a key.
    """
    names = forest._names
    dumps = orjson.dumps
    parts: list[bytes] = [b"{"]
    open_nodes = 0  # the depth of the next goal if it is the first child of the last one
    for k, depth, _parent in forest._walk(None, None):
        if depth < open_nodes:
            # A sibling of an ancestor (or of the last goal): close what ends, then a comma.
            parts.append(b"}" * (open_nodes - depth) + b"," + dumps(names[k]) + b":{")
        else:
            parts.append(dumps(names[k]) + b":{")
        open_nodes = depth + 1
        if len(parts) >= _CHUNK_GOALS:
            yield b"".join(parts)
            parts = []
    parts.append(b"}" * open_nodes + b"}")
    yield b"".join(parts)
