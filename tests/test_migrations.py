"""Alembic migrations: head is exactly the models' schema, downgrades are clean, starts are safe.

Runs on SQLite; when OVERACHIEVER_TEST_DATABASE_URL names a PostgreSQL database, the schema
tests run there as well (that database is emptied first).
"""

from __future__ import annotations

import os
import re
import sqlite3
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import MetaData, inspect, text
from sqlalchemy.engine import Engine

from overachiever import create_app, migrations
from overachiever.core.db import db

PG_URL = re.sub(
    r"^postgres(ql)?://",
    "postgresql+psycopg://",
    os.environ.get("OVERACHIEVER_TEST_DATABASE_URL", ""),
)
MODEL_TABLES = {
    "users",
    "tokens",
    "goals",
    "idempotency_keys",
    "operations",
    "goal_events",
    "shares",
    "calendar_feeds",
    "app_secrets",
}

# SQLite cannot reflect expression indexes (the sqlite_master comparison covers them there).
pytestmark = [
    pytest.mark.filterwarnings(
        "ignore:Skipped unsupported reflection of expression-based index:sqlalchemy.exc.SAWarning"
    ),
    pytest.mark.filterwarnings("ignore:autogenerate skipping metadata-specified expression"),
]


@pytest.fixture(
    params=[
        "sqlite",
        pytest.param(
            "postgresql",
            marks=pytest.mark.skipif(
                not PG_URL.startswith(("postgres://", "postgresql")),
                reason="OVERACHIEVER_TEST_DATABASE_URL is not a PostgreSQL database",
            ),
        ),
    ]
)
def app(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Any]:
    """An app on an empty database (SQLite file, or the emptied PostgreSQL test database)."""
    url = PG_URL if request.param == "postgresql" else f"sqlite:///{tmp_path / 'migrate.db'}"
    application = create_app({"TESTING": True, "SQLALCHEMY_DATABASE_URI": url})
    with application.app_context():
        _empty(db.engine)
        yield application
        db.session.remove()
        _empty(db.engine)
        db.engine.dispose()


def _empty(engine: Engine) -> None:
    """Drop every table, alembic's included."""
    meta = MetaData()
    meta.reflect(bind=engine)
    meta.drop_all(bind=engine)


def _table_names(engine: Engine) -> set[str]:
    return set(inspect(engine).get_table_names())


def _diff(engine: Engine) -> list[Any]:
    with engine.connect() as conn:
        context = MigrationContext.configure(conn, opts={"compare_type": True})
        return list(compare_metadata(context, db.metadata))


def _norm(sql: str | None) -> str:
    return re.sub(r"\s+", " ", sql or "").replace("( ", "(").replace(" )", ")").strip()


def _snapshot(engine: Engine) -> dict[str, Any]:
    """Everything the database reports about the models' tables."""
    insp = inspect(engine)
    shot: dict[str, Any] = {}
    for table in sorted(set(insp.get_table_names()) - {"alembic_version"}):
        shot[table] = {
            "columns": [
                (c["name"], str(c["type"]), c["nullable"], c.get("default"))
                for c in insp.get_columns(table)
            ],
            "pk": insp.get_pk_constraint(table),
            "indexes": sorted(
                (
                    i["name"],
                    tuple(i["column_names"]),
                    tuple(_norm(e) for e in i.get("expressions", ())),
                    bool(i["unique"]),
                    repr(sorted((i.get("dialect_options") or {}).items())),
                )
                for i in insp.get_indexes(table)
            ),
            "uniques": sorted(
                (u["name"], tuple(u["column_names"])) for u in insp.get_unique_constraints(table)
            ),
            "fks": sorted(
                (
                    f["name"],
                    tuple(f["constrained_columns"]),
                    f["referred_table"],
                    tuple(f["referred_columns"]),
                    repr(sorted(f.get("options", {}).items())),
                )
                for f in insp.get_foreign_keys(table)
            ),
            "checks": sorted(
                (c["name"], _norm(c["sqltext"])) for c in insp.get_check_constraints(table)
            ),
        }
    return shot


def _sqlite_master(engine: Engine) -> list[tuple[str, str, str, str]]:
    with engine.connect() as conn:
        rows = conn.exec_driver_sql(
            "SELECT type, name, tbl_name, sql FROM sqlite_master "
            "WHERE tbl_name != 'alembic_version' ORDER BY type, name"
        ).all()
    return [(t, n, tbl, _norm(sql)) for t, n, tbl, sql in rows]


def _sibling_index_sql(engine: Engine) -> str:
    """The definition of the expression index that keeps live sibling names unique."""
    with engine.connect() as conn:
        if engine.dialect.name == "sqlite":
            sql = conn.execute(
                text("SELECT sql FROM sqlite_master WHERE name = 'uq_goals_live_sibling_name'")
            ).scalar()
        else:
            sql = conn.execute(
                text(
                    "SELECT indexdef FROM pg_indexes WHERE indexname = 'uq_goals_live_sibling_name'"
                )
            ).scalar()
    return _norm(sql).lower()


def test_head_is_exactly_the_models_schema(app):
    engine = db.engine
    migrations.upgrade()
    assert _table_names(engine) == MODEL_TABLES | {"alembic_version"}
    assert migrations.current_revision() == migrations.head_revision()
    assert _diff(engine) == []
    migrated = _snapshot(engine)
    index_sql = _sibling_index_sql(engine)
    master = _sqlite_master(engine) if engine.dialect.name == "sqlite" else None

    _empty(engine)
    db.create_all()
    assert _table_names(engine) == MODEL_TABLES
    assert _snapshot(engine) == migrated
    assert _sibling_index_sql(engine) == index_sql
    if master is not None:
        assert _sqlite_master(engine) == master

    # The expression index and its partial WHERE are really there (on both sides, as compared).
    assert "unique" in index_sql
    assert re.search(r"\(owner_id, coalesce\(parent_id, \(?0\)?(::bigint)?\), name\)", index_sql)
    assert "deleted_at is null" in index_sql
    assert set(migrated) == MODEL_TABLES


def test_migrated_schema_enforces_live_sibling_names(app):
    migrations.upgrade()
    now = "2026-01-01 00:00:00"
    with db.engine.begin() as conn:
        conn.execute(
            text(
                "INSERT INTO users (id, name, email, is_admin, created_at) "
                "VALUES (1, 'u', 'u@example.com', false, :now)"
            ),
            {"now": now},
        )
    insert_goal = text(
        "INSERT INTO goals (owner_id, parent_id, name, description, start, position, "
        "created_at, updated_at, version, deleted_at) VALUES (1, NULL, :name, '', :now, 0, "
        ":now, :now, 1, :deleted)"
    )
    with db.engine.begin() as conn:
        conn.execute(insert_goal, {"name": "a", "now": now, "deleted": None})
        # A trashed goal of the same name is allowed beside the live one.
        conn.execute(insert_goal, {"name": "a", "now": now, "deleted": now})
    with pytest.raises(Exception, match=r"(?i)unique"), db.engine.begin() as conn:
        conn.execute(insert_goal, {"name": "a", "now": now, "deleted": None})


def test_downgrade_to_base_leaves_only_an_empty_version_table(app):
    engine = db.engine
    migrations.upgrade()
    migrations.downgrade("base")
    assert _table_names(engine) == {"alembic_version"}
    with engine.connect() as conn:
        assert conn.execute(text("SELECT count(*) FROM alembic_version")).scalar() == 0
    assert migrations.current_revision() is None


def test_upgrade_downgrade_upgrade_round_trip(app):
    engine = db.engine
    migrations.upgrade()
    first = _snapshot(engine)
    migrations.downgrade("base")
    migrations.upgrade()
    assert migrations.current_revision() == migrations.head_revision()
    assert _snapshot(engine) == first
    assert _diff(engine) == []
    # Upgrading an up-to-date database changes nothing.
    migrations.upgrade()
    assert _snapshot(engine) == first


def test_step_by_step_downgrade_then_upgrade(app):
    migrations.upgrade()
    while migrations.current_revision() is not None:
        migrations.downgrade("-1")
    assert _table_names(db.engine) == {"alembic_version"}
    migrations.upgrade()
    assert _diff(db.engine) == []


# ---------------------------------------------------------------------------- concurrent starts


def _overachiever() -> list[str]:
    script = Path(sys.executable).with_name("overachiever")
    return [str(script)] if script.exists() else [sys.executable, "-m", "overachiever.cli"]


def test_two_processes_migrating_one_fresh_sqlite_file_both_succeed(tmp_path):
    path = tmp_path / "fresh.db"
    env = {
        **os.environ,
        "DATABASE_URL": f"sqlite:///{path}",
        "OVERACHIEVER_INSTANCE_PATH": str(tmp_path / "instance"),
        "LOG_LEVEL": "INFO",
    }
    # Hold the write lock of the (empty) file while both processes start, so that both are
    # certainly inside their migration at the same moment when it is released.
    blocker = sqlite3.connect(path, isolation_level=None)
    blocker.execute("PRAGMA journal_mode = WAL")
    blocker.execute("BEGIN IMMEDIATE")
    procs: list[subprocess.Popen[bytes]] = []
    logs = [tmp_path / f"upgrade-{i}.log" for i in range(2)]
    try:
        for log in logs:
            with log.open("wb") as err:
                procs.append(
                    subprocess.Popen(
                        [*_overachiever(), "db", "upgrade"],
                        stdout=subprocess.PIPE,
                        stderr=err,
                        stdin=subprocess.DEVNULL,
                        env=env,
                    )
                )
        # Both have configured their migration context and now wait for the lock.
        deadline = time.monotonic() + 30
        while not all("Will assume transactional DDL" in log.read_text() for log in logs):
            assert time.monotonic() < deadline, [log.read_text() for log in logs]
            assert all(p.poll() is None for p in procs), [log.read_text() for log in logs]
            time.sleep(0.05)
        time.sleep(0.3)
    finally:
        if blocker.in_transaction:
            blocker.rollback()
        blocker.close()
    outputs = []
    try:
        for proc in procs:
            out, _ = proc.communicate(timeout=60)
            outputs.append(out.decode())
    finally:
        for proc in procs:
            if proc.poll() is None:
                proc.kill()
                proc.wait()
    errors = [log.read_text() for log in logs]
    assert [p.returncode for p in procs] == [0, 0], errors
    head = migrations.head_revision()
    assert all(f"database at {head}" in out for out in outputs), outputs
    # The migrations ran in one process only; the other found the schema current.
    assert sum("Running upgrade" in e for e in errors) == 1, errors

    with sqlite3.connect(path) as conn:
        assert conn.execute("SELECT version_num FROM alembic_version").fetchall() == [(head,)]
        tables = {n for (n,) in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
    # sqlite_sequence is SQLite's own record of the AUTOINCREMENT keys.
    assert tables == MODEL_TABLES | {"alembic_version", "sqlite_sequence"}


def test_never_reused_ids_revision_keeps_every_row_and_reference(tmp_path):
    """0003 rebuilds SQLite's tables: rows, keys and references survive; old ids stay unused."""
    url = f"sqlite:///{tmp_path / 'data.db'}"
    application = create_app({"TESTING": True, "SQLALCHEMY_DATABASE_URI": url})
    with application.app_context():
        migrations.upgrade("0002")
        with db.engine.begin() as conn:
            conn.exec_driver_sql(
                "INSERT INTO users (id, name, email, is_admin, created_at) VALUES "
                "(1, 'ann', 'ann@example.com', 1, '2026-01-01 00:00:00'),"
                "(2, 'ben', 'ben@example.com', 0, '2026-01-01 00:00:00')"
            )
            conn.exec_driver_sql(
                "INSERT INTO tokens (id, user_id, name, digest, created_at) "
                "VALUES (5, 2, 'cli', 'abc', '2026-01-01 00:00:00')"
            )
            conn.exec_driver_sql(
                "INSERT INTO goals (id, owner_id, parent_id, name, description, start, position,"
                " created_at, updated_at, version) VALUES "
                "(7, 2, NULL, 'root', '', '2026-01-01', 0, '2026-01-01', '2026-01-01', 1),"
                "(8, 2, 7, 'leaf', '', '2026-01-01', 0, '2026-01-01', '2026-01-01', 1)"
            )
        migrations.upgrade()
        with db.engine.begin() as conn:
            rows = {
                t: conn.exec_driver_sql(f"SELECT * FROM {t} ORDER BY id").all()  # noqa: S608
                for t in ("users", "tokens", "goals")
            }
            assert [r[0] for r in rows["users"]] == [1, 2]
            assert [(r[0], r[1]) for r in rows["tokens"]] == [(5, 2)]
            assert [(r[0], r[1], r[2]) for r in rows["goals"]] == [(7, 2, None), (8, 2, 7)]
            assert conn.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1
            assert conn.exec_driver_sql("PRAGMA foreign_key_check").all() == []
            # The newest goal is deleted; the next one still gets a new id.
            conn.exec_driver_sql("DELETE FROM goals WHERE id = 8")
            conn.exec_driver_sql(
                "INSERT INTO goals (owner_id, parent_id, name, description, start, position,"
                " created_at, updated_at, version) VALUES "
                "(2, 7, 'again', '', '2026-01-01', 0, '2026-01-01', '2026-01-01', 1)"
            )
            assert conn.exec_driver_sql("SELECT max(id) FROM goals").scalar() == 9
        assert _diff(db.engine) == []
        db.engine.dispose()


def test_history_revision_records_the_goals_that_exist(app):
    """0006 gives each goal a created event at its created_at, and trashed ones a trashed event,
    in one baseline operation per owner that cannot be undone."""
    migrations.upgrade("0005")
    created, trashed_at = "2025-01-02 03:04:05", "2025-02-03 04:05:06"
    with db.engine.begin() as conn:
        conn.execute(
            text(
                "INSERT INTO users (id, name, email, is_admin, created_at)"
                " VALUES (7, 'old', 'old@example.com', TRUE, :at)"
            ),
            {"at": created},
        )
        for goal_id, parent, deleted in ((1, None, None), (2, 1, None), (3, None, trashed_at)):
            conn.execute(
                text(
                    "INSERT INTO goals (id, owner_id, parent_id, name, description, start,"
                    " position, created_at, updated_at, version, deleted_at, trash_root_id)"
                    " VALUES (:id, 7, :parent, :name, '', :at, 0, :at, :at, 1, :deleted,"
                    " :root)"
                ),
                {
                    "id": goal_id,
                    "parent": parent,
                    "name": f"g{goal_id}",
                    "at": created,
                    "deleted": deleted,
                    "root": goal_id if deleted else None,
                },
            )
    migrations.upgrade()
    with db.engine.connect() as conn:
        ops = conn.execute(text("SELECT id, owner_id, kind FROM operations")).all()
        events = conn.execute(
            text(
                "SELECT goal_id, kind, prev_id IS NULL, name, parent_id"
                " FROM goal_events ORDER BY id"
            )
        ).all()
        marked = conn.execute(text("SELECT DISTINCT operation_id FROM goals")).scalars().all()
    assert [(o[1], o[2]) for o in ops] == [(7, "baseline")]
    assert [tuple(e) for e in events] == [
        (1, "created", True, "g1", None),
        (2, "created", True, "g2", 1),
        (3, "created", True, "g3", None),
        (3, "trashed", False, "g3", None),
    ]
    assert marked == [ops[0][0]]
    from overachiever.core.errors import NotUndoable
    from overachiever.history.undo import undo
    from overachiever.users.models import User

    owner = db.session.get(User, 7)
    with pytest.raises(NotUndoable):
        undo(owner=owner, operation_id=ops[0][0])


def test_postgresql_is_told_that_parents_are_many(app):
    """Migrations and create_all both fix parent_id's n_distinct (see goals.models)."""
    if db.engine.dialect.name != "postgresql":
        pytest.skip("a PostgreSQL column option")
    attoptions = text(
        "SELECT attoptions FROM pg_attribute"
        " WHERE attrelid = 'goals'::regclass AND attname = 'parent_id'"
    )
    migrations.upgrade()
    with db.engine.connect() as conn:
        assert "n_distinct=-0.1" in conn.execute(attoptions).scalar()
    _empty(db.engine)
    db.create_all()
    with db.engine.connect() as conn:
        assert "n_distinct=-0.1" in conn.execute(attoptions).scalar()
