"""Cases for requests whose cost could outgrow their data: each against what bounds it.

- a list page over a deep chain with a wide leaf, sorted by creation (every goal of the page
  above the next): against the same account's whole-forest read;
- a search whose text makes LIKE backtrack, over long descriptions: against a plain search;
- (PostgreSQL) a deep chain's root on a table the planner has no statistics of: against the
  same read once the table is analyzed.

With a baseline checkout, each slow request is also served by it, in the same run: before
and after. A baseline request that outlives gunicorn's 60 s timeout is reported as killed.
"""

from __future__ import annotations

import http.client
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .data import Database, User
from .report import Result
from .servers import Process, median, start_app, timed_get


@dataclass
class Shapes:
    """Sizes of the bounds cases."""

    chain: int  # depth of the chain
    leaf: int  # goals under its deepest goal
    described: int  # goals with long descriptions
    stale_chain: int  # depth of the chain on a table without statistics
    runs: int

    @classmethod
    def make(cls, smoke: bool) -> Shapes:
        """The reported shapes (500 deep, 65 000 under the leaf), or tiny ones."""
        if smoke:
            return cls(50, 1000, 100, 500, 1)
        return cls(500, 65_000, 2000, 5000, 3)


PAGE = "/api/v2/goals?sort=created&limit=500"
# 200 characters that LIKE compares again at every one of a description's 10 000 "a"s.
BACKTRACKING_Q = "a" * 199 + "b"
PLAIN_Q = "zzz"
DESCRIPTION = "a" * 10_000


Servers = dict[str, Process]


@dataclass
class Timing:
    """Seconds this code took, and the baseline's (None: killed), if one was measured."""

    now: float
    baseline: float | None
    baselined: bool


def _attempt(url: str, user: User) -> float | None:
    """Seconds for one GET, or None when the server gave up on it (its worker was killed)."""
    try:
        return timed_get(url, user.headers)[0]
    except (RuntimeError, http.client.HTTPException, OSError):
        return None


def _seconds(value: float | None) -> str:
    if value is None:
        return "killed at 60 s"
    return f"{value * 1000:.1f} ms" if value < 10 else f"{value:.1f} s"


class Bounds:
    """Runs the bounds cases on one database, adding rows through `add`."""

    def __init__(
        self,
        kind: str,
        shapes: Shapes,
        add: Callable[[Result], None],
        folder: Path,
        postgres_url: str | None,
        baseline: Path | None,
    ) -> None:
        self.kind = kind
        self.shapes = shapes
        self.add = add
        self.folder = folder
        self.postgres_url = postgres_url
        self.baseline = baseline

    def run(self) -> None:
        """Every case, each on a database of its own."""
        self._on_database("bounds", self._page_and_search, analyze=True)
        if self.kind == "postgresql":
            self._on_database("stale", self._without_statistics, analyze=False)

    def _on_database(
        self, name: str, case: Callable[[Database, dict[str, User], Servers], None], analyze: bool
    ) -> None:
        folder = self.folder / f"{self.kind}-{name}"
        folder.mkdir(parents=True, exist_ok=True)
        db = Database(self.kind, folder, self.postgres_url)
        servers: Servers = {}
        try:
            users = db.migrate_and_add_users(["chain", "search"])
            if not analyze:
                # As on a new or just restored table, until autovacuum analyzes it.
                with db.connect() as conn:
                    conn.execute("ALTER TABLE goals SET (autovacuum_enabled = false)")
            servers[""] = start_app(db.url, folder / "server.log")
            if self.baseline is not None:
                log = folder / "baseline.log"
                servers[", baseline"] = start_app(db.url, log, self.baseline)
            case(db, users, servers)
        finally:
            for server in servers.values():
                server.stop()
            db.drop()

    def _measure(self, servers: dict[str, Process], path: str, user: User) -> Timing:
        """Median seconds of this code (runs), and one try of the baseline, alternately.

        This code's server answers the request twice first, so each of its two workers has
        its connection and compiled statements before the clock runs.
        """
        for _ in range(2):
            if _attempt(servers[""].base + path, user) is None:
                raise RuntimeError(f"GET {path} failed on {self.kind}")
        now: list[float] = []
        before: list[float | None] = []
        for i in range(self.shapes.runs):
            for name, server in servers.items():
                if not name:
                    seconds = _attempt(server.base + path, user)
                    if seconds is None:
                        raise RuntimeError(f"GET {path} failed on {self.kind}")
                    now.append(seconds)
                elif not i:  # once is enough to tell seconds from milliseconds
                    before.append(_attempt(server.base + path, user))
        return Timing(median(now), before[0] if before else None, bool(before))

    def _report(
        self, case: str, goals: int, timing: Timing, bound: Timing, bound_name: str
    ) -> None:
        """The case against its bound (target: at most 3 times it), then before and after."""
        ratio = timing.now / bound.now
        floor = f"{_seconds(bound.now)} {bound_name}"
        self.add(
            Result(case, self.kind, goals, _seconds(timing.now), floor, ratio, "≤ 3x", ratio <= 3)
        )
        if timing.baselined:
            before = timing.baseline
            self.add(
                Result(
                    f"{case}, baseline",
                    self.kind,
                    goals,
                    _seconds(before),
                    f"{_seconds(timing.now)} now",
                    None if before is None else before / timing.now,
                )
            )

    # ------------------------------------------------------------------ cases

    def _page_and_search(self, db: Database, users: dict[str, User], servers: Servers) -> None:
        shapes = self.shapes
        chain, search = users["chain"], users["search"]
        rows = _chain_with_leaf(db.next_id, chain.id, shapes.chain, shapes.leaf)
        goals = len(db.load(rows))
        page = self._measure(servers, PAGE, chain)
        forest = self._measure({"": servers[""]}, "/api/v2/goals/tree", chain)
        self._report("list page, deep chain", goals, page, forest, "forest")

        db.load(_described(db.next_id, search.id, shapes.described))
        plain = self._measure(servers, f"/api/v2/goals?q={PLAIN_Q}", search)
        hard = self._measure(servers, f"/api/v2/goals?q={BACKTRACKING_Q}", search)
        self._report("search, backtracking q", shapes.described, hard, plain, "plain q")
        if plain.baselined:  # what the linear matchers cost a search that never backtracked
            before = plain.baseline
            self.add(
                Result(
                    "search, plain q, baseline",
                    self.kind,
                    shapes.described,
                    _seconds(before),
                    f"{_seconds(plain.now)} now",
                    None if before is None else before / plain.now,
                )
            )

    def _without_statistics(self, db: Database, users: dict[str, User], servers: Servers) -> None:
        chain = users["chain"]
        rows = _chain_with_leaf(db.next_id, chain.id, self.shapes.stale_chain, 0)
        ids = db.load(rows, analyze=False)
        path = f"/api/v2/goals/{ids[0]}"
        stale = self._measure(servers, path, chain)
        with db.connect() as conn:
            row = conn.execute("SELECT reltuples FROM pg_class WHERE relname = 'goals'").fetchone()
            if row[0] >= 0:
                raise RuntimeError("the goals table was analyzed during the case")
            conn.execute("ANALYZE goals")
        analyzed = self._measure({"": servers[""]}, path, chain)
        self._report("chain root, no statistics", len(ids), stale, analyzed, "analyzed")


def _chain_with_leaf(first: int, owner: int, depth: int, leaf: int) -> Iterator[tuple[Any, ...]]:
    """A chain `depth` deep, then `leaf` goals under its deepest goal (bench.data's rows)."""
    for i in range(depth):
        yield (first + i, owner, first + i - 1 if i else None, f"step-{i}", False, 0)
    for i in range(leaf):
        yield (first + depth + i, owner, first + depth - 1, f"leaf-{i}", i % 3 == 2, i)


def _described(first: int, owner: int, n: int) -> Iterator[tuple[Any, ...]]:
    """n top-level goals, each with a description of 10 000 'a's (bench.data's rows)."""
    for i in range(n):
        yield (first + i, owner, None, f"described-{i}", False, i, DESCRIPTION)
