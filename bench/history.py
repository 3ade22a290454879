"""Cases for the record of changes: what reading the past, undoing and recording cost.

- the forest as it was (`as_of`), on an owner whose goals each have a long history: against
  the same owner's live forest read (the past is the last event of each goal at an instant);
- an undo of a whole import: against the import itself (and a target in seconds);
- the changes feed, paged from the first event to the last: its last pages against its first
  (a page after a cursor must not cost more the further the cursor is);
- writes (create, patch), each of which now records an event: with a baseline checkout (the
  code before history), against the same writes served by it, in the same rounds.

The baseline keeps a database of its own, migrated by its own code (its migrations stop
before the history tables).
"""

from __future__ import annotations

import base64
import json
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from .data import STAMP, Database, User, forest_rows
from .report import Result
from .report import ms as _ms
from .servers import WRK_POST, Process, get, median, post, start_app, timed_get, wrk

EVENT_COLUMNS = (
    "id, operation_id, owner_id, goal_id, prev_id, at, kind, erased, name, description, "
    'parent_id, position, start, "end", due, deleted_at, trash_root_id'
)
OPERATION_COLUMNS = "id, owner_id, actor_id, kind, at, undoes, undone_by"

WRK_PATCH = """
local ids = {IDS}
local counter = 0
local prefix = tostring(math.random(1, 1e9))
wrk.method = "PATCH"
wrk.headers["Content-Type"] = "application/json"
request = function()
    counter = counter + 1
    local path = "/api/v2/goals/" .. ids[(counter % #ids) + 1]
    return wrk.format(nil, path, nil, '{"name": "p-' .. prefix .. '-' .. counter .. '"}')
end
"""
PASSWORD = "bench password"  # noqa: S105  (a throwaway account of the run)


@dataclass
class HistoryShapes:
    """Sizes of the history cases."""

    goals: int  # goals of the owner with a history
    rounds: int  # events per goal (one created, then updates)
    imported: int  # goals of the import that is undone
    page: int  # events per page of the changes feed
    runs: int
    wrk_seconds: float
    wrk_rounds: int

    @classmethod
    def make(cls, smoke: bool) -> HistoryShapes:
        """10 000 goals with 10 events each (100 000 events), or tiny ones."""
        if smoke:
            return cls(100, 5, 100, 50, 1, 1, 1)
        return cls(10_000, 10, 10_000, 500, 5, 8, 3)


class History:
    """Runs the history cases on one database, adding rows through `add`."""

    def __init__(
        self,
        kind: str,
        shapes: HistoryShapes,
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
        """The reads and the undo on one database, then the writes (with a baseline's)."""
        folder = self._folder("history")
        db = Database(self.kind, folder, self.postgres_url)
        app: Process | None = None
        try:
            users = db.migrate_and_add_users(["past", "importer"])
            at = self._load_history(db, users["past"])
            app = start_app(db.url, folder / "server.log")
            self._as_of(app, users["past"], at)
            self._feed(app, users["past"])
            self._undo_import(app, users["importer"])
        finally:
            if app is not None:
                app.stop()
            db.drop()
        self._writes()

    def _folder(self, name: str) -> Path:
        folder = self.folder / f"{self.kind}-{name}"
        folder.mkdir(parents=True, exist_ok=True)
        return folder

    # ------------------------------------------------------------------ data

    def _load_history(self, db: Database, user: User) -> dict[str, datetime]:
        """A 10-ary forest, each goal with `rounds` events (its last is the goal as loaded).

        Events come in rounds, each round's goals in ten operations, a minute apart; returns
        the instants after the first round, halfway, and after the last.
        """
        n, rounds = self.shapes.goals, self.shapes.rounds
        goals = list(forest_rows(db.next_id, user.id, n))
        user.goal_ids = db.load(iter(goals))
        # A day ago, to the second: the record must lie in the past.
        start = datetime.now(UTC).replace(microsecond=0) - timedelta(days=1)
        chunk = -(-n // 10)
        per_round = -(-n // chunk)
        instants = [self._stamp(start + timedelta(minutes=r)) for r in range(rounds)]
        # Operations first (events refer to them): ten a round, ids from 1.
        self._copy(
            db,
            "operations",
            OPERATION_COLUMNS,
            (
                (
                    r * per_round + k + 1,
                    user.id,
                    user.id,
                    "update" if r else "import",
                    at,
                    None,
                    None,
                )
                for r, at in enumerate(instants)
                for k in range(per_round)
            ),
        )

        def events() -> Iterator[tuple[Any, ...]]:
            for r, at in enumerate(instants):
                last = r == rounds - 1
                for i, (goal_id, _, parent, name, done, position) in enumerate(goals):
                    event_id = 1 + r * n + i
                    yield (
                        event_id,
                        r * per_round + i // chunk + 1,
                        user.id,
                        goal_id,
                        event_id - n if r else None,
                        at,
                        "created" if r == 0 else "updated",
                        False,
                        name if last else f"{name} v{r}",
                        "",
                        parent,
                        position,
                        self._stamp(STAMP),
                        self._stamp(STAMP) if (done if last else r % 2) else None,
                        None,
                        None,
                        None,
                    )

        self._copy(db, "goal_events", EVENT_COLUMNS, events())
        if self.kind == "postgresql":
            with db.connect() as conn:
                for table in ("goal_events", "operations"):
                    conn.execute(
                        f"SELECT setval(pg_get_serial_sequence('{table}', 'id'),"  # noqa: S608
                        f" (SELECT max(id) FROM {table}))"
                    )
                    conn.execute(f"ANALYZE {table}")
        return {
            "early": start + timedelta(seconds=30),
            "halfway": start + timedelta(minutes=rounds // 2, seconds=30),
            "last": start + timedelta(minutes=rounds, seconds=30),
        }

    def _stamp(self, value: datetime) -> Any:
        """A timestamp as bench.data loads them (text on SQLite)."""
        if self.kind == "sqlite":
            return value.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S.%f")
        return value

    def _copy(
        self, db: Database, table: str, columns: str, rows: Iterator[tuple[Any, ...]]
    ) -> None:
        conn = db.connect()
        try:
            if self.kind == "sqlite":
                conn.execute("PRAGMA synchronous = OFF")
                marks = ", ".join("?" * (columns.count(",") + 1))
                with conn:
                    conn.executemany(f"INSERT INTO {table} ({columns}) VALUES ({marks})", rows)  # noqa: S608
            else:
                with conn.cursor() as cur, cur.copy(f"COPY {table} ({columns}) FROM STDIN") as copy:
                    for row in rows:
                        copy.write_row(row)
        finally:
            conn.close()

    # ------------------------------------------------------------------ cases

    def _times(self, url: str, user: User) -> float:
        """Median seconds of `runs` GETs, after two that warm both workers up."""
        for _ in range(2):
            timed_get(url, user.headers)
        return median([timed_get(url, user.headers)[0] for _ in range(self.shapes.runs)])

    def _as_of(self, app: Process, user: User, at: dict[str, datetime]) -> None:
        """The forest as it was against the live forest, on the same owner."""
        events = self.shapes.goals * self.shapes.rounds
        live_url = f"{app.base}/api/v2/goals/tree"
        last_url = f"{live_url}?as_of={_instant(at['last'])}"
        live_body, last_body = _body(live_url, user), _body(last_url, user)
        if live_body != last_body:
            raise RuntimeError(f"the forest as of now differs from the live one on {self.kind}")
        live = self._times(live_url, user)
        for name, label in (("last", "now"), ("halfway", "halfway"), ("early", "first round")):
            url = f"{live_url}?as_of={_instant(at[name])}"
            seconds = self._times(url, user)
            ratio = seconds / live
            judged = name == "last"
            self.add(
                Result(
                    f"forest read as_of {label} ({events} events)",
                    self.kind,
                    self.shapes.goals,
                    _ms(seconds),
                    _ms(live) + " live",
                    ratio,
                    "≤ 3x" if judged else "",
                    ratio <= 3 if judged else None,
                )
            )

    def _feed(self, app: Process, user: User) -> None:
        """Every page of the changes feed, in order: the last pages against the first."""
        page = self.shapes.page
        url = f"{app.base}/api/v2/changes?limit={page}"
        timed_get(url, user.headers)  # warm up
        times: list[float] = []
        events = 0
        after = ""
        while True:
            started = time.perf_counter()
            status, body = get(url + (f"&after={after}" if after else ""), user.headers)
            times.append(time.perf_counter() - started)
            if status != 200:
                raise RuntimeError(f"the changes feed gave {status}: {body[:300]!r}")
            answer = json.loads(body)
            events += len(answer["items"])
            after = answer["cursor"]
            if not answer["more"]:
                break
        expected = self.shapes.goals * self.shapes.rounds
        if events != expected:
            raise RuntimeError(f"the changes feed gave {events} events, not {expected}")
        k = max(1, min(10, len(times) // 4))
        first, last = median(times[:k]), median(times[-k:])
        self.add(
            Result(
                f"changes feed, last {k} pages of {page}",
                self.kind,
                self.shapes.goals,
                _ms(last),
                _ms(first) + " first",
                last / first,
                "≤ 1.5x",
                last / first <= 1.5,
            )
        )
        self.add(
            Result(
                f"changes feed, all {len(times)} pages",
                self.kind,
                self.shapes.goals,
                _ms(sum(times)),
                f"{events} events",
            )
        )

    def _undo_import(self, app: Process, user: User) -> None:
        """An import of `imported` goals, then its undo (all to the trash), then a redo."""
        n = self.shapes.imported
        body = {"name": "imported", "children": [{"name": f"n{j}"} for j in range(n - 1)]}
        started = time.perf_counter()
        status, answer = post(f"{app.base}/api/v2/goals/import", body, user.headers)
        imported = time.perf_counter() - started
        if status != 201:
            raise RuntimeError(f"the import gave {status}: {answer[:300]!r}")
        status, answer = get(f"{app.base}/api/v2/operations?limit=1", user.headers)
        (operation,) = json.loads(answer)["items"]
        if operation["kind"] != "import" or operation["goals_count"] != n:
            raise RuntimeError(f"the newest operation is not the import: {operation}")
        undone, answer = self._undo(app, user, operation["id"])
        redone, _ = self._undo(app, user, json.loads(answer)["operation"]["id"])
        status, answer = get(f"{app.base}/api/v2/goals?limit=1", user.headers)
        if json.loads(answer)["total"] != n:
            raise RuntimeError("the redo did not bring the import back")
        # The target is the undo's; the redo is reported beside it.
        for label, seconds in (("undo", undone), ("redo (undo of the undo)", redone)):
            judged = label == "undo"
            self.add(
                Result(
                    f"{label} of an import",
                    self.kind,
                    n,
                    _ms(seconds),
                    _ms(imported) + " import",
                    seconds / imported,
                    "< 2 s" if judged else "",
                    seconds < 2 if judged else None,
                )
            )

    def _undo(self, app: Process, user: User, operation_id: int) -> tuple[float, bytes]:
        started = time.perf_counter()
        status, answer = post(f"{app.base}/api/v2/operations/{operation_id}/undo", {}, user.headers)
        seconds = time.perf_counter() - started
        if status != 200:
            raise RuntimeError(f"the undo of {operation_id} gave {status}: {answer[:300]!r}")
        return seconds, answer

    def _writes(self) -> None:
        """Creates and patches with wrk, this code and the baseline alternately."""
        servers: dict[str, tuple[Process, User, list[int]]] = {}
        databases: list[Database] = []
        try:
            roots: dict[str, Path | None] = {"": None}
            if self.baseline is not None:
                roots[", baseline"] = self.baseline
            for name, root in roots.items():
                folder = self._folder("writes" + name.replace(", ", "-"))
                db = Database(self.kind, folder, self.postgres_url)
                databases.append(db)
                server = start_app(db.url, folder / "server.log", root)
                user = _http_user(server)
                ids = [_create(server, user, f"patched-{i}") for i in range(20)]
                servers[name] = (server, user, ids)
            create: dict[str, list[float]] = {name: [] for name in servers}
            patch: dict[str, list[float]] = {name: [] for name in servers}
            errors = 0
            for _ in range(self.shapes.wrk_rounds):
                for name, (server, user, ids) in servers.items():
                    url = f"{server.base}/api/v2/goals"
                    result = self._load(url, user, WRK_POST)
                    create[name].append(result.rps)
                    errors += result.errors
                    result = self._load(url, user, WRK_PATCH.replace("{IDS}", _lua_list(ids)))
                    patch[name].append(result.rps)
                    errors += result.errors
            if errors:
                raise RuntimeError(f"{errors} failed writes under load on {self.kind}")
        finally:
            for server, _, _ in servers.values():
                server.stop()
            for db in databases:
                db.drop()
        for case, measured in (("create", create), ("patch", patch)):
            now = median(measured[""])
            before = median(measured[", baseline"]) if ", baseline" in measured else None
            self.add(
                Result(
                    f"history writes: {case} (rps)",
                    self.kind,
                    None,
                    f"{now:.0f}/s",
                    "" if before is None else f"{before:.0f}/s baseline",
                    None if before is None else now / before,
                )
            )

    def _load(self, url: str, user: User, lua: str) -> Any:
        script = self.folder / f"history-{uuid.uuid4().hex}.lua"
        script.write_text(lua.replace("tostring(math.random(1, 1e9))", repr(script.stem)))
        try:
            return wrk(url, self.shapes.wrk_seconds, user.headers, script)
        finally:
            script.unlink()


def _instant(value: datetime) -> str:
    return value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _body(url: str, user: User) -> bytes:
    status, body = get(url, user.headers)
    if status != 200:
        raise RuntimeError(f"GET {url} gave {status}: {body[:300]!r}")
    return body


def _lua_list(ids: list[int]) -> str:
    return "{" + ", ".join(map(str, ids)) + "}"


def _http_user(server: Process) -> User:
    """An account signed up over HTTP, and a token: works on any version of the app."""
    name = f"writer-{uuid.uuid4().hex[:8]}"
    body = {"name": name, "email": f"{name}@example.com", "password": PASSWORD}
    status, answer = post(f"{server.base}/api/v2/users", body, {})
    if status != 201:
        raise RuntimeError(f"sign-up gave {status}: {answer[:300]!r}")
    credentials = base64.b64encode(f"{name}:{PASSWORD}".encode()).decode()
    status, answer = post(
        f"{server.base}/api/v2/tokens", {}, {"Authorization": f"Basic {credentials}"}
    )
    if status != 201:
        raise RuntimeError(f"a token gave {status}: {answer[:300]!r}")
    return User(0, name, json.loads(answer)["token"])


def _create(server: Process, user: User, name: str) -> int:
    status, answer = post(f"{server.base}/api/v2/goals", {"name": name}, user.headers)
    if status != 201:
        raise RuntimeError(f"a create gave {status}: {answer[:300]!r}")
    return int(json.loads(answer)["id"])
