"""Two `overachiever serve` instances behind nginx over PostgreSQL and Redis; one is SIGKILLed.

Starts both instances at once on a fresh PostgreSQL database, puts nginx in front of them
with a configuration made from deploy/nginx.conf, sends a bounded mixed load of creates,
edits and reads through nginx, kills one instance (its whole process group) mid-load, keeps
loading, and then checks:

- every acknowledged (2xx) write is readable through the surviving instance and through nginx;
- no 5xx (and no failed request) except requests in flight at the moment of the kill;
- nginx kept serving after the kill.

Run by .ci/scale; prints a summary of figures and exits non-zero on any failure.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import random
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests.support.accounts import basic  # noqa: E402
from tests.support.database import admin_connection  # noqa: E402
from tests.support.live_client import Client  # noqa: E402
from tests.support.liveserver import HOST, Server, free_port, start_server  # noqa: E402

NGINX_SITE = ROOT / "deploy" / "nginx.conf"
USERS = 4
NOT_A_PROBLEM = "not a problem document"
PASSWORD = "scale-out-pass"  # noqa: S105 - a throw-away account


@dataclass
class Call:
    """One request of the load, as the client saw it."""

    thread: int
    kind: str  # create, patch, read, tree
    start: float
    end: float = 0.0
    status: int | None = None  # None: no answer (the connection failed)
    goal: int | None = None
    name: str | None = None
    parent: int | None = None
    value: str | None = None
    error: str = ""

    @property
    def ok(self) -> bool:
        return self.status is not None and 200 <= self.status < 300

    @property
    def failed(self) -> bool:
        """A 5xx or no answer at all."""
        return self.status is None or self.status >= 500


@dataclass
class Worker:
    """A load thread's own goals, and everything it sent."""

    index: int
    client: Client
    calls: list[Call] = field(default_factory=list)
    goals: list[int] = field(default_factory=list)


def fail(message: str) -> None:
    """Stop with a failure the CI log shows plainly."""
    raise SystemExit(f"scale test FAILED: {message}")


# ---------------------------------------------------------------------------- PostgreSQL


def _admin(base: str) -> Any:
    from sqlalchemy.engine import make_url

    return admin_connection(make_url(base))


def create_database(base: str, name: str) -> str:
    """A fresh database on the server of `base`; returns its URL."""
    from sqlalchemy.engine import make_url

    with _admin(base) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{name}"')
    return make_url(base).set(database=name).render_as_string(hide_password=False)


def drop_database(base: str, name: str) -> None:
    with _admin(base) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


# ---------------------------------------------------------------------------- nginx


def nginx_config(folder: Path, port: int, upstreams: list[int]) -> Path:
    """deploy/nginx.conf with loopback instances and port, in a main file of its own."""
    site = NGINX_SITE.read_text()
    servers = "\n".join(f"    server {HOST}:{p} max_fails=1 fail_timeout=10s;" for p in upstreams)
    site, n = re.subn(r"(?m)^    server \S+:\d+ max_fails=1 fail_timeout=10s;\n", "", site)
    if n == 0:
        fail("deploy/nginx.conf has no upstream server lines of the expected shape")
    site = site.replace("upstream overachiever {\n", f"upstream overachiever {{\n{servers}\n", 1)
    replacements = [
        (r"(?m)^    listen 80;$", f"    listen {HOST}:{port};"),
        (r"(?m)^    listen \[::\]:80;\n", ""),
        (r"(?m)^    access_log \S+", f"    access_log {folder / 'access.log'}"),
        (r"(?m)^    error_log \S+", f"    error_log {folder / 'error.log'}"),
    ]
    for pattern, replacement in replacements:
        site, n = re.subn(pattern, replacement, site)
        if n != 1:
            fail(f"deploy/nginx.conf: expected one match of {pattern!r}, found {n}")
    temp = folder / "temp"
    temp.mkdir()
    main = f"""
daemon off;
master_process on;
worker_processes 1;
pid {folder / "nginx.pid"};
error_log {folder / "error.log"} warn;
events {{ worker_connections 512; }}
http {{
    client_body_temp_path {temp / "body"};
    proxy_temp_path {temp / "proxy"};
    fastcgi_temp_path {temp / "fastcgi"};
    uwsgi_temp_path {temp / "uwsgi"};
    scgi_temp_path {temp / "scgi"};
{site}
}}
"""
    path = folder / "nginx.conf"
    path.write_text(main)
    return path


def start_nginx(binary: str, folder: Path, config: Path, port: int) -> subprocess.Popen[bytes]:
    """nginx in the foreground in its own process group; waits until it answers."""
    args = [binary, "-p", str(folder), "-e", str(folder / "error.log"), "-c", str(config)]
    check = subprocess.run([*args, "-t"], capture_output=True, text=True, check=False)  # noqa: S603
    if check.returncode != 0:
        fail(f"nginx -t refused the configuration:\n{check.stderr}")
    log = (folder / "nginx.out").open("wb")
    proc = subprocess.Popen(  # noqa: S603 - our own nginx command line
        args,
        stdout=log,
        stderr=subprocess.STDOUT,
        stdin=subprocess.DEVNULL,
        start_new_session=True,
    )
    probe = Client(port, timeout=5)
    deadline = time.monotonic() + 15
    while True:
        if proc.poll() is not None:
            fail(f"nginx exited with {proc.returncode}:\n{(folder / 'nginx.out').read_text()}")
        with contextlib.suppress(OSError):
            if probe.request("GET", "/healthz")[0] == 200:
                probe.close()
                return proc
        if time.monotonic() > deadline:
            fail("nginx did not answer /healthz in 15 s")
        time.sleep(0.1)


def stop_process_group(proc: subprocess.Popen[bytes], sig: int = signal.SIGTERM) -> None:
    """Stop a process we started in its own group, then SIGKILL the group if it lingers."""
    if proc.poll() is None:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, sig)
        with contextlib.suppress(subprocess.TimeoutExpired):
            proc.wait(timeout=10)
    with contextlib.suppress(ProcessLookupError):
        os.killpg(proc.pid, signal.SIGKILL)
    with contextlib.suppress(subprocess.TimeoutExpired):
        proc.wait(timeout=10)


def group_members(pgid: int) -> list[int]:
    """Live (not zombie) processes of a process group."""
    members = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[2]) == pgid and fields[0] != "Z":
            members.append(int(entry.name))
    return members


# ---------------------------------------------------------------------------- load


def run_load(
    workers: list[Worker], duration: float, kill_at: float, victim: Server
) -> tuple[float, float]:
    """Load from every worker until `duration`; SIGKILL the victim at `kill_at` seconds."""
    stop = threading.Event()

    def loop(w: Worker) -> None:
        rng = random.Random(w.index)  # noqa: S311 - a reproducible load, not a secret
        patches = 0
        while not stop.is_set():
            roll = rng.random()
            if roll < 0.45 or not w.goals:
                name = f"t{w.index}-g{len(w.calls)}"
                parent = rng.choice(w.goals) if w.goals and rng.random() < 0.5 else None
                call = Call(w.index, "create", time.monotonic(), name=name, parent=parent)
                send(w, call, "POST", "/api/v2/goals", {"name": name, "parent_id": parent})
                if call.ok:
                    w.goals.append(call.goal or 0)
            elif roll < 0.70:
                goal = rng.choice(w.goals)
                patches += 1
                value = f"t{w.index}-v{patches}"
                call = Call(w.index, "patch", time.monotonic(), goal=goal, value=value)
                send(w, call, "PATCH", f"/api/v2/goals/{goal}", {"description": value})
            elif roll < 0.95:
                goal = rng.choice(w.goals)
                call = Call(w.index, "read", time.monotonic(), goal=goal)
                send(w, call, "GET", f"/api/v2/goals/{goal}")
            else:
                call = Call(w.index, "tree", time.monotonic())
                send(w, call, "GET", "/api/v2/goals/tree?format=flat")

    def send(w: Worker, call: Call, method: str, path: str, body: Any = None) -> None:
        try:
            status, payload = w.client.json(method, path, body)
            call.status = status
            if call.kind == "create" and status == 201:
                call.goal = int(payload["id"])
            if not (200 <= status < 300):
                call.error = str(payload)[:300]
            problem = isinstance(payload, dict) and payload.get("status") == status
            if status >= 500 and not problem:
                call.error = f"{NOT_A_PROBLEM}: {call.error}"
        except Exception as exc:  # a failed request is a figure, not a crash
            call.error = f"{type(exc).__name__}: {exc}"
        call.end = time.monotonic()
        w.calls.append(call)

    threads = [threading.Thread(target=loop, args=(w,), daemon=True) for w in workers]
    began = time.monotonic()
    for t in threads:
        t.start()
    time.sleep(max(0.0, began + kill_at - time.monotonic()))
    kill_start = time.monotonic()
    pgid = victim.proc.pid
    victim.kill()  # SIGKILL to the whole group: the master and its workers at once
    deadline = time.monotonic() + 5
    while group_members(pgid) and time.monotonic() < deadline:
        time.sleep(0.005)
    kill_end = time.monotonic()
    time.sleep(max(0.0, began + duration - time.monotonic()))
    stop.set()
    for t in threads:
        t.join(timeout=90)
        if t.is_alive():
            fail("a load thread did not finish")
    return kill_start, kill_end


# ---------------------------------------------------------------------------- checks


def check_writes(workers: list[Worker], users: list[dict[str, str]], port: int) -> int:
    """Every acknowledged write is in the database as seen through `port`; returns how many."""
    checked = 0
    for user_index, auth in enumerate(users):
        client = Client(port, auth)
        stored: dict[int, dict[str, Any]] = {}
        offset = 0
        while True:
            status, page = client.json("GET", f"/api/v2/goals?limit=500&offset={offset}")
            if status != 200:
                fail(f"listing goals through port {port} gave {status}: {page}")
            stored.update((g["id"], g) for g in page["items"])
            offset += len(page["items"])
            if offset >= page["total"] or not page["items"]:
                break
        client.close()
        mine = [w for w in workers if w.index % len(users) == user_index]
        uncertain_names = {c.name for w in mine for c in w.calls if c.kind == "create" and c.failed}
        acknowledged = set()
        for w in mine:
            for call in w.calls:
                if call.kind == "create" and call.ok:
                    goal = stored.get(call.goal or 0)
                    if (
                        goal is None
                        or goal["name"] != call.name
                        or goal["parent_id"] != call.parent
                    ):
                        fail(f"acknowledged create {call} is not stored as sent: {goal}")
                    acknowledged.add(call.goal)
                    checked += 1
            # Edits of one goal come from one thread, in order: the stored description is the
            # last acknowledged value, or a later edit whose answer was lost in the kill.
            expected: dict[int, list[str]] = {}
            for call in w.calls:
                if call.kind != "patch" or call.goal is None or call.value is None:
                    continue
                if call.ok:
                    expected[call.goal] = [call.value]
                    checked += 1
                elif call.failed:
                    expected.setdefault(call.goal, [""]).append(call.value)
            for goal_id, values in expected.items():
                description = stored[goal_id]["description"]
                if description not in values:
                    fail(f"goal {goal_id} has description {description!r}, expected {values}")
        for goal_id, goal in stored.items():
            if goal_id not in acknowledged and goal["name"] not in uncertain_names:
                fail(f"goal {goal} is stored but was never sent")
    return checked


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--duration", type=float, default=20.0, help="seconds of load")
    parser.add_argument("--kill-at", type=float, default=8.0, help="second of the SIGKILL")
    parser.add_argument("--threads", type=int, default=6, help="load threads")
    options = parser.parse_args()

    nginx = shutil.which("nginx") or shutil.which("nginx", path="/usr/sbin:/sbin")
    if nginx is None:
        fail("nginx is not installed (.ci/run installs Debian's package)")
    import redis

    redis_url = os.environ.get("OVERACHIEVER_TEST_REDIS_URL", "redis://127.0.0.1:6379/0")
    try:
        redis.Redis.from_url(redis_url, socket_connect_timeout=2).ping()
    except redis.exceptions.RedisError as exc:
        fail(f"no Redis at {redis_url}: {exc}")

    base = os.environ.get(
        "OVERACHIEVER_SCALE_DATABASE_URL", "postgresql+psycopg://postgres@127.0.0.1/postgres"
    )
    db_name = f"overachiever_scale_{os.getpid()}"
    prefix = f"overachiever-scale-{uuid.uuid4().hex}"
    folder = Path(tempfile.mkdtemp(prefix="overachiever-scale-"))
    began = time.monotonic()
    instances: list[Server] = []
    proxy: subprocess.Popen[bytes] | None = None
    # A stop from outside (CI's timeout) still runs the clean-up below.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    try:
        database = create_database(base, db_name)
        env = {
            "REDIS_URL": redis_url,
            "OVERACHIEVER_RATELIMIT_PREFIX": prefix,
            "OVERACHIEVER_TRUSTED_PROXIES": "1",
            "OVERACHIEVER_LOGIN_LIMIT": "1000/minute",
            "OVERACHIEVER_SIGNUP_LIMIT": "1000/minute",
        }
        results: dict[int, Server] = {}

        def start(i: int) -> None:
            results[i] = start_server(
                folder / f"instance-{i}",
                database,
                args=["--workers", "2", "--threads", "2"],
                env=env,
            )

        # Both instances start at the same moment on the empty database: the migration lock
        # lets one migrate while the other waits.
        starters = [threading.Thread(target=start, args=(i,)) for i in (1, 2)]
        for t in starters:
            t.start()
        for t in starters:
            t.join()
        instances = [results[i] for i in sorted(results)]
        if len(instances) != 2:
            fail("an instance did not start")
        upgrades = sum(s.logs().count("Running upgrade  -> ") for s in instances)
        if upgrades != 1:
            fail(f"the schema was migrated {upgrades} times by two instances, not once")

        port = free_port()
        config = nginx_config(folder, port, [s.port for s in instances])
        proxy = start_nginx(nginx, folder, config, port)
        front = Client(port)

        # nginx enforces the body limit itself, as a problem document.
        status, headers, body = front.request(
            "POST", "/api/v2/goals", {"name": "x" * (1024 * 1024 + 1)}
        )
        if status != 413 or not headers.get("content-type", "").startswith(
            "application/problem+json"
        ):
            fail(f"an oversized body through nginx gave {status} {headers} {body[:200]!r}")
        front.close()

        users = []
        for i in range(USERS):
            name = f"scaler-{i}"
            account = {"name": name, "email": f"{name}@example.com", "password": PASSWORD}
            status, body = front.json("POST", "/api/v2/users", account)
            if status != 201:
                fail(f"sign-up through nginx gave {status}: {body}")
            status, body = front.json("POST", "/api/v2/tokens", headers=basic(name, PASSWORD))
            if status != 201:
                fail(f"token through nginx gave {status}: {body}")
            users.append({"Authorization": f"Bearer {body['token']}"})
        front.close()

        workers = [
            Worker(i, Client(port, users[i % USERS], timeout=70)) for i in range(options.threads)
        ]
        victim, survivor = instances
        load_began = time.monotonic()
        kill_start, kill_end = run_load(workers, options.duration, options.kill_at, victim)
        load_seconds = time.monotonic() - load_began

        calls = [c for w in workers for c in w.calls]
        in_flight = [c for c in calls if c.start < kill_end and c.end > kill_start]
        failed = [c for c in calls if c.failed]
        unexplained = [c for c in failed if c not in in_flight or c.error.startswith(NOT_A_PROBLEM)]
        other = [c for c in calls if not c.ok and not c.failed]
        after = [c for c in calls if c.start >= kill_end]
        if not after or not any(c.ok for c in after):
            fail("nginx answered nothing after the kill")
        if unexplained:
            fail(
                f"{len(unexplained)} failed requests were not in flight at the kill: "
                f"{unexplained[:5]}"
            )
        if other:
            fail(f"{len(other)} requests were refused: {other[:5]}")
        if proxy.poll() is not None:
            fail("nginx is gone")

        # Acknowledged writes: through the survivor directly, then through nginx.
        checked = check_writes(workers, users, survivor.port)
        check_writes(workers, users, port)
        logs = survivor.logs()
        if "Traceback" in logs:
            fail(f"the surviving instance logged a traceback:\n{logs[-3000:]}")
        nginx_errors = (folder / "error.log").read_text(errors="replace")

        kinds = Counter(c.kind for c in calls)
        statuses = Counter(str(c.status) if c.status else "no answer" for c in calls)
        print("== two instances behind nginx, one SIGKILLed under load ==")
        print(
            f"load: {len(calls)} requests in {load_seconds:.1f} s "
            f"({len(calls) / load_seconds:.0f}/s) from {options.threads} threads; "
            + ", ".join(f"{k} {n}" for k, n in sorted(kinds.items()))
        )
        print("statuses: " + ", ".join(f"{k}: {n}" for k, n in sorted(statuses.items())))
        print(
            f"kill at {kill_start - load_began:.2f} s (group gone after "
            f"{(kill_end - kill_start) * 1000:.0f} ms); in flight then: {len(in_flight)}; "
            f"failed (5xx or no answer): {len(failed)}, all of them in flight"
        )
        print(
            f"after the kill: {len(after)} requests, "
            f"{sum(c.ok for c in after)} succeeded through nginx"
        )
        print(f"acknowledged writes verified through the survivor and through nginx: {checked}")
        print(
            f"nginx error log: {nginx_errors.count('connect() failed')} refused connections, "
            f"{nginx_errors.count('upstream prematurely closed')} upstream closes"
        )
        print(f"scale test passed in {time.monotonic() - began:.1f} s")
        return 0
    finally:
        if proxy is not None:
            stop_process_group(proxy, signal.SIGQUIT)
        for server in instances:
            server.stop()
        with contextlib.suppress(Exception):
            store = redis.Redis.from_url(redis_url)
            keys = list(store.scan_iter(match=f"*{prefix}*"))
            if keys:
                store.delete(*keys)
        try:
            drop_database(base, db_name)
        except Exception as exc:  # report, and go on cleaning up
            print(f"could not drop database {db_name}: {exc}", file=sys.stderr)
        if os.environ.get("OVERACHIEVER_KEEP_SCALE_LOGS"):
            print(f"logs kept in {folder}")
        else:
            shutil.rmtree(folder, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
