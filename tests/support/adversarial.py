"""Shared by the adversarial suites: one app per module, accounts, and whole-database snapshots."""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from sqlalchemy import select

from overachiever.core.db import db

from .accounts import PASSWORD, Account, sign_up
from .apps import build_app, dispose
from .database import database_url

# Columns that a refused request may still change: a token's last use is refreshed when the
# attacker's own token authenticates the request.
VOLATILE = {("tokens", "last_used_at")}


def module_app(folder: Path, **overrides: Any) -> Iterator[Any]:
    """An app over a fresh schema for a whole module, on the suite's database (SQLite or PG)."""
    application = build_app(folder, SQLALCHEMY_DATABASE_URI=database_url(folder), **overrides)
    yield application
    dispose(application)


def account(client: Any, name: str, password: str = PASSWORD) -> Account:
    """Sign `name` up through the API and give back the account with a fresh bearer token."""
    return sign_up(client, name, password=password)


def db_snapshot(application: Any) -> dict[str, list[tuple[Any, ...]]]:
    """Every row of every table, every column (but VOLATILE ones), in primary-key order."""
    snapshot: dict[str, list[tuple[Any, ...]]] = {}
    with application.app_context():
        for table in db.metadata.sorted_tables:
            columns = [c for c in table.columns if (table.name, c.name) not in VOLATILE]
            rows = db.session.execute(select(*columns).order_by(*table.primary_key.columns)).all()
            snapshot[table.name] = [tuple(r) for r in rows]
        db.session.remove()
    return snapshot


def rule_methods(application: Any) -> set[tuple[str, str]]:
    """Every (endpoint, method) the app routes, HEAD and OPTIONS aside."""
    return {
        (rule.endpoint, method)
        for rule in application.url_map.iter_rules()
        for method in (rule.methods or set()) - {"HEAD", "OPTIONS"}
    }


def endpoint_of(application: Any, method: str, url: str) -> str:
    """The endpoint a request would reach (to prove which rules a table of requests covers)."""
    adapter = application.url_map.bind("localhost")
    endpoint, _ = adapter.match(url.split("?", 1)[0], method=method)
    return str(endpoint)


def record_figures(suite: str, **figures: Any) -> None:
    """Append a suite's figures as one JSON line to $OVERACHIEVER_FIGURES (when it is set).

    docs/RELIABILITY.md quotes these numbers from a run rather than from memory.
    """
    path = os.environ.get("OVERACHIEVER_FIGURES")
    if not path:
        return
    with open(path, "a", encoding="utf-8") as f:
        f.write(json.dumps({"suite": suite, **figures}, default=str) + "\n")
