"""Case for the burn-up series: one goal's leaves, started and done over two years.

One owner, one goal, `groups` sub-goals of `leaves` leaves each (100 000 leaves), their starts
spread over the two years before now, 60 % of them done some days after they started. Timed
over HTTP, alternately (median of `runs`): the owner's forest read (`GET /api/v2/goals/tree`),
the goal's burn-up and the forest's, in daily buckets. Issue 19 asks the goal's burn-up to
answer in at most three times the forest read of the same goals; the forest's burn-up is
reported beside it.
"""

from __future__ import annotations

import tempfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import orjson

from .data import Database, User
from .report import Result
from .report import ms as _ms
from .servers import Process, get, median, start_app, timed_get

SPAN = timedelta(days=730)  # the leaves' starts are spread over this span, before now
TARGET = 3.0  # the goal's burn-up against the forest read


@dataclass
class BurnupShapes:
    """Sizes of the burn-up case."""

    groups: int  # sub-goals of the goal
    leaves: int  # leaves of each sub-goal
    runs: int

    @classmethod
    def make(cls, smoke: bool) -> BurnupShapes:
        """The reported sizes (1 000 sub-goals of 100 leaves), or tiny ones."""
        if smoke:
            return cls(10, 10, 1)
        return cls(1000, 100, 3)


class Burnup:
    """Runs the burn-up case on one database, adding rows through `add`."""

    def __init__(
        self,
        kind: str,
        shapes: BurnupShapes,
        add: Callable[[Result], None],
        folder: Path,
        postgres_url: str | None,
    ) -> None:
        self.kind = kind
        self.shapes = shapes
        self.add = add
        self.out = folder
        self.postgres_url = postgres_url

    def run(self) -> None:
        """Load the goal, then time the three reads."""
        # A folder of its own each run: a SQLite file left by an earlier run would hold the user.
        folder = Path(tempfile.mkdtemp(prefix=f"{self.kind}-burnup-", dir=self.out))
        db = Database(self.kind, folder, self.postgres_url)
        app: Process | None = None
        try:
            owner = db.migrate_and_add_users(["burnup"])["burnup"]
            now = datetime.now(UTC).replace(microsecond=0)
            first = db.next_id
            rows = _goal_rows(first, owner.id, self.shapes.groups, self.shapes.leaves)
            owner.goal_ids = db.load(
                rows, times=_times(first, self.shapes.groups, self.shapes.leaves, now)
            )
            app = start_app(db.url, folder / "server.log")
            self._time(app, owner)
        finally:
            if app is not None:
                app.stop()
            db.drop()

    def _time(self, app: Process, owner: User) -> None:
        root = owner.goal_ids[0]
        leaves = self.shapes.groups * self.shapes.leaves
        urls = {
            "forest": f"{app.base}/api/v2/goals/tree",
            "goal": f"{app.base}/api/v2/goals/{root}/burnup?bucket=day",
            "all": f"{app.base}/api/v2/goals/burnup?bucket=day",
        }
        _check(urls["goal"], owner, leaves)
        _check(urls["all"], owner, leaves)
        times: dict[str, list[float]] = {name: [] for name in urls}
        for _ in range(self.shapes.runs):  # alternately, so all see the same machine load
            for name, url in urls.items():
                times[name].append(timed_get(url, owner.headers)[0])
        forest, goal, whole = (median(times[name]) for name in ("forest", "goal", "all"))
        read = _ms(forest) + " tree"
        self.add(Result("forest read (burn-up goals)", self.kind, len(owner.goal_ids), _ms(forest)))
        self.add(
            Result(
                "goal burn-up, daily",
                self.kind,
                leaves,
                _ms(goal),
                read,
                goal / forest,
                f"≤ {TARGET:g}x",
                goal / forest <= TARGET,
            )
        )
        self.add(
            Result("forest burn-up, daily", self.kind, leaves, _ms(whole), read, whole / forest)
        )


def _goal_rows(first: int, owner: int, groups: int, leaves: int) -> Iterator[tuple[Any, ...]]:
    """The goal, then its sub-goals, then their leaves (bench.data's rows), ids from `first`."""
    yield (first, owner, None, "burn-up", False, 0)
    for g in range(groups):
        yield (first + 1 + g, owner, first, f"group-{g}", False, g)
    for k in range(groups * leaves):
        yield (
            first + 1 + groups + k,
            owner,
            first + 1 + k // leaves,
            f"leaf-{k}",
            False,
            k % leaves,
        )


def _times(
    first: int, groups: int, leaves: int, now: datetime
) -> Callable[[int], tuple[datetime, datetime | None]]:
    """(start, end) of each goal by id: the goal and its sub-goals open since two years ago;
    leaf k starting at a spread-out hour of those two years, done (3 in 5) 1 to 60 days after
    its start, never after now."""
    hours = int(SPAN.total_seconds() // 3600)
    earliest = now - SPAN

    def times(goal_id: int) -> tuple[datetime, datetime | None]:
        k = goal_id - first - 1 - groups
        if k < 0:
            return earliest, None
        start = earliest + timedelta(hours=(k * 7919) % hours)
        if k % 5 >= 3:
            return start, None
        return start, min(now, start + timedelta(days=1 + k % 60))

    return times


def _check(url: str, owner: User, leaves: int) -> None:
    """The burn-up counts every leaf at its last point, and ~60 % of them done."""
    status, body = get(url, owner.headers)
    if status != 200:
        raise RuntimeError(f"GET {url} gave {status}: {body[:300]!r}")
    points = orjson.loads(body)["series"]
    last = points[-1]
    if last["leaves"] != leaves or not 0.5 * leaves <= last["done"] <= 0.7 * leaves:
        raise RuntimeError(f"the burn-up at {url} ends at {last}, not {leaves} leaves, 60 % done")
