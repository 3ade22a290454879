"""Apps for in-process tests: the test settings, a fresh schema, and clean-up."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from overachiever import create_app
from overachiever.config import Settings, TestConfig
from overachiever.core.db import db


def app_settings(folder: Path, **overrides: Any) -> dict[str, Any]:
    """The default settings, then TestConfig's, an SQLite database in `folder`, the overrides.

    Every setting is given, so the environment of the test run changes none of them.
    """
    folder.mkdir(parents=True, exist_ok=True)
    settings = Settings.defaults().flask_config()
    settings.update({k: getattr(TestConfig, k) for k in dir(TestConfig) if k.isupper()})
    settings["SQLALCHEMY_DATABASE_URI"] = f"sqlite:///{folder / 'test.db'}"
    settings["RATELIMIT_STORAGE_URI"] = "memory://"
    settings.update(overrides)
    return settings


def build_app(folder: Path, *, schema: bool = True, **overrides: Any) -> Any:
    """An app over a fresh schema (made from the models unless schema=False)."""
    application = create_app(app_settings(folder, **overrides))
    application.instance_path = str(folder)
    if schema:
        with application.app_context():
            db.drop_all()
            db.create_all()
    return application


def dispose(application: Any, *, drop: bool = True) -> None:
    """Release an app's database (dropping its tables unless drop=False)."""
    with application.app_context():
        db.session.remove()
        if drop:
            db.drop_all()
        db.engine.dispose()
