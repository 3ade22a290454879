"""SQLite: users, tokens and goals get AUTOINCREMENT, so a deleted row's id is never reused.

Without it SQLite hands the highest id of a deleted row to the next insert, and a stale client
holding that id reaches someone else's new row. PostgreSQL's sequences never reuse ids, so
there this revision does nothing.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-21
"""

from __future__ import annotations

import re

from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None

TABLES = ("users", "tokens", "goals")


def _rebuild(table: str, autoincrement: bool) -> None:
    """Recreate one table from its own stored definition with the key changed; keep rows.

    env.py runs SQLite migrations with foreign keys off (and checks them before commit), so
    dropping `users` here does not cascade to goals and tokens.
    """
    conn = op.get_bind()
    sql = conn.exec_driver_sql(
        "SELECT sql FROM sqlite_master WHERE type = 'table' AND name = ?", (table,)
    ).scalar_one()
    indexes = (
        conn.exec_driver_sql(
            "SELECT sql FROM sqlite_master WHERE type = 'index' AND tbl_name = ? "
            "AND sql IS NOT NULL ORDER BY name",
            (table,),
        )
        .scalars()
        .all()
    )
    # The two forms SQLAlchemy writes for the key, without and with sqlite_autoincrement.
    plain, auto = "id INTEGER NOT NULL,", "id INTEGER NOT NULL PRIMARY KEY AUTOINCREMENT,"
    named_key = rf"\s*CONSTRAINT pk_{table} PRIMARY KEY \(id\),"
    if autoincrement:
        new_sql = re.sub(named_key, "", sql.replace(plain, auto, 1), count=1)
    else:
        new_sql = sql.replace(auto, plain, 1).replace(
            "CONSTRAINT", f"CONSTRAINT pk_{table} PRIMARY KEY (id), \n\tCONSTRAINT", 1
        )
    if new_sql == sql:
        raise RuntimeError(f"unexpected definition of {table}: {sql}")
    # `table` is one of TABLES, never input.
    conn.exec_driver_sql(f"CREATE TEMP TABLE _rebuild_copy AS SELECT * FROM {table}")  # noqa: S608
    conn.exec_driver_sql(f"DROP TABLE {table}")
    conn.exec_driver_sql(new_sql)
    conn.exec_driver_sql(f"INSERT INTO {table} SELECT * FROM _rebuild_copy")  # noqa: S608
    conn.exec_driver_sql("DROP TABLE _rebuild_copy")
    for index_sql in indexes:
        conn.exec_driver_sql(index_sql)


def upgrade() -> None:
    """Rebuild the three tables with AUTOINCREMENT keys (SQLite only)."""
    if op.get_bind().dialect.name == "sqlite":
        for table in TABLES:
            _rebuild(table, autoincrement=True)


def downgrade() -> None:
    """Rebuild them with plain rowid keys again (SQLite only)."""
    if op.get_bind().dialect.name == "sqlite":
        for table in TABLES:
            _rebuild(table, autoincrement=False)
