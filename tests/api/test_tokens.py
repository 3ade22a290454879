"""The /api/v2/tokens endpoints, bearer authentication, and the sign-in rate limits."""

from __future__ import annotations

import base64
import hashlib
import re
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import text, update

from overachiever.config import Config
from overachiever.core.db import db
from overachiever.tokens.models import Token
from overachiever.users import service as users_service
from tests.support.accounts import PASSWORD, basic
from tests.support.problems import assert_problem

PROBLEM = "application/problem+json"
TOKEN_RE = re.compile(r"oa_[A-Za-z0-9_-]{43,}")
LISTED_FIELDS = {"id", "name", "created_at", "last_used_at", "expires_at"}


def _bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def _b64(raw: str) -> str:
    return base64.b64encode(raw.encode()).decode()


def _parse_ts(value: str) -> datetime:
    assert value.endswith("Z")
    return datetime.fromisoformat(value.replace("Z", "+00:00"))


def _new_token(client: Any, login: str = "bob", **body: Any) -> dict[str, Any]:
    kwargs: dict[str, Any] = {"json": body} if body else {}
    resp = client.post("/api/v2/tokens", headers=basic(login, PASSWORD), **kwargs)
    assert resp.status_code == 201, resp.get_data(as_text=True)
    return resp.get_json()  # type: ignore[no-any-return]


# --- creating tokens -------------------------------------------------------------------------


def test_create_token_with_name(client, bob):
    resp = client.post("/api/v2/tokens", headers=basic("bob", PASSWORD))
    assert resp.status_code == 201
    created = resp.get_json()
    assert set(created) == {"id", "name", "token", "created_at", "expires_at"}
    assert TOKEN_RE.fullmatch(created["token"])
    assert created["name"] == "api"
    assert created["expires_at"] is None
    _parse_ts(created["created_at"])
    me = client.get("/api/v2/users/self", headers=_bearer(created["token"]))
    assert me.status_code == 200
    assert me.get_json()["id"] == bob.id


@pytest.mark.parametrize("login", ["bob@example.com", "BOB@EXAMPLE.COM", "Bob@Example.com"])
def test_create_token_with_email_in_any_case(client, bob, login):
    resp = client.post("/api/v2/tokens", headers=basic(login, PASSWORD))
    assert resp.status_code == 201
    me = client.get("/api/v2/users/self", headers=_bearer(resp.get_json()["token"]))
    assert me.get_json()["id"] == bob.id


def test_tokens_are_distinct(client, bob):
    tokens = {_new_token(client)["token"] for _ in range(3)}
    assert len(tokens) == 3
    assert bob.token not in tokens


def test_create_token_with_name_and_expiry_in_days(client, bob):
    created = _new_token(client, name="  laptop  ", expires_in_days=7)
    assert created["name"] == "laptop"
    lifetime = _parse_ts(created["expires_at"]) - _parse_ts(created["created_at"])
    assert abs(lifetime - timedelta(days=7)) < timedelta(minutes=1)
    listed = client.get("/api/v2/tokens", headers=bob.headers).get_json()["items"]
    assert {"laptop": created["expires_at"]}.items() <= {
        t["name"]: t["expires_at"] for t in listed
    }.items()


def test_create_token_with_expires_at(client, bob):
    when = (datetime.now(UTC) + timedelta(days=30)).replace(microsecond=0)
    naive = when.replace(tzinfo=None).isoformat()  # naive means UTC
    created = _new_token(client, expires_at=naive)
    assert _parse_ts(created["expires_at"]) == when
    offset = when.astimezone(datetime.now(UTC).astimezone().tzinfo).isoformat()
    assert _parse_ts(_new_token(client, expires_at=offset)["expires_at"]) == when


BAD_BODIES = [
    ({"expires_at": "2000-01-01T00:00:00Z"}, "expires_at"),
    ({"expires_at": "not a date"}, "expires_at"),
    ({"expires_at": 1893456000}, "expires_at"),
    ({"expires_in_days": 0}, "expires_in_days"),
    ({"expires_in_days": -1}, "expires_in_days"),
    ({"expires_in_days": "7"}, "expires_in_days"),
    ({"expires_in_days": 100000}, "expires_in_days"),
    ({"name": ""}, "name"),
    ({"name": "x" * 101}, "name"),
    ({"name": "bad\x00name"}, "name"),
    ({"scope": "admin"}, "scope"),
    ({"user_id": 1}, "user_id"),
]


def test_create_token_bad_body_is_422(client, app, bob):
    before = _token_count(app)
    for body, field in BAD_BODIES:
        resp = client.post("/api/v2/tokens", headers=basic("bob", PASSWORD), json=body)
        problem = assert_problem(resp, 422)
        assert ["body", field] in [e["loc"][:2] for e in problem["errors"]], body
    assert _token_count(app) == before


def test_create_token_with_both_expiry_forms_is_422(client, bob):
    resp = client.post(
        "/api/v2/tokens",
        headers=basic("bob", PASSWORD),
        json={"expires_in_days": 1, "expires_at": "2999-01-01T00:00:00Z"},
    )
    assert_problem(resp, 422)


def test_create_token_with_non_json_body_is_415(client, bob):
    resp = client.post(
        "/api/v2/tokens",
        headers=basic("bob", PASSWORD),
        data="name=laptop",
        content_type="application/x-www-form-urlencoded",
    )
    assert_problem(resp, 415)


def test_create_token_with_empty_json_body_uses_defaults(client, bob):
    resp = client.post("/api/v2/tokens", headers=basic("bob", PASSWORD), json={})
    assert resp.status_code == 201
    assert resp.get_json()["name"] == "api"


def test_create_token_with_malformed_json_is_refused(client, bob):
    resp = client.post(
        "/api/v2/tokens",
        headers=basic("bob", PASSWORD),
        data="{not json",
        content_type="application/json",
    )
    assert_problem(resp, 400)


def test_wrong_password_and_unknown_user_look_the_same(client, bob):
    wrong = client.post("/api/v2/tokens", headers=basic("bob", "wrong password"))
    unknown = client.post("/api/v2/tokens", headers=basic("nobody", "wrong password"))
    unknown_email = client.post("/api/v2/tokens", headers=basic("no@example.com", PASSWORD))
    for resp in (wrong, unknown, unknown_email):
        assert_problem(resp, 401)
        assert resp.headers["WWW-Authenticate"]
    assert wrong.get_data() == unknown.get_data() == unknown_email.get_data()
    assert wrong.headers["WWW-Authenticate"] == unknown.headers["WWW-Authenticate"]
    assert PASSWORD not in wrong.get_data(as_text=True)


def test_create_token_without_good_basic_credentials_is_401(client, bob):
    for header in (
        None,
        "",
        "Basic",
        "Basic junk",
        "Basic !!!not-base64!!!",
        f"Basic {_b64('bob')}",  # no colon, no password
        f"Basic {_b64('bob:')}",  # empty password
        f"Bearer {bob.token}",  # a token is not a password
        "Digest abc",
    ):
        headers = {"Authorization": header} if header is not None else {}
        resp = client.post("/api/v2/tokens", headers=headers)
        assert_problem(resp, 401)
        assert resp.headers["WWW-Authenticate"].startswith("Basic"), header


def test_create_token_with_a_colon_in_the_password(client, signup):
    signup("colin", password="pass:word:with:colons")
    resp = client.post("/api/v2/tokens", headers=basic("colin", "pass:word:with:colons"))
    assert resp.status_code == 201


# --- bearer authentication -------------------------------------------------------------------


GARBAGE_AUTHORIZATION = [
    None,
    "",
    "Bearer",
    "Bearer ",
    "Bearer junk",
    "Bearer oa_junk",
    "Bearer oa_" + "A" * 43,
    "Bearer oa_" + "x" * 500,
    "Basic junk",
    "Basic !!!not-base64!!!",
    "Token oa_abc",
    "bearer",
]


def test_missing_or_garbage_authorization_is_401(client, bob):
    for header in GARBAGE_AUTHORIZATION:
        headers = {"Authorization": header} if header is not None else {}
        resp = client.get("/api/v2/tokens", headers=headers)
        body = assert_problem(resp, 401)
        assert resp.headers["WWW-Authenticate"].startswith("Bearer"), header
        assert "Bearer" in body["detail"]


def test_scheme_is_case_insensitive_and_token_exact(client, bob):
    assert (
        client.get("/api/v2/tokens", headers={"Authorization": f"bearer {bob.token}"}).status_code
        == 200
    )
    assert_problem(client.get("/api/v2/tokens", headers=_bearer(bob.token.upper())), 401)
    assert_problem(client.get("/api/v2/tokens", headers=_bearer(bob.token[:-1])), 401)


def test_basic_credentials_on_a_bearer_endpoint_are_401(client, bob):
    resp = client.get("/api/v2/tokens", headers=basic("bob", PASSWORD))
    assert_problem(resp, 401)
    assert resp.headers["WWW-Authenticate"].startswith("Bearer")
    resp = client.get("/api/v2/users/self", headers={"Authorization": f"Basic {_b64(bob.token)}"})
    assert_problem(resp, 401)


def test_token_in_query_string_is_not_accepted(client, bob):
    assert_problem(client.get(f"/api/v2/tokens?access_token={bob.token}"), 401)


# --- listing and revoking --------------------------------------------------------------------


def test_list_tokens_without_secrets(client, bob):
    laptop = _new_token(client, name="laptop")
    phone = _new_token(client, name="phone", expires_in_days=1)
    resp = client.get("/api/v2/tokens", headers=bob.headers)
    assert resp.status_code == 200
    items = resp.get_json()["items"]
    assert [t["name"] for t in items] == ["phone", "laptop", "api"]
    assert [t["id"] for t in items[:2]] == [phone["id"], laptop["id"]]
    assert all(set(t) == LISTED_FIELDS for t in items)
    body = resp.get_data(as_text=True)
    for secret in (bob.token, laptop["token"], phone["token"]):
        assert secret not in body
        assert secret[3:] not in body
        assert hashlib.sha256(secret.encode()).hexdigest() not in body


def test_tokens_are_listed_only_to_their_owner(client, alice, bob):
    _new_token(client, "alice", name="alices")
    names = [
        t["name"] for t in client.get("/api/v2/tokens", headers=bob.headers).get_json()["items"]
    ]
    assert names == ["api"]


def test_revoke_token_takes_effect_at_once(client, bob):
    other = _new_token(client, name="other")
    assert client.get("/api/v2/tokens", headers=_bearer(other["token"])).status_code == 200
    resp = client.delete(f"/api/v2/tokens/{other['id']}", headers=bob.headers)
    assert resp.status_code == 204
    assert resp.get_data() == b""
    assert_problem(client.get("/api/v2/tokens", headers=_bearer(other["token"])), 401)
    assert_problem(client.get("/api/v2/users/self", headers=_bearer(other["token"])), 401)
    # The token used to revoke still works, and the revoked one is no longer listed.
    items = client.get("/api/v2/tokens", headers=bob.headers).get_json()["items"]
    assert [t["name"] for t in items] == ["api"]
    # Revoking it again: it is gone.
    assert_problem(client.delete(f"/api/v2/tokens/{other['id']}", headers=bob.headers), 404)


def test_revoke_own_current_token_signs_out(client, bob):
    token_id = client.get("/api/v2/tokens", headers=bob.headers).get_json()["items"][0]["id"]
    assert client.delete(f"/api/v2/tokens/{token_id}", headers=bob.headers).status_code == 204
    assert_problem(client.get("/api/v2/tokens", headers=bob.headers), 401)


def test_another_users_token_id_is_404(client, alice, bob):
    alice_id = client.get("/api/v2/tokens", headers=alice.headers).get_json()["items"][0]["id"]
    assert_problem(client.delete(f"/api/v2/tokens/{alice_id}", headers=bob.headers), 404)
    assert client.get("/api/v2/tokens", headers=alice.headers).status_code == 200


def test_unknown_token_id_is_404(client, bob):
    for token_id in ("999999", "0", "9223372036854775808", "abc", "-1"):
        assert_problem(client.delete(f"/api/v2/tokens/{token_id}", headers=bob.headers), 404)
    assert client.get("/api/v2/tokens", headers=bob.headers).status_code == 200


def test_revoke_needs_a_token(client, bob):
    token_id = client.get("/api/v2/tokens", headers=bob.headers).get_json()["items"][0]["id"]
    assert_problem(client.delete(f"/api/v2/tokens/{token_id}"), 401)
    assert_problem(client.delete(f"/api/v2/tokens/{token_id}", headers=basic("bob", PASSWORD)), 401)
    assert client.get("/api/v2/tokens", headers=bob.headers).status_code == 200


# --- expiry and storage ----------------------------------------------------------------------


def _set_expiry(app: Any, token_id: int | None, when: datetime) -> None:
    with app.app_context():
        stmt = update(Token).values(expires_at=when)
        if token_id is not None:
            stmt = stmt.where(Token.id == token_id)
        db.session.execute(stmt)
        db.session.commit()


def _token_count(app: Any) -> int:
    with app.app_context():
        return len(db.session.execute(text("SELECT id FROM tokens")).all())


def test_expired_token_is_401(client, app, bob):
    short = _new_token(client, name="short", expires_in_days=1)
    assert client.get("/api/v2/tokens", headers=_bearer(short["token"])).status_code == 200
    _set_expiry(app, short["id"], datetime.now(UTC) - timedelta(seconds=1))
    resp = client.get("/api/v2/tokens", headers=_bearer(short["token"]))
    assert_problem(resp, 401)
    assert resp.headers["WWW-Authenticate"].startswith("Bearer")
    # Other tokens are unaffected, and the expired one is still listed with its expiry.
    items = client.get("/api/v2/tokens", headers=bob.headers).get_json()["items"]
    assert _parse_ts(next(t for t in items if t["id"] == short["id"])["expires_at"]) < datetime.now(
        UTC
    )


def test_token_expiring_later_still_works(client, app, bob):
    short = _new_token(client, name="short")
    _set_expiry(app, short["id"], datetime.now(UTC) + timedelta(hours=1))
    assert client.get("/api/v2/tokens", headers=_bearer(short["token"])).status_code == 200


def test_database_holds_only_the_sha256_digest(client, app, alice, bob):
    secrets = [alice.token, bob.token, _new_token(client, name="extra")["token"]]
    with app.app_context():
        rows = db.session.execute(text("SELECT * FROM tokens")).mappings().all()
        user_rows = db.session.execute(text("SELECT * FROM users")).mappings().all()
    assert len(rows) == 3
    dump = repr([dict(r) for r in rows]) + repr([dict(r) for r in user_rows])
    for secret in secrets:
        assert secret not in dump
        assert secret[3:] not in dump  # not even without its prefix
    digests = {r["digest"] for r in rows}
    assert digests == {hashlib.sha256(s.encode()).hexdigest() for s in secrets}
    assert all(re.fullmatch(r"[0-9a-f]{64}", d) for d in digests)


def test_sqlite_file_does_not_contain_the_secret(client, app, bob, tmp_path):
    with app.app_context():
        db.session.remove()
        db.engine.dispose()  # checkpoint the WAL into the main file
    uri = app.config["SQLALCHEMY_DATABASE_URI"]
    if not uri.startswith("sqlite:///"):
        pytest.skip("only for SQLite")
    raw = b"".join(p.read_bytes() for p in Path(uri[len("sqlite:///") :]).parent.glob("test.db*"))
    assert hashlib.sha256(bob.token.encode()).hexdigest().encode() in raw
    assert bob.token[3:].encode() not in raw


# --- rate limits -----------------------------------------------------------------------------


@pytest.fixture
def limited_app(make_app: Any) -> Any:
    """An app that allows three sign-in attempts a minute per address and per account."""
    application = make_app(LOGIN_LIMIT="3/minute")
    with application.app_context():
        for name in ("victim", "other"):
            users_service.create_user(name, f"{name}@example.com", PASSWORD, via_cli=True)
    return application


def _attempt(client: Any, login: str, password: str, address: str) -> Any:
    return client.post(
        "/api/v2/tokens",
        headers=basic(login, password),
        environ_base={"REMOTE_ADDR": address},
    )


def _assert_429(resp: Any) -> None:
    assert_problem(resp, 429)
    assert int(resp.headers["Retry-After"]) > 0


def test_too_many_attempts_from_one_address_is_429(limited_app):
    client = limited_app.test_client()
    for login in ("victim", "other", "nobody"):
        assert _attempt(client, login, "wrong password", "10.0.0.1").status_code == 401
    _assert_429(_attempt(client, "someone-else", "wrong password", "10.0.0.1"))
    # Even the right password is refused from that address for now...
    _assert_429(_attempt(client, "other", PASSWORD, "10.0.0.1"))
    # ...while another address is unaffected.
    assert _attempt(client, "other", PASSWORD, "10.0.0.2").status_code == 201


def test_too_many_attempts_on_one_account_is_429_from_any_address(limited_app):
    client = limited_app.test_client()
    for i in range(3):
        assert _attempt(client, "victim", "wrong password", f"10.0.1.{i}").status_code == 401
    _assert_429(_attempt(client, "victim", "wrong password", "10.0.1.99"))
    # The account key does not depend on the padding of the name.
    _assert_429(_attempt(client, " victim ", PASSWORD, "10.0.1.100"))
    # Other accounts can still sign in.
    assert _attempt(client, "other", PASSWORD, "10.0.1.101").status_code == 201


def test_rate_limit_does_not_touch_other_endpoints(limited_app):
    client = limited_app.test_client()
    token = _attempt(client, "victim", PASSWORD, "10.0.2.1").get_json()["token"]
    for _ in range(5):
        resp = client.get(
            "/api/v2/tokens", headers=_bearer(token), environ_base={"REMOTE_ADDR": "10.0.2.1"}
        )
        assert resp.status_code == 200


@pytest.mark.parametrize("value", ["ten/minute", "10/fortnight", "10"])
def test_bad_login_limit_in_the_environment_is_refused(monkeypatch, value):
    # Flask-Limiter skips a limit it cannot parse, which would switch brute-force protection off.
    monkeypatch.setenv("OVERACHIEVER_LOGIN_LIMIT", value)
    with pytest.raises(RuntimeError, match="OVERACHIEVER_LOGIN_LIMIT"):
        Config.from_env()


def test_login_limit_from_the_environment(monkeypatch):
    monkeypatch.setenv("OVERACHIEVER_LOGIN_LIMIT", "5/minute;50 per hour")
    assert Config.from_env()["LOGIN_LIMIT"] == "5/minute;50 per hour"


def test_name_and_email_of_one_account_share_its_allowance(limited_app):
    client = limited_app.test_client()
    logins = ["victim", "victim@example.com", " Victim@Example.COM "]
    for i, login in enumerate(logins):
        assert _attempt(client, login, "wrong password", f"10.0.6.{i}").status_code == 401
    _assert_429(_attempt(client, "victim", PASSWORD, "10.0.6.9"))
    assert _attempt(client, "other@example.com", PASSWORD, "10.0.6.10").status_code == 201


def test_unknown_logins_are_counted_by_the_login_itself(limited_app):
    client = limited_app.test_client()
    for i in range(3):
        assert _attempt(client, "Nobody@Example.com", "guess", f"10.0.7.{i}").status_code == 401
    _assert_429(_attempt(client, "nobody@example.com", "guess", "10.0.7.9"))
    assert _attempt(client, "somebody", "guess", "10.0.7.10").status_code == 401


def test_rate_limit_headers_count_the_address_not_the_account(limited_app):
    # Otherwise the remaining count would tell whether a name and an e-mail address belong to
    # one account, or that someone else has been trying an account.
    client = limited_app.test_client()
    assert _attempt(client, "victim", "guess", "10.0.8.1").status_code == 401
    resp = _attempt(client, "victim@example.com", "guess", "10.0.8.2")
    assert resp.status_code == 401
    assert resp.headers["X-RateLimit-Remaining"] == "2"
    assert resp.headers["X-RateLimit-Limit"] == "3"
