"""Fixtures: a fresh app and database per test, and signed-up users (helpers: tests/support).

The suite runs on SQLite by default. Set OVERACHIEVER_TEST_DATABASE_URL to a PostgreSQL URL
to run it there instead: each test process then creates a database of its own (named after
that URL's database and the xdist worker), empties its schema for every test, and drops it
at the end.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from flask.testing import FlaskClient

from overachiever.config import Config
from tests.support.accounts import PASSWORD, Account, sign_up
from tests.support.apps import build_app, dispose
from tests.support.database import TEST_DB_ENV, admin_connection, database_url

_CREATED_DB = pytest.StashKey[tuple[Any, str]]()


def pytest_configure(config: pytest.Config) -> None:
    """On PostgreSQL, give this test process (each xdist worker) a database of its own."""
    base = os.environ.get(TEST_DB_ENV, "")
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
    os.environ[TEST_DB_ENV] = url.set(database=name).render_as_string(hide_password=False)
    config.stash[_CREATED_DB] = (url, name)


def pytest_unconfigure(config: pytest.Config) -> None:
    """Drop the database pytest_configure made."""
    created = config.stash.get(_CREATED_DB, None)
    if created is None:
        return
    url, name = created
    with admin_connection(url) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture
def app(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Any]:
    """A fresh application with an empty schema, made from the models.

    Its passwords are hashed at TestConfig's low cost, or at the production cost for a test
    marked production_hashing.
    """
    overrides: dict[str, Any] = {"SQLALCHEMY_DATABASE_URI": database_url(tmp_path)}
    if request.node.get_closest_marker("production_hashing"):
        overrides["PASSWORD_HASH_COST"] = Config.PASSWORD_HASH_COST
    application = build_app(tmp_path, **overrides)
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
