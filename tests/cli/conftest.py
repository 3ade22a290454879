"""Fixtures for the command-line tests: a database named by the environment, as in production."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner, Result

from overachiever import create_app
from overachiever.cli import main
from overachiever.core.db import db


@pytest.fixture
def db_url(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    """A fresh SQLite file, named to the CLI through DATABASE_URL (and nothing else)."""
    url = f"sqlite:///{tmp_path / 'cli.db'}"
    monkeypatch.setenv("DATABASE_URL", url)
    monkeypatch.setenv("OVERACHIEVER_INSTANCE_PATH", str(tmp_path / "instance"))
    monkeypatch.setenv("LOG_LEVEL", "WARNING")
    for name in ("OVERACHIEVER_SIGNUP", "OVERACHIEVER_TRASH_DAYS", "PORT"):
        monkeypatch.delenv(name, raising=False)
    return url


@pytest.fixture
def cli(db_url: str) -> Any:
    """Run `overachiever ARGS...` in-process; each call builds its app from the environment."""
    runner = CliRunner()

    def _run(*args: str, input: str | None = None, ok: bool = True) -> Result:
        result = runner.invoke(main, list(args), input=input, catch_exceptions=True)
        if ok:
            assert result.exit_code == 0, (result.output, result.exception)
        return result

    return _run


@pytest.fixture
def migrated(cli: Any) -> None:
    """The database migrated to head through the CLI."""
    cli("db", "upgrade")


@pytest.fixture
def api_app(db_url: str, migrated: None) -> Iterator[Any]:
    """An app on the same database as the CLI, to check what the CLI did through the API."""
    application = create_app({"TESTING": True, "RATELIMIT_STORAGE_URI": "memory://"})
    assert application.config["SQLALCHEMY_DATABASE_URI"] == db_url
    yield application
    with application.app_context():
        db.session.remove()
        db.engine.dispose()
