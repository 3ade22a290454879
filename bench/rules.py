"""Cases for the completion rules: a change whose rule reaches a whole subtree or chain.

- completing the root of a large `cascade` tree (every goal below gets its end, and an event);
- completing, then reopening, the leaf of a deep chain of `auto` goals (every goal above
  follows it).

Each is a PATCH timed from the client, on a database of its own; between runs the goals are
reopened behind the app's back (SQL), except the goal the PATCH changes, which is reopened
through the API so that its record says it was open. Reported, not judged: what a write that
triggers no rule costs is the writes case, against the baseline.
"""

from __future__ import annotations

import http.client
import json
import re
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from .data import Database, User, chain_rows, forest_rows
from .report import Result
from .report import ms as _ms
from .servers import Process, median, start_app

END = "2026-06-01T00:00:00Z"


@dataclass
class RuleShapes:
    """Sizes of the rules cases."""

    cascade: int  # goals in the cascade tree, its root included
    chain: int  # depth of the auto chain
    runs: int

    @classmethod
    def make(cls, smoke: bool) -> RuleShapes:
        """The reported sizes (100 000 goals, 10 000 deep), or tiny ones."""
        if smoke:
            return cls(100, 100, 1)
        return cls(100_000, 10_000, 3)


def patch(base: str, goal_id: int, body: dict[str, object], user: User) -> float:
    """Seconds for one PATCH /api/v2/goals/{goal_id} (which must answer 200)."""
    match = re.match(r"http://([^:/]+):(\d+)", base)
    assert match, base
    conn = http.client.HTTPConnection(match.group(1), int(match.group(2)), timeout=600)
    headers = {**user.headers, "Content-Type": "application/json"}
    try:
        started = time.perf_counter()
        conn.request("PATCH", f"/api/v2/goals/{goal_id}", body=json.dumps(body), headers=headers)
        response = conn.getresponse()
        answer = response.read()
        elapsed = time.perf_counter() - started
    finally:
        conn.close()
    if response.status != 200:
        raise RuntimeError(f"PATCH goal {goal_id} gave {response.status}: {answer[:300]!r}")
    return elapsed


class Rules:
    """Runs the rules cases on one database, adding rows through `add`."""

    def __init__(
        self,
        kind: str,
        shapes: RuleShapes,
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
        """Both cases, on one database."""
        # A folder of its own each run: a SQLite file left by an earlier run would hold the users.
        folder = Path(tempfile.mkdtemp(prefix=f"{self.kind}-rules-", dir=self.out))
        db = Database(self.kind, folder, self.postgres_url)
        app: Process | None = None
        try:
            users = db.migrate_and_add_users(["cascade", "auto"])
            tree = db.load(iter(_one_tree(db.next_id, users["cascade"].id, self.shapes.cascade)))
            chain = db.load(chain_rows(db.next_id, users["auto"].id, self.shapes.chain))
            with db.connect() as conn:
                conn.execute(f"UPDATE goals SET completion = 'cascade' WHERE id = {tree[0]}")  # noqa: S608
                conn.execute(
                    "UPDATE goals SET completion = 'auto' "  # noqa: S608
                    f"WHERE owner_id = {users['auto'].id} AND id != {chain[-1]}"
                )
            app = start_app(db.url, folder / "server.log")
            self._cascade(db, app, users["cascade"], tree)
            self._auto_chain(db, app, users["auto"], chain)
        finally:
            if app is not None:
                app.stop()
            db.drop()

    def _reopen_all(self, db: Database, owner: User) -> None:
        with db.connect() as conn:
            conn.execute(f'UPDATE goals SET "end" = NULL WHERE owner_id = {owner.id}')  # noqa: S608

    def _cascade(self, db: Database, app: Process, owner: User, tree: list[int]) -> None:
        root = tree[0]
        seconds = []
        for _ in range(self.shapes.runs):
            patch(app.base, root, {"end": None}, owner)
            self._reopen_all(db, owner)
            seconds.append(patch(app.base, root, {"end": END}, owner))
        self.add(
            Result("complete a cascade root (PATCH)", self.kind, len(tree), _ms(median(seconds)))
        )

    def _auto_chain(self, db: Database, app: Process, owner: User, chain: list[int]) -> None:
        leaf = chain[-1]
        done, reopened = [], []
        for _ in range(self.shapes.runs):
            done.append(patch(app.base, leaf, {"end": END}, owner))
            reopened.append(patch(app.base, leaf, {"end": None}, owner))
        for case, seconds in (
            ("complete the leaf of an auto chain", done),
            ("reopen the leaf of an auto chain", reopened),
        ):
            self.add(Result(case, self.kind, len(chain), _ms(median(seconds))))


def _one_tree(first: int, owner: int, n: int) -> list[tuple[object, ...]]:
    """A root with a 10-ary forest of n - 1 open goals under it (bench.data's rows)."""
    rows: list[tuple[object, ...]] = [(first, owner, None, "root", False, 0)]
    for goal_id, _, parent, name, _, position in forest_rows(first + 1, owner, n - 1):
        rows.append((goal_id, owner, first if parent is None else parent, name, False, position))
    return rows
