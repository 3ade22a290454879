"""Alembic environment: migrates the database of the current Flask app."""

from __future__ import annotations

from alembic import context
from sqlalchemy import text

from overachiever import models  # noqa: F401  (fills the metadata)
from overachiever.db import _immediate
from overachiever.extensions import db

target_metadata = db.metadata


def run_migrations_online() -> None:
    """Run migrations in one transaction that also serialises concurrent starts."""
    engine = db.engine
    # On SQLite the migration transaction starts with BEGIN IMMEDIATE: a second process that
    # starts at the same time waits, then finds the schema already current.
    flag = _immediate.set(True)
    try:
        with engine.connect() as connection:
            context.configure(
                connection=connection,
                target_metadata=target_metadata,
                render_as_batch=engine.dialect.name == "sqlite",
                compare_type=True,
                transactional_ddl=True,
            )
            with context.begin_transaction():
                if engine.dialect.name == "postgresql":
                    connection.execute(text("SELECT pg_advisory_xact_lock(7264)"))
                context.run_migrations()
    finally:
        _immediate.reset(flag)


if context.is_offline_mode():
    raise SystemExit("offline migrations are not supported; run them against a database")
run_migrations_online()
