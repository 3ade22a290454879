"""Case for sharing: single reads of a goal by its owner and by a viewer of a share above it.

One owner has a 10-ary forest of `forest` goals and, apart, a shared goal with a chain of
`depth` goals under it; the owner shares that goal with a viewer. A viewer's access to a goal
is decided by an ancestor walk that stops at the share (sharing.access), so the deepest goal
of the chain costs the longest walk. Each goal (one just under the shared goal, the deepest
one) is read by id (`GET /api/v2/goals/{id}`) under wrk by the owner and by the viewer, in
turn, `rounds` times; issue 20 asks a viewer's reads to keep at least 0.8 of the owner's
throughput.
"""

from __future__ import annotations

import tempfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .data import Database, User
from .report import Result
from .servers import Process, get, median, post, start_app, wrk

TARGET = 0.8  # the viewer's reads per second against the owner's


@dataclass
class SharingShapes:
    """Sizes of the sharing case."""

    forest: int  # the owner's other goals
    depth: int  # the chain under the shared goal
    seconds: float  # of wrk per measurement
    rounds: int

    @classmethod
    def make(cls, smoke: bool) -> SharingShapes:
        """The reported sizes, or tiny ones."""
        if smoke:
            return cls(1000, 10, 1, 1)
        return cls(100_000, 100, 5, 3)


class Sharing:
    """Runs the sharing case on one database, adding rows through `add`."""

    def __init__(
        self,
        kind: str,
        shapes: SharingShapes,
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
        """Load the goals, share the chain's top, then time the reads."""
        folder = Path(tempfile.mkdtemp(prefix=f"{self.kind}-sharing-", dir=self.out))
        db = Database(self.kind, folder, self.postgres_url)
        app: Process | None = None
        try:
            users = db.migrate_and_add_users(["owner", "viewer"])
            owner, viewer = users["owner"], users["viewer"]
            db.add_forest(owner, self.shapes.forest)
            chain = db.load(_shared_chain(db.next_id, owner.id, self.shapes.depth))
            app = start_app(db.url, folder / "server.log")
            status, body = post(
                f"{app.base}/api/v2/goals/{chain[0]}/shares",
                {"user": viewer.name, "role": "viewer"},
                owner.headers,
            )
            if status != 201:
                raise RuntimeError(f"sharing gave {status}: {body[:300]!r}")
            self._time(app, owner, viewer, chain[1], 1)
            self._time(app, owner, viewer, chain[-1], len(chain) - 1)
        finally:
            if app is not None:
                app.stop()
            db.drop()

    def _time(self, app: Process, owner: User, viewer: User, goal_id: int, depth: int) -> None:
        url = f"{app.base}/api/v2/goals/{goal_id}"
        for user in (owner, viewer):  # both may read it, and warm up
            status, body = get(url, user.headers)
            if status != 200:
                raise RuntimeError(f"GET {url} as {user.name} gave {status}: {body[:300]!r}")
        rates: dict[str, list[float]] = {"owner": [], "viewer": []}
        for _ in range(self.shapes.rounds):  # in turn, so both see the same machine load
            for name, user in (("owner", owner), ("viewer", viewer)):
                result = wrk(url, self.shapes.seconds, user.headers)
                if result.errors:
                    raise RuntimeError(f"{result.errors} failed reads of {url} as {name}")
                rates[name].append(result.rps)
        own, shared = median(rates["owner"]), median(rates["viewer"])
        self.add(
            Result(
                f"shared goal read, {depth} below the share",
                self.kind,
                self.shapes.forest + self.shapes.depth + 1,
                f"{shared:.0f} req/s",
                f"{own:.0f} req/s own",
                shared / own,
                f"≥ {TARGET:g}x",
                shared / own >= TARGET,
            )
        )


def _shared_chain(first: int, owner: int, depth: int) -> Iterator[tuple[Any, ...]]:
    """The goal to share, then a chain of `depth` goals under it (bench.data's rows)."""
    yield (first, owner, None, "shared", False, 10)
    for i in range(1, depth + 1):
        yield (first + i, owner, first + i - 1, f"shared-{i}", False, 0)
