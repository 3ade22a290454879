"""Fixtures: a fresh app and database per test, and helpers to act as a signed-up user.

The suite runs on SQLite by default. Set OVERACHIEVER_TEST_DATABASE_URL to a PostgreSQL URL
to run it there instead: each test process then creates a database of its own (named after
that URL's database and the xdist worker), empties its schema for every test, and drops it
at the end.
"""

from __future__ import annotations

import base64
import os
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from flask.testing import FlaskClient

from overachiever import create_app
from overachiever.config import TestConfig
from overachiever.core.db import db
from tests.liveserver import admin_connection

PASSWORD = "correct horse battery"
_TEST_DB_ENV = "OVERACHIEVER_TEST_DATABASE_URL"
_CREATED_DB = pytest.StashKey[tuple[Any, str]]()


def pytest_configure(config: pytest.Config) -> None:
    """On PostgreSQL, give this test process (each xdist worker) a database of its own."""
    base = os.environ.get(_TEST_DB_ENV, "")
    if not base.startswith("postgres"):
        return
    if getattr(config.option, "numprocesses", None) and "PYTEST_XDIST_WORKER" not in os.environ:
        return  # the xdist controller runs no tests; its workers make their own databases
    from sqlalchemy.engine import make_url

    url = make_url(base)
    name = f"{url.database}_{os.environ.get('PYTEST_XDIST_WORKER', 'main')}"
    with admin_connection(url) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{name}"')
    os.environ[_TEST_DB_ENV] = url.set(database=name).render_as_string(hide_password=False)
    config.stash[_CREATED_DB] = (url, name)


def pytest_unconfigure(config: pytest.Config) -> None:
    """Drop the database pytest_configure made."""
    created = config.stash.get(_CREATED_DB, None)
    if created is None:
        return
    url, name = created
    with admin_connection(url) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def _database_url(tmp_path: Path) -> str:
    return os.environ.get(_TEST_DB_ENV) or f"sqlite:///{tmp_path / 'test.db'}"


def app_settings(folder: Path, **overrides: Any) -> dict[str, Any]:
    """TestConfig's settings with an SQLite database in `folder`, then the overrides."""
    folder.mkdir(parents=True, exist_ok=True)
    settings = {k: getattr(TestConfig, k) for k in dir(TestConfig) if k.isupper()}
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


@pytest.fixture
def app(tmp_path: Path) -> Iterator[Any]:
    """A fresh application with an empty schema, made from the models."""
    application = build_app(tmp_path, SQLALCHEMY_DATABASE_URI=_database_url(tmp_path))
    yield application
    dispose(application)


@pytest.fixture
def make_app(tmp_path: Path) -> Iterator[Any]:
    """Build extra apps with other settings (make_app(LOGIN_LIMIT="3/minute")), each on its
    own SQLite file; they are disposed of after the test."""
    made: list[Any] = []

    def _make(*, schema: bool = True, **overrides: Any) -> Any:
        application = build_app(tmp_path / f"app{len(made)}", schema=schema, **overrides)
        made.append((application, schema))
        return application

    yield _make
    for application, schema in made:
        dispose(application, drop=schema)


@pytest.fixture
def client(app: Any) -> FlaskClient:
    """A test client of the app."""
    return app.test_client()


def basic(login: str, password: str) -> dict[str, str]:
    """An HTTP Basic Authorization header."""
    raw = base64.b64encode(f"{login}:{password}".encode()).decode()
    return {"Authorization": f"Basic {raw}"}


@dataclass
class Account:
    """A signed-up user with a live token."""

    id: int
    name: str
    email: str
    token: str
    is_admin: bool
    password: str = PASSWORD
    headers: dict[str, str] = field(default_factory=dict)


def sign_up(
    client: FlaskClient, name: str, email: str | None = None, password: str = PASSWORD
) -> Account:
    """Sign `name` up through the API and give back the Account with a fresh bearer token."""
    email = email or f"{name.replace(' ', '.')}@example.com"
    resp = client.post("/api/v2/users", json={"name": name, "email": email, "password": password})
    assert resp.status_code == 201, resp.get_json()
    user = resp.get_json()
    resp = client.post("/api/v2/tokens", headers=basic(name, password))
    assert resp.status_code == 201, resp.get_json()
    token = resp.get_json()["token"]
    return Account(
        user["id"],
        name,
        user["email"],
        token,
        user["is_admin"],
        password,
        {"Authorization": f"Bearer {token}"},
    )


@pytest.fixture
def signup(client: FlaskClient) -> Any:
    """Sign up a user through the API and give back an Account with a bearer token."""

    def _signup(name: str, email: str | None = None, password: str = PASSWORD) -> Account:
        return sign_up(client, name, email, password)

    return _signup


@pytest.fixture
def alice(signup: Any) -> Account:
    """The first user: an administrator."""
    return signup("alice")


@pytest.fixture
def bob(signup: Any, alice: Account) -> Account:
    """A second, ordinary user."""
    return signup("bob")


@pytest.fixture
def make_goal(client: FlaskClient) -> Any:
    """Create a goal through the API as some account; returns its JSON."""

    def _make(
        account: Account, name: str, parent_id: int | None = None, **fields: Any
    ) -> dict[str, Any]:
        body = {"name": name, **fields}
        if parent_id is not None:
            body["parent_id"] = parent_id
        resp = client.post("/api/v2/goals", json=body, headers=account.headers)
        assert resp.status_code == 201, resp.get_json()
        return resp.get_json()  # type: ignore[no-any-return]

    return _make
