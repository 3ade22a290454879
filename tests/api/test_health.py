"""Liveness and readiness probes."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest


@pytest.fixture
def broken_app(make_app: Any, tmp_path: Path) -> Iterator[Any]:
    """An app whose database cannot be opened: its file lies in a folder that does not exist."""
    missing = tmp_path / "no" / "such" / "folder" / "overachiever.db"
    yield make_app(schema=False, SQLALCHEMY_DATABASE_URI=f"sqlite:///{missing}")
    assert not missing.parent.exists()


def test_healthz(client):
    resp = client.get("/healthz")
    assert resp.status_code == 200
    assert resp.get_json() == {"status": "ok"}
    assert client.head("/healthz").status_code == 200


def test_readyz_with_the_database(client):
    resp = client.get("/readyz")
    assert resp.status_code == 200
    assert resp.get_json() == {"status": "ok"}


def test_probes_need_no_credentials_and_ignore_bad_ones(client):
    headers = {"Authorization": "Bearer oa_nonsense"}
    assert client.get("/healthz", headers=headers).status_code == 200
    assert client.get("/readyz", headers=headers).status_code == 200


def test_readyz_is_503_problem_when_the_database_is_unreachable(broken_app, caplog):
    client = broken_app.test_client()
    caplog.set_level(logging.WARNING)
    resp = client.get("/readyz")
    assert resp.status_code == 503
    assert resp.mimetype == "application/problem+json"
    body = resp.get_json()
    assert body["status"] == 503
    assert {"type", "title", "detail"} <= body.keys()
    # No internals leak to the caller (paths, driver messages), but the log says what failed.
    text = resp.get_data(as_text=True)
    assert "no/such/folder" not in text
    assert "sqlite" not in text.lower()
    assert "Traceback" not in text
    assert any("readiness" in r.getMessage() for r in caplog.records)


def test_healthz_stays_up_when_the_database_is_unreachable(broken_app):
    client = broken_app.test_client()
    assert client.get("/healthz").status_code == 200
    # It keeps answering, and readiness recovers nothing by itself: still 503 the next time.
    assert client.get("/readyz").status_code == 503
    assert client.get("/healthz").status_code == 200


def test_probes_refuse_other_methods(client):
    resp = client.post("/healthz")
    assert resp.status_code == 405
    assert "GET" in resp.headers["Allow"]
    assert resp.mimetype == "application/problem+json"
