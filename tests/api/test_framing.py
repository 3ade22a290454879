"""Request rules that do not depend on the WSGI server: the body limit whatever the body's
framing, and the answer to OPTIONS."""

from __future__ import annotations

import io

import pytest

from tests.support.problems import assert_problem

GOALS = "/api/v2/goals"


def _chunked_post(client, headers, body: bytes):
    """POST `body` the way a server passes a chunked request on: no Content-Length, and a
    stream the server ends itself (wsgi.input_terminated)."""
    return client.post(
        GOALS,
        input_stream=io.BytesIO(body),
        headers={
            **headers,
            "Content-Type": "application/json",
            "Transfer-Encoding": "chunked",
        },
        environ_overrides={"wsgi.input_terminated": True},
    )


@pytest.fixture
def small_app(make_app):
    return make_app(MAX_CONTENT_LENGTH=300)


@pytest.fixture
def small_client(small_app):
    from tests.support.accounts import sign_up

    client = small_app.test_client()
    return client, sign_up(client, "framer").headers


def test_a_chunked_body_over_the_limit_is_413_not_cut_short(small_client):
    client, headers = small_client
    # Valid JSON within the limit; what follows must not be dropped unseen.
    resp = _chunked_post(client, headers, b'{"name": "x"}' + b" " * 300 + b"junk")
    assert_problem(resp, 413)
    resp = _chunked_post(client, headers, b'{"name": "x"}' + b" " * (300 - 13 + 1))
    assert_problem(resp, 413)
    assert client.get(GOALS, headers=headers).get_json()["total"] == 0


def test_a_chunked_body_within_the_limit_is_read(small_client):
    client, headers = small_client
    body = b'{"name": "fits"}'
    resp = _chunked_post(client, headers, body + b" " * (300 - len(body)))
    assert resp.status_code == 201, resp.get_json()
    assert resp.get_json()["name"] == "fits"


@pytest.mark.parametrize(
    ("path", "allowed"),
    [
        (GOALS, {"GET", "HEAD", "POST", "OPTIONS"}),
        ("/api/v2/goals/1", {"GET", "HEAD", "PUT", "PATCH", "DELETE", "OPTIONS"}),
        ("/v1.0/goals", None),
        ("/", {"GET", "HEAD", "OPTIONS"}),
    ],
)
def test_options_is_204_with_allow(client, path, allowed):
    resp = client.options(path)
    assert resp.status_code == 204
    assert resp.get_data() == b""
    assert "Content-Type" not in resp.headers
    methods = {m.strip() for m in resp.headers["Allow"].split(",")}
    assert "OPTIONS" in methods
    if allowed is not None:
        assert methods == allowed
    assert resp.headers["X-Content-Type-Options"] == "nosniff"


def test_options_of_an_unknown_path_is_a_404_problem(client):
    assert_problem(client.options("/api/v2/nowhere"), 404)
