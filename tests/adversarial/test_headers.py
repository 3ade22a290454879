"""Security headers on every kind of response, and what a 500 shows and logs.

Every response, whatever its status or layer (v2, v1.0, the user directory, the OpenAPI
document, the docs, the UI, probes, errors), carries X-Content-Type-Options and a request id;
API responses are never stored by caches; pages carry a Content-Security-Policy; HSTS is sent
exactly when the request came over TLS through a trusted proxy. A server error is a problem
without a trace or internals, and the server's log names its request id.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import create_engine, text

from tests.support.accounts import basic
from tests.support.adversarial import account, module_app, record_figures
from tests.support.liveserver import LiveDatabases, start_server

V2 = "/api/v2"
TLS = {"X-Forwarded-Proto": "https", "X-Forwarded-For": "203.0.113.7"}
DATA_PATHS = ("/api/", "/v1.0/")  # responses with someone's data: never cached
PAGES = ("/", "/docs")


@pytest.fixture(scope="module")
def app(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    """An app behind one trusted proxy, with a route that fails unexpectedly."""
    for application in module_app(
        Path(tmp_path_factory.mktemp("headers")),
        TRUSTED_PROXIES=1,
        LOGIN_LIMIT="5/minute",
        PROPAGATE_UNEXPECTED=False,
    ):

        def boom() -> None:
            raise RuntimeError("internal detail that must not leak")

        application.add_url_rule(f"{V2}/boom", "boom", boom)
        yield application


@pytest.fixture(scope="module")
def world(app: Any) -> dict[str, Any]:
    client = app.test_client()
    admin = account(client, "admin", "admin password 1")
    bob = account(client, "bob", "bob password 1")
    resp = client.post(f"{V2}/goals", json={"name": "g"}, headers=bob.headers)
    return {"admin": admin, "bob": bob, "goal": resp.get_json()["id"], "etag": resp.headers["ETag"]}


Request = Callable[[Any, dict[str, Any], dict[str, str]], Any]


def _kinds() -> dict[str, tuple[int, Request]]:
    """Every kind of response: its expected status and how to provoke it."""

    def bob(w: dict[str, Any], extra: dict[str, str]) -> dict[str, str]:
        return {**w["bob"].headers, **extra}

    def admin(w: dict[str, Any], extra: dict[str, str]) -> dict[str, str]:
        return {**w["admin"].headers, **extra}

    return {
        "v2-200-list": (200, lambda c, w, h: c.get(f"{V2}/goals", headers=bob(w, h))),
        "v2-200-tree-stream": (200, lambda c, w, h: c.get(f"{V2}/goals/tree", headers=bob(w, h))),
        "v2-201-create": (
            201,
            lambda c, w, h: c.post(
                f"{V2}/goals", json={"name": uuid.uuid4().hex}, headers=bob(w, h)
            ),
        ),
        "v2-201-token": (
            201,
            lambda c, w, h: c.post(f"{V2}/tokens", headers={**basic("bob", "bob password 1"), **h}),
        ),
        "v2-204-revoke": (
            204,
            lambda c, w, h: c.delete(
                f"{V2}/tokens/"
                + str(
                    c.post(f"{V2}/tokens", headers=basic("admin", "admin password 1")).get_json()[
                        "id"
                    ]
                ),
                headers=admin(w, h),
            ),
        ),
        "v2-304": (
            304,
            lambda c, w, h: c.get(
                f"{V2}/goals/{w['goal']}", headers=bob(w, {**h, "If-None-Match": w["etag"]})
            ),
        ),
        "v2-head": (200, lambda c, w, h: c.head(f"{V2}/goals", headers=bob(w, h))),
        "v2-400": (
            400,
            lambda c, w, h: c.post(
                f"{V2}/goals", data=b"{", content_type="application/json", headers=bob(w, h)
            ),
        ),
        "v2-401": (401, lambda c, w, h: c.get(f"{V2}/goals", headers=h)),
        "v2-403": (403, lambda c, w, h: c.get(f"{V2}/users", headers=bob(w, h))),
        "v2-404": (404, lambda c, w, h: c.get(f"{V2}/goals/999999", headers=bob(w, h))),
        "v2-405": (405, lambda c, w, h: c.delete(f"{V2}/goals", headers=bob(w, h))),
        "v2-409": (
            409,
            lambda c, w, h: c.post(f"{V2}/goals", json={"name": "g"}, headers=bob(w, h)),
        ),
        "v2-412": (
            412,
            lambda c, w, h: c.patch(
                f"{V2}/goals/{w['goal']}", json={}, headers=bob(w, {**h, "If-Match": '"stale"'})
            ),
        ),
        "v2-413": (
            413,
            lambda c, w, h: c.post(
                f"{V2}/goals",
                data=b"x" * 1_100_000,
                content_type="application/json",
                headers=bob(w, h),
            ),
        ),
        "v2-415": (
            415,
            lambda c, w, h: c.post(
                f"{V2}/goals", data=b"x", content_type="text/plain", headers=bob(w, h)
            ),
        ),
        "v2-422": (
            422,
            lambda c, w, h: c.post(f"{V2}/goals", json={"name": ""}, headers=bob(w, h)),
        ),
        "v2-429": (
            429,
            lambda c, w, h: [
                c.post(
                    f"{V2}/tokens",
                    headers={**basic("nobody", "x"), **h},
                    environ_base={"REMOTE_ADDR": "198.51.100.9"},
                )
                for _ in range(6)
            ][-1],
        ),
        "v2-500": (500, lambda c, w, h: c.get(f"{V2}/boom", headers=h)),
        "openapi-json": (200, lambda c, w, h: c.get(f"{V2}/openapi.json", headers=h)),
        "v1-200": (200, lambda c, w, h: c.get("/v1.0/goals", headers=bob(w, h))),
        "v1-400": (400, lambda c, w, h: c.post("/v1.0/goals", json={}, headers=bob(w, h))),
        "v1-401": (401, lambda c, w, h: c.get("/v1.0/users", headers=h)),
        "directory-200": (200, lambda c, w, h: c.get("/api/user/0", headers=admin(w, h))),
        "directory-403": (403, lambda c, w, h: c.get("/api/user/0", headers=bob(w, h))),
        "page-ui": (200, lambda c, w, h: c.get("/", headers=h)),
        "page-docs": (200, lambda c, w, h: c.get("/docs", headers=h)),
        "asset-docs": (200, lambda c, w, h: c.get("/docs/assets/swagger-ui.css", headers=h)),
        "probe-healthz": (200, lambda c, w, h: c.get("/healthz", headers=h)),
        "probe-readyz": (200, lambda c, w, h: c.get("/readyz", headers=h)),
        "404-unrouted": (404, lambda c, w, h: c.get("/nowhere", headers=h)),
    }


KINDS = _kinds()


@pytest.mark.parametrize("tls", [False, True], ids=["http", "behind-tls-proxy"])
@pytest.mark.parametrize("kind", list(KINDS))
def test_security_headers_on_every_kind_of_response(app, world, kind, tls):
    status, provoke = KINDS[kind]
    client = app.test_client()
    resp = provoke(client, world, dict(TLS) if tls else {})
    path = resp.request.path
    body = resp.get_data()
    resp.close()
    assert resp.status_code == status, body[:300]
    h = resp.headers
    assert h.get("X-Content-Type-Options") == "nosniff"
    assert h.get("X-Request-ID")
    assert h.get("Referrer-Policy")
    if path.startswith(DATA_PATHS):
        assert "no-store" in h.get("Cache-Control", ""), (path, h.get("Cache-Control"))
    if path in PAGES:
        csp = h.get("Content-Security-Policy", "")
        assert "script-src" in csp or "default-src" in csp, csp
        assert "'unsafe-inline'" not in re.sub(r"style-src[^;]*", "", csp)
        assert "frame-ancestors 'none'" in csp or h.get("X-Frame-Options") == "DENY"
    hsts = h.get("Strict-Transport-Security")
    if tls:
        assert hsts, "HSTS must be sent over TLS"
        assert int(re.search(r"max-age=(\d+)", hsts).group(1)) >= 31_536_000
    else:
        assert hsts is None, "HSTS over plain HTTP is meaningless and must not be sent"


def test_forwarded_proto_from_an_untrusted_peer_earns_no_hsts(make_app):
    app = make_app(TRUSTED_PROXIES=0)
    resp = app.test_client().get("/healthz", headers=TLS)
    assert resp.status_code == 200
    assert "Strict-Transport-Security" not in resp.headers


def test_a_500_shows_no_trace_and_is_logged_with_its_request_id(app, world, caplog):
    client = app.test_client()
    with caplog.at_level("ERROR"):
        resp = client.get(f"{V2}/boom", headers={"X-Request-ID": "trace-me-42"})
    text_body = resp.get_data(as_text=True)
    assert resp.status_code == 500
    assert resp.mimetype == "application/problem+json"
    assert resp.get_json()["request_id"] == "trace-me-42"
    assert resp.headers["X-Request-ID"] == "trace-me-42"
    for leak in ("Traceback", "internal detail", "RuntimeError", ".py", "File "):
        assert leak not in text_body
    assert any("trace-me-42" in r.getMessage() for r in caplog.records)


@pytest.fixture
def databases() -> Iterator[LiveDatabases]:
    made = LiveDatabases()
    yield made
    made.drop_all()


@pytest.mark.live
def test_a_live_server_error_hides_internals_and_logs_the_request_id(tmp_path, databases):
    """A real fault under gunicorn: the goals table vanishes under the running server."""
    url = databases.new_url(tmp_path / "db")
    server = start_server(tmp_path / "run", url, args=["--workers", "1"])
    try:
        headers = server.signup("unlucky")
        assert server.request("GET", f"{V2}/goals", headers=headers)[0] == 200
        engine = create_engine(url)
        with engine.begin() as conn:
            conn.execute(text("ALTER TABLE goals RENAME TO goals_gone"))
        engine.dispose()
        generated_status, generated_headers, generated_body = server.request(
            "GET", f"{V2}/goals", headers=headers
        )
        status, resp_headers, body = server.request(
            "GET", f"{V2}/goals", headers={**headers, "X-Request-ID": "live-fault-7"}
        )
    finally:
        server.stop()
    logs = server.logs()
    for st, hd, raw in (
        (generated_status, generated_headers, generated_body),
        (status, resp_headers, body),
    ):
        assert st == 500
        assert hd["content-type"].startswith("application/problem+json")
        assert hd["x-content-type-options"] == "nosniff"
        shown = raw.decode()
        for leak in (
            "Traceback",
            "goals",
            "SELECT",
            "sqlite",
            "psycopg",
            "OperationalError",
            ".py",
        ):
            assert leak not in shown.replace("/api/v2/goals", ""), leak
        assert hd["x-request-id"] in shown
        assert hd["x-request-id"] in logs
    assert resp_headers["x-request-id"] == "live-fault-7"
    assert "Traceback" in logs, "the server's log should keep the trace for its operators"
    record_figures("headers_live_500", statuses=[generated_status, status])
