"""Security properties of authentication: password hashing, token use, and what leaks where."""

from __future__ import annotations

import logging
import re
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from argon2 import PasswordHasher, Type
from sqlalchemy import select, update

from overachiever.core import passwords
from overachiever.core.db import db
from overachiever.tokens.models import Token
from overachiever.users import service as users_service
from overachiever.users.models import User
from tests.support.accounts import PASSWORD, basic

HASH_RE = re.compile(r"\$argon2id\$v=19\$m=(\d+),t=(\d+),p=(\d+)\$[A-Za-z0-9+/]+\$[A-Za-z0-9+/]+")


def _stored_hash(app: Any, user_id: int) -> str:
    with app.app_context():
        value = db.session.execute(
            select(User.password_hash).where(User.id == user_id)
        ).scalar_one()
    assert value is not None
    return str(value)


def _assert_strong(stored: str) -> None:
    match = HASH_RE.fullmatch(stored)
    assert match, stored
    memory, time_cost, lanes = map(int, match.groups())
    assert memory >= 19_456
    assert time_cost >= 2
    assert lanes >= 1


@pytest.mark.production_hashing
def test_password_is_stored_as_a_strong_argon2id_hash(app, alice, bob):
    for account in (alice, bob):
        stored = _stored_hash(app, account.id)
        _assert_strong(stored)
        assert PASSWORD not in stored
    # Each hash has its own salt.
    assert _stored_hash(app, alice.id) != _stored_hash(app, bob.id)


@pytest.mark.production_hashing
def test_changed_password_is_hashed_the_same_way(client, app, bob):
    resp = client.patch(
        "/api/v2/users/self",
        json={"password": "another long password", "current_password": PASSWORD},
        headers=bob.headers,
    )
    assert resp.status_code == 200
    stored = _stored_hash(app, bob.id)
    _assert_strong(stored)
    assert "another long password" not in stored


@pytest.mark.production_hashing
def test_weak_hash_is_upgraded_at_next_sign_in(client, app, bob):
    weak = PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1, type=Type.ID)
    with app.app_context():
        db.session.execute(
            update(User).where(User.id == bob.id).values(password_hash=weak.hash(PASSWORD))
        )
        db.session.commit()
    assert "m=1024," in _stored_hash(app, bob.id)
    assert client.post("/api/v2/tokens", headers=basic("bob", PASSWORD)).status_code == 201
    _assert_strong(_stored_hash(app, bob.id))
    # A wrong password never rewrites the hash.
    before = _stored_hash(app, bob.id)
    assert client.post("/api/v2/tokens", headers=basic("bob", "nope nope")).status_code == 401
    assert _stored_hash(app, bob.id) == before


def test_unknown_account_still_costs_a_password_check(client, bob, monkeypatch):
    calls: list[str | None] = []
    real = passwords.verify_password

    def spy(stored_hash: str | None, password: str) -> bool:
        calls.append(stored_hash)
        return real(stored_hash, password)

    monkeypatch.setattr(users_service, "verify_password", spy)
    assert client.post("/api/v2/tokens", headers=basic("nobody", PASSWORD)).status_code == 401
    assert (
        client.post("/api/v2/tokens", headers=basic("x@example.com", PASSWORD)).status_code == 401
    )
    assert client.post("/api/v2/tokens", headers=basic("bob", "wrong one")).status_code == 401
    assert len(calls) == 3
    assert calls[:2] == [None, None]


@pytest.mark.parametrize(
    ("login", "password"),
    [("x" * 5000, PASSWORD), ("bob", "p" * 5000), ("bob\x00", PASSWORD), ("", PASSWORD)],
    ids=["long-login", "long-password", "nul", "empty-login"],
)
def test_odd_credentials_are_plain_401(client, bob, login, password):
    resp = client.post("/api/v2/tokens", headers=basic(login, password))
    assert resp.status_code == 401
    assert resp.mimetype == "application/problem+json"


def _token_row(app: Any, token_id: int) -> Token:
    with app.app_context():
        row = db.session.get(Token, token_id)
        assert row is not None
        db.session.expunge(row)
        return row


def test_last_used_at_is_set_on_use(client, app, bob):
    created = client.post(
        "/api/v2/tokens", headers=basic("bob", PASSWORD), json={"name": "fresh"}
    ).get_json()
    assert _token_row(app, created["id"]).last_used_at is None
    listed = client.get("/api/v2/tokens", headers=bob.headers).get_json()["items"]
    assert next(t for t in listed if t["id"] == created["id"])["last_used_at"] is None

    before = datetime.now(UTC)
    resp = client.get("/api/v2/users/self", headers={"Authorization": f"Bearer {created['token']}"})
    assert resp.status_code == 200
    used = _token_row(app, created["id"]).last_used_at
    assert used is not None
    assert used >= before - timedelta(seconds=1)
    listed = client.get("/api/v2/tokens", headers=bob.headers).get_json()["items"]
    shown = next(t for t in listed if t["id"] == created["id"])["last_used_at"]
    assert datetime.fromisoformat(shown.replace("Z", "+00:00")) == used


def test_last_used_at_is_refreshed_when_stale_only(client, app, bob):
    token_id = client.get("/api/v2/tokens", headers=bob.headers).get_json()["items"][0]["id"]
    recent = datetime.now(UTC) - timedelta(seconds=5)
    long_ago = datetime.now(UTC) - timedelta(hours=2)
    with app.app_context():
        db.session.execute(update(Token).where(Token.id == token_id).values(last_used_at=recent))
        db.session.commit()
    client.get("/api/v2/users/self", headers=bob.headers)
    # Within TOKEN_TOUCH_SECONDS a read does not write.
    assert _token_row(app, token_id).last_used_at == recent
    with app.app_context():
        db.session.execute(update(Token).where(Token.id == token_id).values(last_used_at=long_ago))
        db.session.commit()
    client.get("/api/v2/users/self", headers=bob.headers)
    refreshed = _token_row(app, token_id).last_used_at
    assert refreshed is not None
    assert refreshed > long_ago + timedelta(hours=1)


def test_failed_token_use_does_not_touch_last_used_at(client, app, bob):
    token_id = client.get("/api/v2/tokens", headers=bob.headers).get_json()["items"][0]["id"]
    long_ago = datetime.now(UTC) - timedelta(hours=2)
    with app.app_context():
        db.session.execute(update(Token).where(Token.id == token_id).values(last_used_at=long_ago))
        db.session.commit()
    resp = client.get("/api/v2/users/self", headers={"Authorization": f"Bearer {bob.token}x"})
    assert resp.status_code == 401
    assert _token_row(app, token_id).last_used_at == long_ago


def test_token_secrets_never_appear_in_listing_or_logs(client, app, caplog, alice, bob):
    caplog.set_level(logging.DEBUG)
    # SQL statements and their parameters too: the secret must never reach the database layer.
    caplog.set_level(logging.INFO, logger="sqlalchemy.engine")
    created = client.post(
        "/api/v2/tokens", headers=basic("bob", PASSWORD), json={"name": "logged"}
    ).get_json()
    secret = created["token"]
    auth = {"Authorization": f"Bearer {secret}"}
    listing = client.get("/api/v2/tokens", headers=auth)
    assert listing.status_code == 200
    assert client.get("/api/v2/users/self", headers=auth).status_code == 200
    assert client.get("/api/v2/goals/999", headers=auth).status_code == 404
    assert client.get("/api/v2/users/self", headers={"Authorization": secret}).status_code == 401
    assert (
        client.get("/api/v2/tokens", headers={"Authorization": f"Bearer {secret}z"}).status_code
        == 401
    )
    assert client.post("/api/v2/tokens", headers=basic("bob", "wrong password")).status_code == 401
    assert client.delete(f"/api/v2/tokens/{created['id']}", headers=auth).status_code == 204
    assert client.get("/api/v2/tokens", headers=auth).status_code == 401

    body = listing.get_data(as_text=True)
    assert created["name"] in body
    logged = caplog.text + " ".join(repr(r.args) for r in caplog.records)
    assert any(r.name.startswith("sqlalchemy.engine") for r in caplog.records)
    for value in (secret, secret[3:], bob.token, PASSWORD, "wrong password"):
        assert value not in body
        assert value not in logged


def test_validation_errors_do_not_echo_passwords(client, alice):
    secretish = "hunter2"  # too short, so refused
    resp = client.post(
        "/api/v2/users", json={"name": "eve", "email": "eve@example.com", "password": secretish}
    )
    assert resp.status_code == 422
    assert secretish not in resp.get_data(as_text=True)
    resp = client.patch(
        "/api/v2/users/self",
        json={"password": "p" * 2000, "current_password": PASSWORD},
        headers=alice.headers,
    )
    assert resp.status_code == 422
    assert "p" * 100 not in resp.get_data(as_text=True)
    assert PASSWORD not in resp.get_data(as_text=True)
