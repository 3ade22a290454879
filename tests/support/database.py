"""The suite's database: SQLite files by default, PostgreSQL when the environment names one.

With OVERACHIEVER_TEST_DATABASE_URL set to a PostgreSQL URL, each test process gets a database
of its own (tests/conftest.py makes it and points the variable at it).
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

TEST_DB_ENV = "OVERACHIEVER_TEST_DATABASE_URL"


def on_postgresql() -> bool:
    """Whether this test run uses PostgreSQL."""
    return os.environ.get(TEST_DB_ENV, "").startswith("postgres")


def database_url(folder: Path) -> str:
    """The suite's database: this process's PostgreSQL database, or an SQLite file in `folder`."""
    return os.environ.get(TEST_DB_ENV) or f"sqlite:///{folder / 'test.db'}"


def admin_connection(url: Any) -> Any:
    """An autocommit connection to the PostgreSQL server's maintenance database."""
    import psycopg

    return psycopg.connect(
        host=url.host,
        port=url.port or 5432,
        user=url.username,
        password=url.password,
        dbname="postgres",
        autocommit=True,
    )
