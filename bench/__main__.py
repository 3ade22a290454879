"""Run the benchmark suite: `python -m bench [--smoke] [--out DIR] [--no-postgres]`.

Each case prints a table row as it finishes; at the end the table is written as markdown
(bench.md) and the plot as a PNG (bench.png) in the output folder.
"""

from __future__ import annotations

import argparse
import itertools
import os
import platform
import signal
import sys
import tempfile
import threading
import time
import uuid
from dataclasses import dataclass
from datetime import datetime
from functools import partial
from pathlib import Path
from typing import Any

import orjson
from sqlalchemy import create_engine

from . import floor as floors
from .bounds import Bounds, Shapes
from .burnup import Burnup, BurnupShapes
from .data import Database, User
from .exchange import Exchange, ExchangeShapes
from .history import History, HistoryShapes
from .report import Result, Series, markdown, plot, print_header, print_row
from .rules import Rules, RuleShapes
from .servers import (
    WRK_POST,
    WRK_POST_KEYED,
    Process,
    WrkResult,
    get,
    median,
    post,
    start_app,
    start_ceiling,
    start_floor,
    timed_get,
    wrk,
)
from .sharing import Sharing, SharingShapes

DEFAULT_POSTGRES = "postgresql+psycopg://postgres@127.0.0.1/overachiever_bench"


@dataclass
class Plan:
    """Sizes, repetitions and whether targets are enforced."""

    smoke: bool
    sizes: tuple[int, ...]
    chain: int
    memory: int
    runs: int
    wrk_seconds: float
    rounds: int

    @classmethod
    def make(cls, smoke: bool) -> Plan:
        """The full plan, or the quick smoke plan (tiny sizes, no targets)."""
        if smoke:
            return cls(True, (100, 1000), 1000, 5000, 3, 2, 1)
        return cls(False, (1000, 10_000, 100_000), 10_000, 1_000_000, 5, 8, 3)


class Suite:
    """Runs the cases, collecting table rows and plot series."""

    def __init__(self, plan: Plan, out: Path, baseline: Path | None = None) -> None:
        self.plan = plan
        self.out = out
        self.baseline = baseline
        self.results: list[Result] = []
        self.series: list[Series] = []
        self.bars: dict[str, float] = {}
        self.floor_server: Process | None = None

    def add(self, result: Result) -> None:
        if self.plan.smoke:
            result.ok = None  # smoke mode proves the suite runs; its tiny sizes prove nothing
        self.results.append(result)
        print_row(result)

    # ------------------------------------------------------------------ cases

    def run_backend(self, kind: str, postgres_url: str | None, only: str = "all") -> None:
        """Cases 1-5 on one database, then the bounds (bench.bounds) and history cases
        (bench.history), the rules (bench.rules), the burn-up (bench.burnup) and export/import
        (bench.exchange), shared reads (bench.sharing); only="history", "burnup", "sharing" or
        "exchange": those cases alone."""
        history = HistoryShapes.make(self.plan.smoke)
        if only == "history":
            History(kind, history, self.add, self.out, postgres_url, self.baseline).run()
            return
        if only == "burnup":
            Burnup(kind, BurnupShapes.make(self.plan.smoke), self.add, self.out, postgres_url).run()
            return
        shared = SharingShapes.make(self.plan.smoke)
        sharing = Sharing(kind, shared, self.add, self.out, postgres_url)
        if only == "sharing":
            sharing.run()
            return
        exchange = Exchange(
            kind, ExchangeShapes.make(self.plan.smoke), self.add, self.out, postgres_url
        )
        if only == "exchange":
            exchange.run()
            return
        plan = self.plan
        folder = Path(tempfile.mkdtemp(prefix=f"{kind}-", dir=self.out))
        db = Database(kind, folder, postgres_url)
        app: Process | None = None
        try:
            names = [f"forest-{n}" for n in plan.sizes] + ["chain", "writer", "importer"]
            users = db.migrate_and_add_users(names)
            for n in plan.sizes:
                db.add_forest(users[f"forest-{n}"], n)
            db.add_chain(users["chain"], plan.chain)
            db.add_forest(users["writer"], plan.sizes[-2] if len(plan.sizes) > 1 else 100)
            app = start_app(db.url, folder / "server.log")
            forest_times = self.forest_read(kind, db, app, users)
            self.depth(kind, app, users["chain"], forest_times)
            self.single_reads_and_writes(kind, app, users, db.url)
            self.reads_during_imports(kind, app, db, users)
            if "database is locked" in app.log_text():
                raise RuntimeError(f"the {kind} server log mentions 'database is locked'")
        finally:
            if app is not None:
                app.stop()
            db.drop()
        self.memory(kind, postgres_url)
        self.memory_v1(kind, postgres_url)
        shapes = Shapes.make(self.plan.smoke)
        Bounds(kind, shapes, self.add, self.out, postgres_url, self.baseline).run()
        History(kind, history, self.add, self.out, postgres_url, self.baseline).run()
        Rules(kind, RuleShapes.make(self.plan.smoke), self.add, self.out, postgres_url).run()
        Burnup(kind, BurnupShapes.make(self.plan.smoke), self.add, self.out, postgres_url).run()
        sharing.run()
        exchange.run()

    def forest_read(
        self, kind: str, db: Database, app: Process, users: dict[str, User]
    ) -> dict[int, float]:
        """Case 1: the whole forest, against the raw floor and the article's design."""
        served: dict[int, float] = {}
        raw: dict[int, float] = {}
        article: dict[int, float] = {}
        orm: dict[int, float] = {}
        conn = db.connect()
        engine = create_engine(db.url)
        try:
            for n in self.plan.sizes:
                user = users[f"forest-{n}"]
                url = app.base + "/api/v2/goals/tree"
                runs = self.plan.runs if n <= 10_000 else max(3, self.plan.runs - 2)
                # Same bytes from both, or the comparison would be meaningless.
                body_app = _body(url, user)
                body_floor = floors.forest_json(conn, kind, user.id)
                if body_app != body_floor:
                    raise RuntimeError(f"the floor's JSON differs from the app's at {n} goals")
                app_times, floor_times = [], []
                for _ in range(runs):  # alternately, so both see the same machine load
                    app_times.append(timed_get(url, user.headers)[0])
                    started = time.perf_counter()
                    floors.forest_json(conn, kind, user.id)
                    floor_times.append(time.perf_counter() - started)
                served[n], raw[n] = median(app_times), median(floor_times)
                target = ""
                ok = None
                if n == 10_000:
                    target, ok = "≤ 2.5x", served[n] / raw[n] <= 2.5
                self.add(
                    Result(
                        "forest read",
                        kind,
                        n,
                        _ms(served[n]),
                        _ms(raw[n]),
                        served[n] / raw[n],
                        target,
                        ok,
                    )
                )
                if n <= 10_000:
                    # The article's design, measured here, not quoted: one query per goal.
                    for label, read, store in (
                        (
                            "one query per goal, ORM",
                            partial(floors.article_orm, engine, user.id),
                            orm,
                        ),
                        (
                            "one query per goal, raw",
                            partial(floors.article_raw, conn, kind, user.id),
                            article,
                        ),
                    ):
                        times = []
                        for _ in range(1 if self.plan.smoke or n >= 10_000 else 3):
                            started = time.perf_counter()
                            read()
                            times.append(time.perf_counter() - started)
                        store[n] = median(times)
                        self.add(
                            Result(
                                label,
                                kind,
                                n,
                                _ms(store[n]),
                                _ms(served[n]) + " API",
                                store[n] / served[n],
                                "",
                            )
                        )
        finally:
            conn.close()
            engine.dispose()
        big, mid = self.plan.sizes[-1], self.plan.sizes[-2]
        growth = served[big] / served[mid]
        self.add(
            Result(
                "forest read growth",
                kind,
                big,
                _ms(served[big]),
                _ms(served[mid]) + f" at {mid}",
                growth,
                "≤ 12x",
                growth <= 12,
            )
        )
        style = "o-" if kind == "sqlite" else "s--"
        self.series += [
            Series(f"API ({kind})", served, style),
            Series(f"raw floor: {_driver(kind)} + orjson", raw, style),
            Series(f"one query per goal, ORM as in the article ({kind})", orm, style),
            Series(f"one query per goal, {_driver(kind)} ({kind})", article, style),
        ]
        return served

    def depth(self, kind: str, app: Process, user: User, flat: dict[int, float]) -> None:
        """Case 2: a chain of nested goals, against the 10-ary forest of the same size."""
        n = self.plan.chain
        url = app.base + "/api/v2/goals/tree"
        body = _body(url, user)
        if body.count(b'"children":[') != n:
            raise RuntimeError("the chain came back incomplete")
        times = [timed_get(url, user.headers)[0] for _ in range(self.plan.runs)]
        t = median(times)
        ratio = t / flat[n]
        self.add(
            Result(
                "chain read (depth)",
                kind,
                n,
                _ms(t),
                _ms(flat[n]) + " flat",
                ratio,
                "≤ 2x",
                ratio <= 2,
            )
        )
        self.series.append(Series(f"chain, nested {n} deep ({kind})", {n: t}, "*"))

    def single_reads_and_writes(
        self, kind: str, app: Process, users: dict[str, User], database_url: str
    ) -> None:
        """Cases 3 and 4: wrk against the app and the floor app (and a baseline), alternately."""
        assert self.floor_server is not None
        reader = users[f"forest-{self.plan.sizes[0]}"]
        writer = users["writer"]
        goal_id = reader.goal_ids[0]  # a top-level goal with a subtree of its own
        servers = {"": app}
        if self.baseline is not None:
            # Other code over the same database, measured in the same rounds: before and after.
            servers[", baseline"] = start_app(
                database_url, self.out / f"baseline-{kind}.log", self.baseline
            )
        # Rungs between the floor and the app: its SQL in bare Flask views (bench.ceiling_app).
        ceiling = start_ceiling(database_url, self.out / f"ceiling-{kind}.log")
        rungs = {
            "bare Flask, app SQL": f"{ceiling.base}/statements/{goal_id}",
            "bare Flask, 1 row": f"{ceiling.base}/row/{goal_id}",
        }
        write_rungs = {
            "bare Flask, app SQL": f"{ceiling.base}/statements",
            "bare Flask, 1 row": f"{ceiling.base}/row",
        }
        rung_rps: dict[str, list[float]] = {name: [] for name in rungs}
        write_rung_rps: dict[str, list[float]] = {name: [] for name in write_rungs}
        floor_rps: list[float] = []
        read_rps: dict[str, list[float]] = {name: [] for name in servers}
        write_rps: dict[str, list[float]] = {name: [] for name in servers}
        keyed_rps: list[float] = []
        errors = 0
        try:
            _same_goal(f"{app.base}/api/v2/goals/{goal_id}", rungs, reader)
            _same_write(f"{app.base}/api/v2/goals", write_rungs, writer)
            for _ in range(self.plan.rounds):
                result = wrk(self.floor_server.base + "/api/v2/goals/1", self.plan.wrk_seconds, {})
                floor_rps.append(result.rps)
                for name, server in servers.items():
                    result = wrk(
                        f"{server.base}/api/v2/goals/{goal_id}",
                        self.plan.wrk_seconds,
                        reader.headers,
                    )
                    read_rps[name].append(result.rps)
                    errors += result.errors
                for name, url in rungs.items():
                    result = wrk(url, self.plan.wrk_seconds, reader.headers)
                    rung_rps[name].append(result.rps)
                    errors += result.errors
                posts = {name: server.base + "/api/v2/goals" for name, server in servers.items()}
                for name, url in posts.items():
                    result = self._post_load(url, writer)
                    write_rps[name].append(result.rps)
                    errors += result.errors
                result = self._post_load(posts[""], writer, WRK_POST_KEYED)
                keyed_rps.append(result.rps)
                errors += result.errors
                for name, url in write_rungs.items():
                    result = self._post_load(url, writer)
                    write_rung_rps[name].append(result.rps)
                    errors += result.errors
        finally:
            ceiling.stop()
            for name, server in servers.items():
                if name:
                    server.stop()
        if errors:
            raise RuntimeError(f"{errors} failed requests under load on {kind}")
        f = median(floor_rps)
        self.bars[f"floor: minimal Flask GET ({kind} run)"] = f
        for name in servers:
            judged = not name  # the baseline is reported, not judged
            cases = (
                ("single reads", read_rps[name], 0.5, "GET /api/v2/goals/{id}"),
                ("writes", write_rps[name], 0.25, "POST /api/v2/goals"),
            )
            for case, measured, target, bar in cases:
                rps = median(measured)
                self.add(
                    Result(
                        f"{case}{name} (rps)",
                        kind,
                        None,
                        f"{rps:.0f}/s",
                        f"{f:.0f}/s",
                        rps / f,
                        f"≥ {target}x" if judged else "",
                        rps / f >= target if judged else None,
                    )
                )
                self.bars[f"{bar}{name} ({kind})"] = rps
        rps = median(keyed_rps)
        self.add(
            Result(
                "writes, Idempotency-Key (rps)", kind, None, f"{rps:.0f}/s", f"{f:.0f}/s", rps / f
            )
        )
        self.bars[f"POST /api/v2/goals, Idempotency-Key ({kind})"] = rps
        for case, verb, by_rung in (
            ("single reads", "GET", rung_rps),
            ("writes", "POST", write_rung_rps),
        ):
            for name, values in by_rung.items():
                rps = median(values)
                row = Result(
                    f"{case}, {name} (rps)", kind, None, f"{rps:.0f}/s", f"{f:.0f}/s", rps / f
                )
                self.add(row)
                self.bars[f"{verb}, {name} ({kind})"] = rps

    def _post_load(self, url: str, writer: User, lua: str = WRK_POST) -> WrkResult:
        """wrk POSTing new top-level goals with names (and keys) no other run uses."""
        script = self.out / f"post-{uuid.uuid4().hex}.lua"
        script.write_text(lua.replace("tostring(math.random(1, 1e9))", repr(script.stem)))
        try:
            return wrk(url, self.plan.wrk_seconds, writer.headers, script)
        finally:
            script.unlink()

    def reads_during_imports(
        self, kind: str, app: Process, db: Database, users: dict[str, User]
    ) -> None:
        """Case 6: one account's reads while another imports back to back.

        Each read brings a token never used before, so it has a use to record; the imports hold
        the write lock (SQLite's only one) most of the time. A read must not wait for it.
        """
        size = self.plan.sizes[1]
        reader, importer = users[f"forest-{self.plan.sizes[0]}"], users["importer"]
        fresh = db.new_tokens(reader, 5 if self.plan.smoke else 20)
        url = f"{app.base}/api/v2/goals/{reader.goal_ids[0]}"
        stop = threading.Event()
        imports: list[float] = []
        failures: list[str] = []

        def import_back_to_back() -> None:
            for i in itertools.count():
                if stop.is_set():
                    return
                children = [{"name": f"n{j}"} for j in range(size - 1)]
                started = time.perf_counter()
                status, answer = post(
                    f"{app.base}/api/v2/goals/import",
                    {"name": f"import-{i}", "children": children},
                    importer.headers,
                )
                if status != 201:
                    failures.append(f"import gave {status}: {answer[:300]!r}")
                    return
                imports.append(time.perf_counter() - started)

        importing = threading.Thread(target=import_back_to_back)
        importing.start()
        reads: list[float] = []
        try:
            for token in fresh:
                time.sleep(0.1)  # spread over the imports
                reads.append(timed_get(url, {"Authorization": f"Bearer {token}"})[0])
            while not imports and importing.is_alive():  # at least one import to compare with
                time.sleep(0.05)
        finally:
            stop.set()
            importing.join(600)
        if failures or not imports:
            raise RuntimeError(f"imports on {kind} failed: {failures}")
        worst, typical = max(reads), median(imports)
        self.add(
            Result(
                "reads during imports (slowest)",
                kind,
                size,
                _ms(worst),
                _ms(typical) + " import",
                worst / typical,
                "≤ 0.1x",
                worst / typical <= 0.1,
            )
        )

    def memory(self, kind: str, postgres_url: str | None) -> None:
        """Case 5: peak RSS of a worker reading a forest of a million goals, nested and flat."""
        n = self.plan.memory
        folder = Path(tempfile.mkdtemp(prefix=f"{kind}-memory-", dir=self.out))
        db = Database(kind, folder, postgres_url)
        app = None
        try:
            user = db.migrate_and_add_users(["million"])["million"]
            db.add_forest(user, n)
            app = start_app(db.url, folder / "server.log")
            before = app.peak_rss_mb()
            nested, size = timed_get(app.base + "/api/v2/goals/tree", user.headers)
            flat, _ = timed_get(app.base + "/api/v2/goals/tree?format=flat", user.headers)
            peak = app.peak_rss_mb()
        finally:
            if app is not None:
                app.stop()
            db.drop()
        self.add(
            Result(
                "memory: forest read",
                kind,
                n,
                f"{peak:.0f} MB peak",
                f"{before:.0f} MB idle",
                None,
                "≤ 300 MB",
                peak <= 300,
            )
        )
        self.add(
            Result(
                "forest read (big)",
                kind,
                n,
                _ms(nested),
                f"{size / 1e6:.1f} MB body",
                None,
                "",
            )
        )
        self.add(Result("forest read, flat (big)", kind, n, _ms(flat), "", None, ""))
        for s in self.series:
            if s.label == f"API ({kind})":
                s.points[n] = nested

    def memory_v1(self, kind: str, postgres_url: str | None, root: Path | None = None) -> float:
        """Case 6: peak RSS of a worker writing an admin's v1.0 listing of every user's goals.

        The goals of `plan.memory` are split among ten users; streamed, one user's forest at a
        time is held. root: serve other code (a baseline checkout) instead. Returns the peak.
        """
        n, owners = self.plan.memory, 10
        folder = Path(tempfile.mkdtemp(prefix=f"{kind}-memory-v1-", dir=self.out))
        db = Database(kind, folder, postgres_url)
        app = None
        try:
            names = ["admin"] + [f"owner-{i}" for i in range(owners)]
            users = db.migrate_and_add_users(names)  # the first user is the administrator
            for i in range(owners):
                db.add_forest(users[f"owner-{i}"], n // owners)
            app = start_app(db.url, folder / "server.log", root)
            before = app.peak_rss_mb()
            elapsed, size = timed_get(app.base + "/v1.0/goals", users["admin"].headers)
            peak = app.peak_rss_mb()
        finally:
            if app is not None:
                app.stop()
            db.drop()
        self.add(
            Result(
                "memory: v1.0 listing (admin)",
                kind,
                n,
                f"{peak:.0f} MB peak",
                f"{before:.0f} MB idle",
                None,
                "≤ 150 MB",
                peak <= 150,
            )
        )
        self.add(
            Result(
                "v1.0 listing (admin)", kind, n, _ms(elapsed), f"{size / 1e6:.1f} MB body", None, ""
            )
        )
        return peak


def _same_goal(app_url: str, rungs: dict[str, str], user: User) -> None:
    """Check that every rung reads the goal the app reads (its own fields, at least)."""
    served = _values(orjson.loads(_body(app_url, user)))
    for name, url in rungs.items():
        got = _values(orjson.loads(_body(url, user)))
        if any(served[key] != value for key, value in got.items()):
            raise RuntimeError(f"{name} read another goal than the app: {got} vs {served}")


def _same_write(app_url: str, rungs: dict[str, str], user: User) -> None:
    """Check that every write rung creates a goal of the user, as the app answers a create."""
    status, answer = post(app_url, {"name": f"check-{uuid.uuid4().hex}"}, user.headers)
    if status != 201:
        raise RuntimeError(f"POST {app_url} gave {status}")
    created = orjson.loads(answer)
    for name, url in rungs.items():
        status, body = post(url, {"name": f"check-{uuid.uuid4().hex}"}, user.headers)
        got = orjson.loads(body)
        if status != 201 or set(got) - set(created) or got["id"] <= created["id"]:
            raise RuntimeError(f"{name} did not create a goal as the app does: {status} {got}")
        owned = _body(f"{app_url}/{got['id']}", user)  # the app reads it as the user's own
        if orjson.loads(owned)["name"] != got["name"]:
            raise RuntimeError(f"{name} created another goal than it answered: {got}")


def _values(fields: dict[str, Any]) -> dict[str, Any]:
    """JSON fields with timestamps parsed ("Z" and "+00:00" are the same instant)."""
    parsed = {}
    for key, value in fields.items():
        if isinstance(value, str) and key in ("start", "end", "due", "created_at", "updated_at"):
            value = datetime.fromisoformat(value)
        parsed[key] = value
    return parsed


def _body(url: str, user: User) -> bytes:
    status, body = get(url, user.headers)
    if status != 200:
        raise RuntimeError(f"GET {url} gave {status}")
    return body


def _ms(seconds: float) -> str:
    return f"{seconds * 1000:.1f} ms" if seconds < 10 else f"{seconds:.1f} s"


def _driver(kind: str) -> str:
    return "sqlite3" if kind == "sqlite" else "psycopg"


def _postgres_available(url: str) -> bool:
    try:
        import psycopg
        from sqlalchemy.engine import make_url

        u = make_url(url)
        psycopg.connect(
            host=u.host or "127.0.0.1",
            port=u.port or 5432,
            user=u.username,
            password=u.password,
            dbname="postgres",
            connect_timeout=3,
        ).close()
        return True
    except Exception:  # any failure means: no PostgreSQL here
        return False


def machine() -> str:
    """CPU model, core count and Python version of this machine."""
    model = "unknown CPU"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return f"{os.cpu_count()} cores, {model}, Python {platform.python_version()}"


def _terminate(signum: int, frame: Any) -> None:
    raise SystemExit(128 + signum)


def main(argv: list[str] | None = None) -> int:
    """Parse the command line, run every case, write bench.md and bench.png."""
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__)
    parser.add_argument("--smoke", action="store_true", help="tiny sizes, short runs, no targets")
    parser.add_argument("--out", type=Path, help="folder for bench.md, bench.png and logs")
    pg = parser.add_mutually_exclusive_group()
    pg.add_argument(
        "--postgres",
        default=DEFAULT_POSTGRES,
        help="PostgreSQL URL (a database named after it is created and dropped)",
    )
    pg.add_argument("--no-postgres", action="store_true", help="SQLite only")
    parser.add_argument(
        "--baseline",
        type=Path,
        help="a checkout of other code with the same migrations (git worktree add DIR REV): "
        "its single reads and writes are measured in the same rounds, before against after",
    )
    parser.add_argument(
        "--only",
        choices=("all", "history", "burnup", "sharing", "exchange"),
        default="all",
        help="history: only the cases of the record of changes (bench.history); "
        "burnup: only the burn-up case (bench.burnup); "
        "sharing: only the shared reads (bench.sharing); "
        "exchange: only the export and import cases (bench.exchange)",
    )
    args = parser.parse_args(argv)

    plan = Plan.make(args.smoke)
    out = args.out or Path(tempfile.mkdtemp(prefix="overachiever-bench-"))
    out.mkdir(parents=True, exist_ok=True)
    suite = Suite(plan, out, args.baseline.resolve() if args.baseline else None)
    started = time.monotonic()
    kinds: list[tuple[str, str | None]] = [("sqlite", None)]
    if not args.no_postgres:
        if _postgres_available(args.postgres):
            kinds.append(("postgresql", args.postgres))
        elif os.environ.get("OVERACHIEVER_REQUIRE_ALL") == "1":
            print(f"PostgreSQL is not reachable at {args.postgres}", file=sys.stderr)
            return 1
        else:
            print(f"PostgreSQL not reachable at {args.postgres}: SQLite only", file=sys.stderr)
    # A SIGTERM unwinds like an exception, so the servers started so far are stopped.
    signal.signal(signal.SIGTERM, _terminate)
    print(f"{machine()}; {'smoke' if plan.smoke else 'full'} run; output in {out}", flush=True)
    print_header()
    suite.floor_server = start_floor(out / "floor.log")
    try:
        for kind, url in kinds:
            suite.run_backend(kind, url, args.only)
    finally:
        suite.floor_server.stop()
    title = f"Over Achiever benchmarks: {machine()}"
    (out / "bench.md").write_text(f"{title}\n\n" + markdown(suite.results))
    plot(suite.series, suite.bars, title, out / "bench.png")
    failed = [r for r in suite.results if r.ok is False]
    print(f"wrote {out / 'bench.md'} and {out / 'bench.png'} in {time.monotonic() - started:.0f} s")
    if failed:
        print(f"{len(failed)} target(s) missed: {', '.join(r.case for r in failed)}")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
