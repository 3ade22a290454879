"""What a real `overachiever serve` answers to requests its HTTP layer refuses before the app
sees them, to OPTIONS, and to bodies over the size limit however they are framed: always an
RFC 9457 problem (or the documented empty answer), never an HTML page."""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator

import pytest

from tests.support.liveserver import HOST, LiveDatabases, Server, free_port, start_server
from tests.support.rawhttp import chunked, connect, exchange, read_answer

pytestmark = pytest.mark.live

LIMIT = 1024 * 1024  # MAX_CONTENT_LENGTH's default


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    folder = tmp_path_factory.mktemp("protocol")
    databases = LiveDatabases()
    try:
        srv = start_server(folder, databases.new_url(folder / "db"), args=["--workers", "2"])
        try:
            yield srv
        finally:
            srv.stop()
    finally:
        databases.drop_all()


@pytest.fixture(scope="module")
def auth(server: Server) -> dict[str, str]:
    return server.signup("protocol")


def _goal_count(server: Server, auth: dict[str, str]) -> int:
    status, page = server.json("GET", "/api/v2/goals?limit=1", headers=auth)
    assert status == 200, page
    return int(page["total"])


def _head(method: str, path: str, *fields: bytes) -> bytes:
    return b"%s %s HTTP/1.1\r\nHost: %s\r\n%s\r\n" % (
        method.encode(),
        path.encode(),
        HOST.encode(),
        b"".join(field + b"\r\n" for field in fields),
    )


REFUSED = {
    "request line over 8190 bytes": (
        _head("GET", "/api/v2/goals?q=" + "a" * 9000),
        [],
        414,
    ),
    "request line over 64 KiB, unfinished": (b"GET /api/v2/goals?q=", [b"a" * 70_000], 414),
    "more than 100 header fields": (
        _head("GET", "/api/v2/goals", *(b"X-Field-%d: v" % i for i in range(120))),
        [],
        431,
    ),
    "a header field over 8190 bytes": (
        _head("GET", "/api/v2/goals", b"X-Big: " + b"v" * 9000),
        [],
        431,
    ),
    "a request head over 64 KiB": (
        _head("GET", "/api/v2/goals", *(b"X-Part-%d: " % i + b"v" * 8000 for i in range(9))),
        [],
        431,
    ),
    "Content-Length with Transfer-Encoding": (
        _head(
            "POST",
            "/api/v2/goals",
            b"Content-Type: application/json",
            b"Content-Length: 5",
            b"Transfer-Encoding: chunked",
        )
        + b"0\r\n\r\n",
        [],
        400,
    ),
    "an unknown transfer coding": (
        _head(
            "POST",
            "/api/v2/goals",
            b"Content-Type: application/json",
            b"Transfer-Encoding: gzip",
        ),
        [],
        400,
    ),
    "a header name with a space": (_head("GET", "/api/v2/goals", b"Bad Name: v"), [], 400),
    "a malformed request line": (b"GET /api/v2/goals\r\nHost: x\r\n\r\n", [], 400),
}


@pytest.mark.parametrize("case", REFUSED, ids=list(REFUSED))
def test_requests_the_server_refuses_get_problems(server, case):
    request, more, status = REFUSED[case]
    answer = exchange(server.port, request, more)
    assert answer is not None, server.logs()[-2000:]
    problem = answer.assert_problem(status)
    assert answer.headers["connection"] == "close"
    assert answer.headers["x-content-type-options"] == "nosniff"
    assert answer.headers["cache-control"] == "no-store"
    assert problem["type"] == "about:blank"


def test_request_lines_up_to_8190_bytes_reach_the_app(server, auth):
    path = "/api/v2/goals?limit=5&x=" + "a" * 7000
    status, headers, body = server.request("GET", path, headers=auth)
    assert status == 200, body[:300]
    assert headers["content-type"] == "application/json"


@pytest.mark.parametrize(
    ("path", "methods"),
    [
        ("/api/v2/goals", {"GET", "HEAD", "POST", "OPTIONS"}),
        ("/api/v2/goals/1", {"GET", "HEAD", "PUT", "PATCH", "DELETE", "OPTIONS"}),
        ("/healthz", {"GET", "HEAD", "OPTIONS"}),
    ],
)
def test_options_answers_204_with_allow_and_no_body(server, path, methods):
    status, headers, body = server.request("OPTIONS", path)
    assert status == 204
    assert {m.strip() for m in headers["allow"].split(",")} == methods
    assert "content-type" not in headers
    assert body == b""
    assert headers["x-content-type-options"] == "nosniff"


def test_options_of_an_unknown_path_is_a_problem(server):
    answer = exchange(server.port, _head("OPTIONS", "/api/v2/nothing-here"))
    assert answer is not None
    answer.assert_problem(404)


def _post_goal(**framing: bytes) -> bytes:
    return _head(
        "POST",
        "/api/v2/goals",
        b"Content-Type: application/json",
        *(b"%s: %s" % (name.replace("_", "-").encode(), value) for name, value in framing.items()),
    )


def test_a_chunked_body_over_the_limit_is_413(server, auth):
    before = _goal_count(server, auth)
    token = auth["Authorization"].encode()
    # Valid JSON within the first MiB, then more than the limit allows.
    body = b'{"name": "x"}' + b" " * (2 * LIMIT) + b"junk"
    answer = exchange(
        server.port,
        _post_goal(Authorization=token, Transfer_Encoding=b"chunked"),
        chunked(body),
    )
    assert answer is not None, server.logs()[-2000:]
    answer.assert_problem(413)
    # One byte over is over, too.
    body = b'{"name": "y"}' + b" " * (LIMIT - 13 + 1)
    answer = exchange(
        server.port,
        _post_goal(Authorization=token, Transfer_Encoding=b"chunked"),
        chunked(body),
    )
    assert answer is not None
    answer.assert_problem(413)
    assert _goal_count(server, auth) == before


def test_a_body_with_its_length_over_the_limit_is_413(server, auth):
    before = _goal_count(server, auth)
    body = b'{"name": "x"}' + b" " * (2 * LIMIT)
    answer = exchange(
        server.port,
        _post_goal(Authorization=auth["Authorization"].encode(), Content_Length=b"%d" % len(body)),
        [body],
    )
    assert answer is not None
    answer.assert_problem(413)
    assert _goal_count(server, auth) == before


def test_a_chunked_body_at_the_limit_is_taken(server, auth):
    before = _goal_count(server, auth)
    body = b'{"name": "chunked at the limit"}'
    body += b" " * (LIMIT - len(body))
    answer = exchange(
        server.port,
        _post_goal(Authorization=auth["Authorization"].encode(), Transfer_Encoding=b"chunked"),
        chunked(body, size=100_000),
    )
    assert answer is not None
    assert answer.status == 201, answer.body[:300]
    assert answer.json()["name"] == "chunked at the limit"
    assert _goal_count(server, auth) == before + 1


def test_pipelined_requests_are_answered_in_order(server, auth):
    token = auth["Authorization"].encode()
    with connect(server.port) as sock:
        sock.sendall(
            _head("GET", "/healthz")
            + _head("GET", "/api/v2/goals/999999", b"Authorization: " + token)
            + _head("GET", "/readyz", b"Connection: close")
        )
        statuses = []
        pending = bytearray()
        for _ in range(3):
            answer = read_answer(sock, pending=pending)
            assert answer is not None
            statuses.append(answer.status)
    assert statuses == [200, 404, 200]


# An app that fails inside the WSGI server's own layer: gunicorn answers for it.
BROKEN_APP = """
import sys
from overachiever import server

def app(environ, start_response):
    raise RuntimeError("a-detail-no-client-may-see")

server.Server.load = lambda self: app
server.serve("127.0.0.1", int(sys.argv[1]), 1)
"""


def test_an_error_in_the_server_layer_is_a_problem(tmp_path):
    port = free_port()
    log = tmp_path / "server.log"
    with log.open("wb") as out:
        proc = subprocess.Popen(
            [sys.executable, "-c", BROKEN_APP, str(port)],
            stdout=out,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            cwd=tmp_path,
            env={**os.environ, "HOME": str(tmp_path)},
            start_new_session=True,
        )
    try:
        answer = None
        deadline = time.monotonic() + 30
        while answer is None and time.monotonic() < deadline and proc.poll() is None:
            try:
                answer = exchange(port, _head("GET", "/api/v2/goals"), timeout=5)
            except OSError:
                time.sleep(0.1)
        assert answer is not None, log.read_text()
        answer.assert_problem(500)
        assert b"a-detail-no-client-may-see" not in answer.body
        assert b"RuntimeError" not in answer.body
        assert "a-detail-no-client-may-see" in log.read_text()  # the log has it
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGINT)
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(timeout=10)
