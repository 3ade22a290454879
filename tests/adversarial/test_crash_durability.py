"""Crash durability: writers keep writing while the server is SIGKILLed at random moments.

A writer records a write as acknowledged only after a 2xx answer. The server (gunicorn master
and workers) is killed with SIGKILL at random moments, several times, and restarted on the
same database each time. Afterwards every acknowledged write must be there, nothing may exist
twice or without having been asked for, and SQLite's integrity check must pass. Runs on SQLite,
and on PostgreSQL in the suite's PostgreSQL run.
"""

from __future__ import annotations

import http.client
import json
import random
import sqlite3
import threading
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from tests.support.adversarial import record_figures
from tests.support.database import on_postgresql
from tests.support.liveserver import LiveDatabases, Server, start_server

pytestmark = pytest.mark.live

# How a request cut off by the kill can end: refused or reset connections, a half-read answer.
CUT_OFF = (OSError, http.client.HTTPException, ValueError)
CYCLES = 6
WRITERS = 3
ENV = {"OVERACHIEVER_LOGIN_LIMIT": "100000/minute", "LOG_LEVEL": "WARNING"}


@dataclass
class Ledger:
    """What the writers asked for and what the server acknowledged."""

    lock: threading.Lock = field(default_factory=threading.Lock)
    acked_goals: dict[str, int] = field(default_factory=dict)  # name -> id
    attempted_names: set[str] = field(default_factory=set)
    acked_descriptions: dict[int, str] = field(default_factory=dict)  # id -> last acked value
    attempted_descriptions: dict[int, set[str]] = field(default_factory=dict)
    unanswered: int = 0
    errors: list[str] = field(default_factory=list)


class Target:
    """The server the writers talk to; swapped at every restart."""

    def __init__(self, server: Server) -> None:
        self.server = server
        self.lock = threading.Lock()

    def request(self, method: str, path: str, body: Any, headers: dict[str, str]) -> Any:
        with self.lock:
            server = self.server
        status, _, payload = server.request(method, path, body, headers=headers, timeout=10)
        return status, (json.loads(payload) if payload else None)


def _writer(
    number: int, target: Target, headers: dict[str, str], ledger: Ledger, stop: threading.Event
) -> None:
    rng = random.Random(number)
    seq = 0
    while not stop.is_set():
        seq += 1
        with ledger.lock:
            mine = [
                gid for name, gid in ledger.acked_goals.items() if name.startswith(f"w{number}-")
            ]
        if mine and rng.random() < 0.3:
            goal_id = rng.choice(mine)
            text = f"w{number} update {seq}"
            with ledger.lock:
                ledger.attempted_descriptions.setdefault(goal_id, set()).add(text)
            try:
                status, body = target.request(
                    "PATCH", f"/api/v2/goals/{goal_id}", {"description": text}, headers
                )
            except CUT_OFF:
                with ledger.lock:
                    ledger.unanswered += 1
                time.sleep(0.2)
                continue
            if status == 200:
                with ledger.lock:
                    ledger.acked_descriptions[goal_id] = text
            elif status >= 500:
                ledger.errors.append(f"PATCH {goal_id}: {status} {body}")
            continue
        name = f"w{number}-{seq}"
        with ledger.lock:
            ledger.attempted_names.add(name)
        try:
            status, body = target.request("POST", "/api/v2/goals", {"name": name}, headers)
        except CUT_OFF:
            with ledger.lock:
                ledger.unanswered += 1
            time.sleep(0.05)
            continue
        if status == 201:
            with ledger.lock:
                ledger.acked_goals[name] = int(body["id"])
        elif status >= 500:
            ledger.errors.append(f"POST {name}: {status} {body}")


def _all_goals(server: Server, headers: dict[str, str]) -> list[dict[str, Any]]:
    goals: list[dict[str, Any]] = []
    offset = 0
    while True:
        status, page = server.json(
            "GET", f"/api/v2/goals?limit=500&offset={offset}&sort=created", headers=headers
        )
        assert status == 200, page
        goals += page["items"]
        offset += 500
        if offset >= page["total"]:
            return goals


@pytest.fixture
def databases() -> Any:
    made = LiveDatabases()
    yield made
    made.drop_all()


def test_no_acknowledged_write_is_lost_across_sigkills(tmp_path: Path, databases: LiveDatabases):
    rng = random.Random(20261121)
    url = databases.new_url(tmp_path / "db")
    server = start_server(tmp_path / "run0", url, args=["--workers", "2"], env=ENV)
    headers = server.signup("durable")
    target = Target(server)
    ledger = Ledger()
    stop = threading.Event()
    threads = [
        threading.Thread(target=_writer, args=(n, target, headers, ledger, stop), daemon=True)
        for n in range(WRITERS)
    ]
    for thread in threads:
        thread.start()
    kills = 0
    try:
        for cycle in range(1, CYCLES + 1):
            time.sleep(rng.uniform(0.3, 1.5))
            server.kill()
            kills += 1
            server = start_server(tmp_path / f"run{cycle}", url, args=["--workers", "2"], env=ENV)
            with target.lock:
                target.server = server
        time.sleep(0.5)
    finally:
        stop.set()
        for thread in threads:
            thread.join(timeout=30)

    try:
        goals = _all_goals(server, headers)
    finally:
        server.stop()
    by_name = Counter(g["name"] for g in goals)
    found = {g["name"]: g for g in goals}
    lost = [
        name for name, gid in ledger.acked_goals.items() if found.get(name, {}).get("id") != gid
    ]
    duplicates = [name for name, n in by_name.items() if n > 1]
    unasked = [name for name in by_name if name not in ledger.attempted_names]
    stale = [
        gid
        for gid, text in ledger.acked_descriptions.items()
        if next(g for g in goals if g["id"] == gid)["description"]
        not in ledger.attempted_descriptions[gid]
        or _older(next(g for g in goals if g["id"] == gid)["description"], text)
    ]
    integrity = "n/a (PostgreSQL)"
    if not on_postgresql():
        path = url.removeprefix("sqlite:///")
        with sqlite3.connect(path) as conn:
            integrity = conn.execute("PRAGMA integrity_check").fetchone()[0]
        assert integrity == "ok"
    record_figures(
        "crash_durability",
        database="postgresql" if on_postgresql() else "sqlite",
        sigkills=kills,
        writers=WRITERS,
        acknowledged_creates=len(ledger.acked_goals),
        acknowledged_updates=len(ledger.acked_descriptions),
        attempted_creates=len(ledger.attempted_names),
        unanswered_requests=ledger.unanswered,
        goals_found=len(goals),
        lost=len(lost),
        duplicates=len(duplicates),
        unasked=len(unasked),
        stale_updates=len(stale),
        integrity_check=integrity,
    )
    assert kills >= 5
    assert not ledger.errors, ledger.errors[:5]
    assert len(ledger.acked_goals) >= CYCLES, "the writers should have got through between kills"
    assert ledger.unanswered > 0, "some requests should have been cut off by the kills"
    assert not lost, lost[:10]
    assert not duplicates, duplicates[:10]
    assert not unasked, unasked[:10]
    assert not stale, stale[:10]


def _older(found: str, acked: str) -> bool:
    """Whether the stored update is older than the last acknowledged one of the same writer."""
    # "wN update SEQ": a later sequence number is a later write of that writer.
    found_seq = int(found.rsplit(" ", 1)[1])
    acked_seq = int(acked.rsplit(" ", 1)[1])
    return found.split(" ")[0] == acked.split(" ")[0] and found_seq < acked_seq
