"""Alembic migrations: the only way the schema is made or changed."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from alembic import command
from alembic.config import Config as AlembicConfig
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory

from ..core.db import db

HERE = Path(__file__).parent


def alembic_config() -> AlembicConfig:
    """An Alembic configuration pointing at this package; the engine comes from the app."""
    cfg = AlembicConfig()
    cfg.set_main_option("script_location", str(HERE))
    return cfg


def upgrade(revision: str = "head") -> list[tuple[str, str]]:
    """Migrate the app's database up (run inside an app context).

    Returns the steps this process ran, as (from, to) revisions ("" for an empty database).
    """
    steps: list[tuple[str, str]] = []

    def applied(*, step: Any, **_: Any) -> None:
        steps.append((" ".join(step.source_revision_ids), " ".join(step.destination_revision_ids)))

    cfg = alembic_config()
    cfg.attributes["on_version_apply"] = applied
    command.upgrade(cfg, revision)
    return steps


def downgrade(revision: str = "-1") -> None:
    """Migrate the app's database down (run inside an app context)."""
    command.downgrade(alembic_config(), revision)


def current_revision() -> str | None:
    """The revision the database is at, or None for an empty database."""
    with db.engine.connect() as conn:
        return MigrationContext.configure(conn).get_current_revision()


def head_revision() -> str | None:
    """The newest revision this code knows."""
    return ScriptDirectory.from_config(alembic_config()).get_current_head()
