"""Transactions and pooled connections: what a request costs the database, and what it survives."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from typing import Any

import pytest
from sqlalchemy import event, text
from sqlalchemy.engine import make_url

from overachiever.core.db import db, read_transaction
from overachiever.goals import queries
from overachiever.goals.importing import ANALYZE_AFTER
from overachiever.goals.rules import ancestor_path, next_position
from overachiever.users.locks import owner_transaction
from overachiever.users.models import User
from tests.support.accounts import sign_up
from tests.support.database import admin_connection
from tests.support.services import bulk_create_chain


@pytest.fixture
def statements(app: Any) -> Iterator[list[str]]:
    """The SQL the app sends to the database while the test runs.

    On SQLite that is everything the driver runs, BEGIN and COMMIT included; on PostgreSQL,
    the statements SQLAlchemy sends (psycopg adds BEGIN and COMMIT itself).
    """
    sent: list[str] = []
    with app.app_context():
        engine = db.engine

    def record(sql: str) -> None:
        sent.append(" ".join(sql.split()))

    def trace(dbapi_conn: Any, _record: Any, _proxy: Any) -> None:
        dbapi_conn.set_trace_callback(record)

    def executed(_conn: Any, _cursor: Any, sql: str, *_args: Any) -> None:
        record(sql)

    hook: tuple[str, Any] = (
        ("checkout", trace) if _is_sqlite(app) else ("before_cursor_execute", executed)
    )
    event.listen(engine, *hook)
    yield sent
    event.remove(engine, *hook)


def _is_sqlite(app: Any) -> bool:
    return app.config["SQLALCHEMY_DATABASE_URI"].startswith("sqlite")


def test_a_single_read_is_two_statements_outside_any_transaction(app, client, statements):
    account = sign_up(client, "reader")
    goal = client.post("/api/v2/goals", json={"name": "read me"}, headers=account.headers)
    statements.clear()
    resp = client.get(f"/api/v2/goals/{goal.get_json()['id']}", headers=account.headers)
    assert resp.status_code == 200
    # The token, then the goal with its roll-ups: no BEGIN, no second look-up.
    assert len(statements) == 2, statements
    assert not any(s.upper().startswith(("BEGIN", "COMMIT", "ROLLBACK")) for s in statements)


@pytest.mark.parametrize("under_parent", [False, True])
def test_creating_a_goal_at_the_end_is_one_transaction_of_three_inserts(
    app, client, statements, under_parent
):
    account = sign_up(client, "writer")
    parent = None
    if under_parent:
        made = client.post("/api/v2/goals", json={"name": "parent"}, headers=account.headers)
        parent = made.get_json()["id"]
    client.post(
        "/api/v2/goals", json={"name": "first", "parent_id": parent}, headers=account.headers
    )
    statements.clear()
    resp = client.post(
        "/api/v2/goals", json={"name": "second", "parent_id": parent}, headers=account.headers
    )
    assert resp.status_code == 201
    assert (resp.get_json()["parent_id"], resp.get_json()["position"]) == (parent, 1)
    # The token; then, together: the operation (which locks its owner on PostgreSQL), the goal
    # (which checks its parent or owner itself), under a parent the look-up of its rule (an
    # auto parent would reopen), and its event.
    inserts = [s.split()[2] for s in statements if s.upper().startswith("INSERT")]
    assert inserts == ["operations", "goals", "goal_events"], statements
    kinds = [s.split()[0].upper() for s in statements[1:]]
    rules = ["SELECT"] if under_parent else []
    if _is_sqlite(app):
        assert kinds == ["BEGIN", "INSERT", "INSERT", *rules, "INSERT", "COMMIT"], statements
        assert statements[1] == "BEGIN IMMEDIATE"
    else:
        assert kinds == ["INSERT", "INSERT", *rules, "INSERT"], statements
        assert "FOR UPDATE" in statements[1], statements


def test_creating_a_goal_at_a_position_is_a_write_transaction(app, client, statements):
    account = sign_up(client, "writer")
    client.post("/api/v2/goals", json={"name": "first"}, headers=account.headers)
    statements.clear()
    resp = client.post(
        "/api/v2/goals", json={"name": "second", "position": 0}, headers=account.headers
    )
    assert resp.status_code == 201
    if _is_sqlite(app):
        # The token; then the operation, the siblings moved down, the insert and the events
        # (of the new goal and the sibling it moved), together: at the top level, with no
        # rule of its own, no rule can follow from it.
        kinds = [s.split()[0].upper() for s in statements[1:]]
        assert kinds == [
            "BEGIN",
            "INSERT",
            "UPDATE",
            "INSERT",
            "INSERT",
            "COMMIT",
        ], statements
        assert statements[1] == "BEGIN IMMEDIATE"
    listed = client.get("/api/v2/goals?sort=position", headers=account.headers).get_json()
    assert [(g["name"], g["position"]) for g in listed["items"]] == [("second", 0), ("first", 1)]


def test_a_name_clash_found_by_the_insert_is_a_409_that_names_the_goal(client):
    account = sign_up(client, "clash")
    parent = client.post("/api/v2/goals", json={"name": "p"}, headers=account.headers).get_json()
    body = {"name": "twin", "parent_id": parent["id"]}
    assert client.post("/api/v2/goals", json=body, headers=account.headers).status_code == 201
    resp = client.post("/api/v2/goals", json=body, headers=account.headers)
    assert resp.status_code == 409
    assert (
        resp.get_json()["detail"] == f"a goal named 'twin' already exists under goal {parent['id']}"
    )
    listed = client.get("/api/v2/goals", headers=account.headers).get_json()
    assert [g["name"] for g in listed["items"]] == ["p", "twin"]


def _wait_until_gone(conn: Any, database: str) -> None:
    """Wait until the terminated backends have exited (pg_terminate_backend only signals)."""
    for _ in range(100):
        row = conn.execute(
            "SELECT count(*) FROM pg_stat_activity WHERE datname = %s", (database,)
        ).fetchone()
        if row is not None and row[0] == 0:
            return
        time.sleep(0.05)
    raise AssertionError("the backends did not exit")


def test_a_pooled_connection_the_server_closed_is_replaced_before_a_request_gets_it(app, client):
    url = make_url(app.config["SQLALCHEMY_DATABASE_URI"])
    if not url.drivername.startswith("postgresql"):
        pytest.skip("only a database server closes connections")
    account = sign_up(client, "survivor")
    assert client.get("/api/v2/goals", headers=account.headers).status_code == 200
    with app.app_context():
        assert db.engine.pool.checkedin() >= 1  # a pooled connection waits for the next request
    # What a server restart does to every connection: the backends end, their sockets close.
    with admin_connection(url) as conn:
        ended = conn.execute(
            "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity "
            "WHERE datname = %s AND pid <> pg_backend_pid()",
            (url.database,),
        ).fetchone()
        assert ended is not None
        assert ended[0] >= 1
        _wait_until_gone(conn, url.database)
    for _ in range(3):
        assert client.get("/api/v2/goals", headers=account.headers).status_code == 200


def test_postgresql_connections_compile_no_jit_code(app, client):
    if not make_url(app.config["SQLALCHEMY_DATABASE_URI"]).drivername.startswith("postgresql"):
        pytest.skip("PostgreSQL's JIT compiler")
    account = sign_up(client, "paged")
    tree = {"name": "top", "children": [{"name": f"c{i}"} for i in range(499)]}
    ids = client.post("/api/v2/goals/import", json=tree, headers=account.headers).get_json()["ids"]
    with app.app_context():
        # The planner takes the roll-ups of a page of 500 goals for a walk of a million rows,
        # and would spend most of a second compiling it.
        conn = db.session.connection()
        plan = _plan(conn, queries.PAGE_STATS.on(conn), {"root_ids": ids}, analyze=True)
        assert not [line for line in plan if line.startswith("JIT")], plan
        assert db.session.execute(text("SHOW jit")).scalar() == "off"


def test_a_large_import_leaves_postgresql_planner_statistics_that_know_it(app, client):
    if not make_url(app.config["SQLALCHEMY_DATABASE_URI"]).drivername.startswith("postgresql"):
        pytest.skip("PostgreSQL's planner statistics")
    account = sign_up(client, "importer")
    chain = [f"step {i}" for i in range(ANALYZE_AFTER)]
    with app.app_context():
        bulk_create_chain(db.session.get(User, account.id), chain)
        planned = db.session.execute(
            text("SELECT reltuples FROM pg_class WHERE oid = 'goals'::regclass")
        ).scalar()
    # Without the refresh the planner still believes the table empty (-1: never analyzed),
    # and walks the chain with a scan of the table per level.
    assert planned is not None
    assert planned >= len(chain)


def test_postgresql_walks_trees_and_finds_positions_by_index_whatever_its_statistics(app, client):
    if not make_url(app.config["SQLALCHEMY_DATABASE_URI"]).drivername.startswith("postgresql"):
        pytest.skip("PostgreSQL's planner")
    reader, other = sign_up(client, "reader"), sign_up(client, "other")
    tree = {
        "name": "root",
        "children": [
            {"name": f"c{i}", "children": [{"name": f"g{j}"} for j in range(10)]} for i in range(10)
        ],
    }
    resp = client.post("/api/v2/goals/import", json=tree, headers=reader.headers)
    root, child, grandchild = (resp.get_json()["ids"][i] for i in (0, 1, 2))
    with app.app_context():
        # Another account's flat list: a few thousand goals, most of them without a parent.
        # Joined as a whole, the planner then expects each parent to have hundreds of children
        # and hashes the entire table at every level of a walk.
        db.session.execute(
            text(
                "INSERT INTO goals (owner_id, name, description, start, position, created_at,"
                " updated_at, version) SELECT :owner, 'flat ' || n, '', now(), n, now(), now(), 1"
                " FROM generate_series(1, 3000) AS n"
            ),
            {"owner": other.id},
        )
        db.session.commit()
        db.session.execute(text("ANALYZE goals"))
        db.session.commit()
        read_transaction()  # the subtree streams from a server-side cursor, as when served
        conn = db.session.connection()
        walks = {
            "goal": (queries.GOAL, {"goal_id": root, "owner_id": reader.id}),
            "roll-ups": (queries.STATS, {"root_ids": [root, child]}),
            "page roll-ups": (queries.PAGE_STATS, {"root_ids": [root, child, grandchild]}),
            "one goal": (queries.FIND_LIVE, {"goal_id": child, "owner_id": reader.id}),
            "subtree": (queries.SUBTREE, {"root_id": root}),
            "trash": (queries.SUBTREE_IDS, {"root_id": root}),
            "ancestors": (queries.ANCESTORS, {"start_id": grandchild, "goal_id": 0}),
            # The next top-level position of the account with thousands of top-level goals.
            "position": (queries.NEXT_POSITION[True], {"sibling_owner": other.id}),
            "names": (queries.NAMES_TAKEN, {"owner_id": other.id, "parent": 0, "names": ["a"]}),
        }
        for name, (statement, params) in walks.items():
            if isinstance(statement, queries.ByDialect):
                statement = statement.on(conn)
            plan = _plan(conn, statement, params)
            scans = [line for line in plan if "Seq Scan on goals" in line]
            assert not scans, f"{name}: {plan}"
        # And the walks still give the right answers.
        assert ancestor_path(0, grandchild) == [grandchild, child, root]
        assert next_position(other.id, None) == 3001
    got = client.get(f"/api/v2/goals/{root}", headers=reader.headers).get_json()
    assert (got["children_count"], got["descendants_count"]) == (10, 110)


def _plan(conn: Any, statement: Any, params: dict[str, Any], analyze: bool = False) -> list[str]:
    """PostgreSQL's plan of a statement, as the driver receives it (IN lists expanded)."""
    sent: list[tuple[str, Any]] = []

    def capture(_conn: Any, _cursor: Any, sql: str, parameters: Any, *_args: Any) -> None:
        sent.append((sql, parameters))

    event.listen(conn, "before_cursor_execute", capture)
    try:
        conn.execute(statement, params).fetchall()
    finally:
        event.remove(conn, "before_cursor_execute", capture)
    sql, parameters = sent[-1]
    explain = "EXPLAIN (ANALYZE) " if analyze else "EXPLAIN "
    return [row[0] for row in conn.exec_driver_sql(explain + sql, parameters)]


def test_sqlite_writers_wait_their_turn_in_the_queue_not_in_the_busy_timeout(make_app):
    # A busy timeout of 1 ms: a writer that polled for SQLite's lock would give up at once.
    app = make_app(SQLITE_BUSY_TIMEOUT_MS=1)
    client = app.test_client()
    alice = sign_up(client, "alice")
    holding, release = threading.Event(), threading.Event()

    def first_writer() -> None:
        with app.app_context(), owner_transaction(alice.id) as session:
            session.execute(text("UPDATE users SET name = name WHERE id = :id"), {"id": alice.id})
            holding.set()
            release.wait(10)

    first = threading.Thread(target=first_writer)
    first.start()
    assert holding.wait(10)
    answers: list[Any] = []
    second = threading.Thread(
        target=lambda: answers.append(
            client.post("/api/v2/goals", json={"name": "queued"}, headers=alice.headers)
        )
    )
    second.start()
    second.join(0.3)
    assert not answers, "the second writer wrote while the first held the write lock"
    release.set()
    first.join(10)
    second.join(10)
    assert answers[0].status_code == 201, answers[0].get_json()
    assert client.get("/api/v2/goals", headers=alice.headers).get_json()["total"] == 1
