"""The burn-up sweep: each leaf's counting instants, then the series over sorted instants.

Pure: rows in, numbers out. A leaf counts from its start and is done from its effective end,
its own end or the earliest end of a done goal above it within the scope, whichever comes
first. The tree is walked with an explicit stack, never by recursion, so depth is free.
"""

from __future__ import annotations

import math
from bisect import bisect_right
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Literal

from ..core.errors import Invalid

Bucket = Literal["day", "week"]
STEPS: dict[str, timedelta] = {"day": timedelta(days=1), "week": timedelta(weeks=1)}
# The most points one series may have.
MAX_BUCKETS = 5000


@dataclass(frozen=True, slots=True)
class Point:
    """At the end of one bucket: how many leaves counted, and how many of them were done."""

    at: datetime
    leaves: int
    done: int


@dataclass(frozen=True, slots=True)
class Leaves:
    """The counting instants of a scope's leaves, each list sorted.

    starts holds every leaf's start; dones the effective end of each leaf that is done;
    first the earliest start of any goal in the scope (None for an empty scope).
    """

    starts: list[datetime]
    dones: list[datetime]
    first: datetime | None = None

    @property
    def total(self) -> int:
        """How many leaves the scope has."""
        return len(self.starts)

    @property
    def finished_at(self) -> datetime | None:
        """When the last leaf was done, if all are (None for an empty scope)."""
        if self.starts and len(self.dones) == len(self.starts):
            return self.dones[-1]
        return None


def leaf_instants(rows: Iterable[Sequence[Any]], *, now: datetime) -> Leaves:
    """The leaves of the scope given as rows of (id, parent_id, start, end).

    A row whose parent is not among the rows is a root of the scope. Instants after `now`
    count as `now`, as progress counts them today; a leaf is never done before it counts (an
    end above it that precedes its start makes it done from its start).
    """
    index: dict[int, int] = {}
    parents: list[int | None] = []
    starts: list[datetime] = []
    ends: list[datetime | None] = []
    for goal_id, parent_id, start, end in rows:
        index[goal_id] = len(parents)
        parents.append(parent_id)
        starts.append(start)
        ends.append(end)
    size = len(parents)
    kids: dict[int, list[int]] = {}
    roots: list[int] = []
    for i, parent_id in enumerate(parents):
        p = None if parent_id is None else index.get(parent_id)
        if p is None:
            roots.append(i)
        else:
            kids.setdefault(p, []).append(i)
    # Down from the roots with a stack: cap[i] is the earliest end of a done goal above i.
    cap: list[datetime | None] = [None] * size
    leaf_starts: list[datetime] = []
    dones: list[datetime] = []
    stack = roots
    while stack:
        i = stack.pop()
        own, above = ends[i], cap[i]
        effective = own if above is None or (own is not None and own < above) else above
        below = kids.get(i)
        if below is not None:
            for k in below:
                cap[k] = effective
            stack.extend(below)
            continue
        start = min(starts[i], now)
        leaf_starts.append(start)
        if effective is not None:
            dones.append(max(min(effective, now), start))
    leaf_starts.sort()
    dones.sort()
    return Leaves(leaf_starts, dones, min(min(starts), now) if starts else None)


def bucket_ends(*, first: datetime, last: datetime, bucket: Bucket) -> list[datetime]:
    """The end of each bucket from `first` to `last`: counted back from `last` by whole steps,
    the earliest bucket holding `first`. Invalid when first is after last, or the span needs
    more than MAX_BUCKETS buckets."""
    if first > last:
        raise Invalid(
            "from is after to",
            [{"loc": ["query", "from"], "msg": "must not be after to"}],
        )
    step = STEPS[bucket]
    count = max(1, math.ceil((last - first) / step))
    if count > MAX_BUCKETS:
        raise Invalid(
            f"from {first.isoformat()} to {last.isoformat()} is {count} {bucket}s;"
            f" at most {MAX_BUCKETS} buckets fit in one series",
            [{"loc": ["query", "bucket"], "msg": f"the span gives more than {MAX_BUCKETS}"}],
        )
    return [last - step * (count - 1 - k) for k in range(count)]


def series(leaves: Leaves, ends: Sequence[datetime]) -> list[Point]:
    """The leaves counted and done at each bucket end: two binary searches per bucket."""
    return [
        Point(at, bisect_right(leaves.starts, at), bisect_right(leaves.dones, at)) for at in ends
    ]
