"""The `overachiever` command line: migrations, users, tokens, demo data, OpenAPI, trash purge."""

from __future__ import annotations

import json
import os
import pty
import sqlite3
import subprocess
import threading
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select, update

from overachiever.core.db import db
from overachiever.goals.models import Goal
from overachiever.migrations import head_revision
from overachiever.users import service as user_service
from overachiever.users.models import User
from tests.support.cli import last_line
from tests.support.liveserver import overachiever_command


def _sqlite_path(url: str) -> str:
    return url.removeprefix("sqlite:///")


def _tables(url: str) -> set[str]:
    with sqlite3.connect(_sqlite_path(url)) as conn:
        rows = conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'").fetchall()
    return {name for (name,) in rows if not name.startswith("sqlite_")}


def _current(cli: Any) -> tuple[str, str]:
    """The (current, head) pair that `db current` reports."""
    out = cli("db", "current").stdout
    fields = dict(line.split(":", 1) for line in out.splitlines() if ":" in line)
    return fields["current"].strip(), fields["head"].split()[0]


def _bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def _tree(client: Any, token: str) -> dict[str, Any]:
    """The caller's forest as {name: subtree}."""
    resp = client.get("/api/v2/goals/tree", headers=_bearer(token))
    assert resp.status_code == 200, resp.get_json()

    def names(nodes: list[dict[str, Any]]) -> dict[str, Any]:
        return {n["name"]: names(n["children"]) for n in nodes}

    return names(resp.get_json()["items"])


# ---------------------------------------------------------------------------- db


def test_db_upgrade_current_downgrade_round_trip(cli, db_url):
    assert _current(cli)[0].startswith("none")

    out = cli("db", "upgrade").stdout
    assert f"database at {head_revision()}" in out
    assert {"users", "tokens", "goals", "alembic_version"} <= _tables(db_url)
    current, head = _current(cli)
    assert current == head == head_revision()
    assert "run: overachiever db upgrade" not in cli("db", "current").stdout

    out = cli("db", "downgrade", "base").stdout
    assert "base (empty)" in out
    assert _tables(db_url) == {"alembic_version"}
    with sqlite3.connect(_sqlite_path(db_url)) as conn:
        assert conn.execute("SELECT count(*) FROM alembic_version").fetchone() == (0,)
    current, head = _current(cli)
    assert current.startswith("none")
    assert "run: overachiever db upgrade" in cli("db", "current").stdout

    cli("db", "upgrade")
    assert _current(cli)[0] == head_revision()
    assert {"users", "tokens", "goals"} <= _tables(db_url)


def test_db_upgrade_twice_is_a_no_op(cli, migrated, db_url):
    cli("users", "create", "ann", "--email", "ann@example.com", "--password", "password-1")
    cli("db", "upgrade")
    assert "ann" in cli("users", "list").stdout


# ---------------------------------------------------------------------------- users


def _users(api_app: Any) -> dict[str, tuple[str, bool]]:
    with api_app.app_context():
        rows = db.session.execute(select(User)).scalars().all()
        return {u.name: (u.email, u.is_admin) for u in rows}


def test_users_create_first_is_admin_and_list(cli, migrated, api_app):
    out = cli("users", "create", "ann", "--email", "Ann@Example.com", "--password", "pw-ann-123")
    assert "(admin)" in out.stdout
    out = cli("users", "create", "bob", "--email", "bob@example.com", "--password", "pw-bob-123")
    assert "(admin)" not in out.stdout
    cli("users", "create", "Simone Giertz", "--email", "s@example.com", "--password", "pw-s-1234")
    cli(
        "users", "create", "carol", "--email", "c@example.com", "--password", "pw-c-1234", "--admin"
    )

    assert _users(api_app) == {
        "ann": ("ann@example.com", True),
        "bob": ("bob@example.com", False),
        "Simone Giertz": ("s@example.com", False),
        "carol": ("c@example.com", True),
    }
    listing = cli("users", "list").stdout.splitlines()
    assert "NAME" in listing[0]
    rows = {line.split()[1]: line for line in listing[1:]}
    assert set(rows) == {"ann", "bob", "Simone", "carol"}
    assert rows["ann"].rstrip().endswith("yes")
    assert rows["carol"].rstrip().endswith("yes")
    assert not rows["bob"].rstrip().endswith("yes")
    assert "bob@example.com" in rows["bob"]


def test_users_create_password_is_prompted(cli, migrated, api_app):
    cli("users", "create", "dan", "--email", "dan@example.com", input="s3cret-pass\ns3cret-pass\n")
    with api_app.app_context():
        assert user_service.authenticate("dan", "s3cret-pass") is not None


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["ann", "--email", "other@example.com"], "taken"),
        (["other", "--email", "ANN@example.com"], "already registered"),
        (["bad", "--email", "not-an-email"], "email"),
        (["short", "--email", "short@example.com", "--password", "1234567"], "password"),
        (["a@b", "--email", "ab@example.com"], "@"),
        (["", "--email", "empty@example.com"], "name"),
    ],
)
def test_users_create_refuses_bad_input(cli, migrated, api_app, args, message):
    cli("users", "create", "ann", "--email", "ann@example.com", "--password", "password-1")
    if "--password" not in args:
        args = [*args, "--password", "password-2"]
    result = cli("users", "create", *args, ok=False)
    assert result.exit_code != 0
    assert message in result.stderr
    assert "Traceback" not in result.output
    assert set(_users(api_app)) == {"ann"}


def test_users_set_password(cli, migrated, api_app):
    cli("users", "create", "ann", "--email", "ann@example.com", "--password", "old-password")
    out = cli("users", "set-password", "ann", "--password", "new-password").stdout
    assert "changed" in out
    with api_app.app_context():
        assert user_service.authenticate("ann", "new-password") is not None
        assert user_service.authenticate("ann", "old-password") is None

    # Prompted when left out.
    cli("users", "set-password", "ann", input="third-password\nthird-password\n")
    with api_app.app_context():
        assert user_service.authenticate("ann@example.com", "third-password") is not None


def test_users_set_password_revokes_the_users_tokens(cli, migrated, api_app):
    cli("users", "create", "ann", "--email", "ann@example.com", "--password", "old-password")
    token = last_line(cli("tokens", "create", "ann"))
    client = api_app.test_client()
    headers = {"Authorization": f"Bearer {token}"}
    assert client.get("/api/v2/users/self", headers=headers).status_code == 200
    out = cli("users", "set-password", "ann", "--password", "new-password").stdout
    assert "1 of their tokens revoked" in out
    assert client.get("/api/v2/users/self", headers=headers).status_code == 401


def test_users_set_password_refuses_unknown_user_and_short_password(cli, migrated, api_app):
    cli("users", "create", "ann", "--email", "ann@example.com", "--password", "old-password")
    result = cli("users", "set-password", "nobody", "--password", "new-password", ok=False)
    assert result.exit_code != 0
    assert "nobody" in result.stderr
    result = cli("users", "set-password", "ann", "--password", "short", ok=False)
    assert result.exit_code != 0
    with api_app.app_context():
        assert user_service.authenticate("ann", "old-password") is not None


# ---------------------------------------------------------------------------- tokens


def test_tokens_create_prints_a_working_token_on_the_last_line(cli, migrated, api_app):
    cli("users", "create", "ann", "--email", "ann@example.com", "--password", "password-1")
    result = cli("tokens", "create", "ann")
    token = last_line(result)
    assert token.startswith("oa_")
    assert token == token.strip()
    assert len(token) >= 3 + 43  # 32 random bytes, url-safe base64

    client = api_app.test_client()
    resp = client.get("/api/v2/users/self", headers=_bearer(token))
    assert resp.status_code == 200
    assert resp.get_json()["name"] == "ann"
    resp = client.get("/api/v2/users/self", headers=_bearer(token[:-1] + "x"))
    assert resp.status_code == 401


def test_tokens_create_with_name_and_expiry(cli, migrated, api_app):
    cli("users", "create", "ann", "--email", "ann@example.com", "--password", "password-1")
    before = datetime.now(UTC)
    token = last_line(cli("tokens", "create", "ann", "--name", "laptop", "--expires-in", "7"))

    resp = api_app.test_client().get("/api/v2/tokens", headers=_bearer(token))
    assert resp.status_code == 200
    (item,) = resp.get_json()["items"]
    assert item["name"] == "laptop"
    assert "token" not in item
    expires = datetime.fromisoformat(item["expires_at"].replace("Z", "+00:00"))
    assert before + timedelta(days=7) <= expires <= datetime.now(UTC) + timedelta(days=7)


def test_tokens_create_refuses_unknown_user(cli, migrated):
    result = cli("tokens", "create", "nobody", ok=False)
    assert result.exit_code != 0
    assert "nobody" in result.stderr
    assert "oa_" not in result.stdout


def test_tokens_create_refuses_bad_expiry(cli, migrated):
    cli("users", "create", "ann", "--email", "ann@example.com", "--password", "password-1")
    result = cli("tokens", "create", "ann", "--expires-in", "0", ok=False)
    assert result.exit_code == 2
    assert "oa_" not in result.stdout


# ---------------------------------------------------------------------------- demo

ARTICLE_TREE = {
    "goal-0": {},
    "goal-1": {"goal-2": {}, "goal-3": {"goal-4": {}, "goal-5": {}, "goal-6": {}}},
}


def test_demo_loads_the_article_data(cli, migrated, api_app):
    token = last_line(cli("demo"))
    client = api_app.test_client()
    me = client.get("/api/v2/users/self", headers=_bearer(token)).get_json()
    assert me["name"] == "user-1"
    assert me["is_admin"] is True
    assert _tree(client, token) == ARTICLE_TREE

    token2 = last_line(cli("tokens", "create", "user-2"))
    assert _tree(client, token2) == {"goal-7": {}}
    token3 = last_line(cli("tokens", "create", "user-3"))
    assert _tree(client, token3) == {}

    # The demo password is the documented one.
    with api_app.app_context():
        assert user_service.authenticate("user-2", "overachiever") is not None


def test_demo_twice_is_harmless(cli, migrated, api_app):
    first = last_line(cli("demo"))
    second = last_line(cli("demo"))
    assert first != second
    client = api_app.test_client()
    assert _tree(client, first) == ARTICLE_TREE
    assert _tree(client, second) == ARTICLE_TREE
    with api_app.app_context():
        assert db.session.query(User).count() == 3
        assert db.session.query(Goal).count() == 8


def test_demo_keeps_existing_users_and_adds_missing_goals(cli, migrated, api_app):
    cli("users", "create", "ann", "--email", "ann@example.com", "--password", "password-1")
    token = last_line(cli("demo"))
    client = api_app.test_client()
    # A user made earlier keeps the admin role; user-1 is an ordinary user then.
    assert client.get("/api/v2/users/self", headers=_bearer(token)).get_json()["is_admin"] is False
    goal_3 = next(
        g
        for g in client.get("/api/v2/goals?limit=500", headers=_bearer(token)).get_json()["items"]
        if g["name"] == "goal-3"
    )
    assert client.delete(f"/api/v2/goals/{goal_3['id']}", headers=_bearer(token)).status_code == 204

    last_line(cli("demo"))
    assert _tree(client, token) == ARTICLE_TREE
    assert set(_users(api_app)) == {"ann", "user-1", "user-2", "user-3"}


def _read_all(fd: int, sink: bytearray) -> None:
    while True:
        try:
            chunk = os.read(fd, 4096)
        except OSError:  # EIO: the other side of the pty is closed
            return
        if not chunk:
            return
        sink.extend(chunk)


def test_demo_generates_a_forest_with_a_progress_bar(db_url, migrated, api_app, tmp_path):
    # Run as a real process with stderr on a terminal, where click draws the bar.
    leader, follower = pty.openpty()
    seen = bytearray()
    reader = threading.Thread(target=_read_all, args=(leader, seen), daemon=True)
    reader.start()
    try:
        proc = subprocess.run(
            [*overachiever_command(), "demo", "--goals", "250", "--user", "gen"],
            stdout=subprocess.PIPE,
            stderr=follower,
            stdin=subprocess.DEVNULL,
            env={**os.environ, "TERM": "xterm"},
            timeout=60,
            check=False,
        )
    finally:
        os.close(follower)
        reader.join(timeout=10)
        os.close(leader)
    bar = seen.decode(errors="replace")
    assert proc.returncode == 0, bar
    assert "creating 250 goals" in bar
    assert "100%" in bar

    token = proc.stdout.decode().splitlines()[-1]
    client = api_app.test_client()
    assert client.get("/api/v2/users/self", headers=_bearer(token)).get_json()["name"] == "gen"
    resp = client.get("/api/v2/goals/tree?format=flat", headers=_bearer(token))
    assert resp.status_code == 200
    items = resp.get_json()["items"]
    assert len(items) == 250
    assert len({g["name"] for g in items}) == 250
    children: dict[int | None, int] = {}
    for g in items:
        children[g["parent_id"]] = children.get(g["parent_id"], 0) + 1
    assert children.pop(None) == 10  # ten roots
    assert max(children.values()) <= 10
    depths: dict[int, int] = {}
    for g in items:
        depths[g["depth"]] = depths.get(g["depth"], 0) + 1
    # Filled breadth first: 10 roots, 100 below them, the other 140 on the third level.
    assert depths == {0: 10, 1: 100, 2: 140}
    # Every third goal is done.
    assert sum(1 for g in items if g["end"] is not None) == 250 // 3


def test_demo_generate_in_process_reports_progress_and_refuses_a_second_run(cli, migrated):
    result = cli("demo", "--goals", "25", "--user", "gen")
    assert "creating 25 goals" in result.stderr
    assert last_line(result).startswith("oa_")
    again = cli("demo", "--goals", "25", "--user", "gen", ok=False)
    assert again.exit_code != 0
    assert "already has goals" in again.stderr


# ---------------------------------------------------------------------------- openapi, trash


def test_openapi_writes_the_document(cli, migrated, tmp_path):
    target = tmp_path / "openapi.json"
    cli("openapi", "-o", str(target))
    spec = json.loads(target.read_text(encoding="utf-8"))
    assert spec["openapi"] == "3.1.0"
    assert "/api/v2/goals" in spec["paths"]

    printed = json.loads(cli("openapi").stdout)
    assert printed == spec


def test_purge_trash_prints_the_count(cli, migrated, api_app):
    token = last_line(cli("demo"))
    client = api_app.test_client()
    goals = {
        g["name"]: g["id"]
        for g in client.get("/api/v2/goals?limit=500", headers=_bearer(token)).get_json()["items"]
    }
    for name in ("goal-3", "goal-0"):
        resp = client.delete(f"/api/v2/goals/{goals[name]}", headers=_bearer(token))
        assert resp.status_code == 204

    assert cli("purge-trash").stdout.strip() == "purged 0 goals"

    # goal-3 and its three children have been in the trash for longer than the 30 days.
    with api_app.app_context():
        db.session.execute(
            update(Goal)
            .where(Goal.trash_root_id == goals["goal-3"])
            .values(deleted_at=datetime.now(UTC) - timedelta(days=31))
        )
        db.session.commit()
    assert cli("purge-trash").stdout.strip() == "purged 4 goals"

    trash = client.get("/api/v2/trash", headers=_bearer(token)).get_json()["items"]
    assert [t["name"] for t in trash] == ["goal-0"]
    with api_app.app_context():
        assert db.session.query(Goal).count() == 8 - 4


@pytest.mark.parametrize(
    ("port_env", "args", "expected"),
    [
        (None, [], ("127.0.0.1", 5000)),
        ("8123", [], ("127.0.0.1", 8123)),
        ("8123", ["--port", "9001", "--host", "0.0.0.0"], ("0.0.0.0", 9001)),  # noqa: S104
    ],
)
def test_serve_options_and_port_default(cli, db_url, monkeypatch, port_env, args, expected):
    import overachiever.server

    calls: list[tuple[Any, ...]] = []
    monkeypatch.setattr(overachiever.server, "serve", lambda *a: calls.append(a))
    if port_env is not None:
        monkeypatch.setenv("PORT", port_env)
    cli("serve", *args)
    assert len(calls) == 1
    host, port, workers, threads = calls[0]
    assert (host, port) == expected
    assert workers == overachiever.server.default_workers()
    assert threads == overachiever.server.DEFAULT_THREADS == 2
    # serve migrated the database before starting.
    assert _current(cli)[0] == head_revision()


def test_serve_refuses_a_bad_port_variable(cli, migrated, monkeypatch):
    monkeypatch.setenv("PORT", "not-a-port")
    result = cli("serve", ok=False)
    assert result.exit_code == 2
    assert "--port" in result.stderr
    assert result.exception is None or isinstance(result.exception, SystemExit)


def test_help_lists_the_commands(cli):
    out = cli("--help").stdout
    for command in ("serve", "db", "users", "tokens", "demo", "openapi", "purge-trash"):
        assert command in out


def test_console_script_is_installed(tmp_path: Path, db_url: str):
    proc = subprocess.run(
        [*overachiever_command(), "db", "current"],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr
    assert "current: none" in proc.stdout
