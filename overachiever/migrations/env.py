"""Alembic environment: migrates the database of the current Flask app."""

from __future__ import annotations

from alembic import context
from sqlalchemy import Connection, text

from overachiever import models  # noqa: F401  (fills the metadata)
from overachiever.core.db import db, transaction_mode

target_metadata = db.metadata


def _pragma(connection: Connection, setting: str) -> None:
    """Run a PRAGMA on the driver's connection, outside any transaction SQLAlchemy began."""
    raw = connection.connection.driver_connection
    assert raw is not None
    raw.execute(f"PRAGMA {setting}")


def run_migrations_online() -> None:
    """Run migrations in one transaction that also serialises concurrent starts."""
    engine = db.engine
    # On SQLite the migration transaction starts with BEGIN IMMEDIATE: a second process that
    # starts at the same time waits, then finds the schema already current.
    sqlite = engine.dialect.name == "sqlite"
    with transaction_mode("write"), engine.connect() as connection:
        if sqlite:
            # Rebuilding a table drops it, and with foreign keys on that would delete or
            # orphan the rows referring to it. The pragma only works outside a transaction
            # (so on the driver's own connection, before SQLAlchemy begins one); the keys
            # are checked before commit instead, and switched on again afterwards.
            _pragma(connection, "foreign_keys = OFF")
        try:
            context.configure(
                connection=connection,
                target_metadata=target_metadata,
                render_as_batch=sqlite,
                compare_type=True,
                transactional_ddl=True,
                # migrations.upgrade() learns which steps ran in this process.
                on_version_apply=context.config.attributes.get("on_version_apply"),
            )
            with context.begin_transaction():
                if engine.dialect.name == "postgresql":
                    connection.execute(text("SELECT pg_advisory_xact_lock(7264)"))
                context.run_migrations()
                if sqlite:
                    broken = connection.exec_driver_sql("PRAGMA foreign_key_check").first()
                    if broken is not None:
                        raise RuntimeError(f"migration broke a foreign key: {tuple(broken)}")
        finally:
            if sqlite:
                _pragma(connection, "foreign_keys = ON")


if context.is_offline_mode():
    raise SystemExit("offline migrations are not supported; run them against a database")
run_migrations_online()
