"""Slow clients against a real `overachiever serve`: clients that stall or trickle their
request heads or bodies, and clients that never close, hold up no one else, and are answered
408 (or closed) once their time is up."""

from __future__ import annotations

import contextlib
import socket
import time
from collections.abc import Iterator

import pytest

from tests.support.liveserver import HOST, LiveDatabases, Server, start_server
from tests.support.rawhttp import Answer, connect, read_answer

pytestmark = pytest.mark.live

WORKERS = 2
THREADS = 2  # `serve`'s default
CLIENT_TIMEOUT = 2.0  # OVERACHIEVER_CLIENT_TIMEOUT for this server
KEEPALIVE = 5.0  # the server's keep-alive timeout, the longest silence within a head
# Clients enough to hold every thread of every worker several times over.
SLOW_CLIENTS = 4 * WORKERS * THREADS


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    folder = tmp_path_factory.mktemp("slow-clients")
    databases = LiveDatabases()
    try:
        srv = start_server(
            folder,
            databases.new_url(folder / "db"),
            args=["--workers", str(WORKERS)],
            env={"OVERACHIEVER_CLIENT_TIMEOUT": str(CLIENT_TIMEOUT)},
        )
        try:
            yield srv
        finally:
            srv.stop()
    finally:
        databases.drop_all()


@pytest.fixture(scope="module")
def auth(server: Server) -> dict[str, str]:
    return server.signup("slowpoke")


@contextlib.contextmanager
def sockets(server: Server, count: int, first_bytes: bytes) -> Iterator[list[socket.socket]]:
    """`count` connections that have sent `first_bytes` each; closed afterwards."""
    opened: list[socket.socket] = []
    try:
        for _ in range(count):
            sock = connect(server.port)
            sock.sendall(first_bytes)
            opened.append(sock)
        yield opened
    finally:
        for sock in opened:
            sock.close()


def assert_served_quickly(server: Server, auth: dict[str, str], within: float = 3.0) -> None:
    """Health checks and an authenticated read are answered, each within `within` seconds."""
    for method, path, headers in (
        ("GET", "/healthz", {}),
        ("GET", "/api/v2/goals?limit=1", auth),
        ("GET", "/healthz", {}),
    ):
        started = time.monotonic()
        status, _, body = server.request(method, path, headers=headers, timeout=within)
        elapsed = time.monotonic() - started
        assert status == 200, body[:300]
        assert elapsed < within, (path, elapsed)


def _goal_head(auth: dict[str, str], length: int) -> bytes:
    return (
        b"POST /api/v2/goals HTTP/1.1\r\nHost: %s\r\nAuthorization: %s\r\n"
        b"Content-Type: application/json\r\nContent-Length: %d\r\n\r\n"
        % (HOST.encode(), auth["Authorization"].encode(), length)
    )


def _trickle(sock: socket.socket, piece: bytes, every: float, until: float) -> Answer | None:
    """Send `piece` every `every` seconds until an answer comes or `until` (monotonic)."""
    while time.monotonic() < until:
        with contextlib.suppress(OSError):
            sock.sendall(piece)
        answer = read_answer(sock, timeout=every)
        if answer is not None:
            return answer
    return None


def test_clients_stalled_in_their_request_heads_hold_up_no_one(server, auth):
    partial = b"POST /api/v2/goals HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Ty"
    with sockets(server, SLOW_CLIENTS, partial):
        time.sleep(0.5)
        assert_served_quickly(server, auth)
    # Also while they keep sending a little, without ever finishing.
    with sockets(server, SLOW_CLIENTS, partial) as slow:
        for _ in range(3):
            for sock in slow:
                with contextlib.suppress(OSError):
                    sock.sendall(b"x")
            assert_served_quickly(server, auth)
            time.sleep(0.3)


def test_a_silent_unfinished_head_is_closed(server):
    with sockets(server, 1, b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n") as (sock,):
        started = time.monotonic()
        sock.settimeout(KEEPALIVE + 3)
        try:
            data = sock.recv(65536)
        except ConnectionResetError:
            data = b""
        assert data == b""  # closed, with nothing to say
        assert time.monotonic() - started < KEEPALIVE + 2


def test_a_head_sent_too_slowly_is_answered_408(server):
    with sockets(server, 1, b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n") as (sock,):
        started = time.monotonic()
        answer = _trickle(sock, b"X-Slow: 1\r\n", 0.4, started + CLIENT_TIMEOUT + 4)
        assert answer is not None
        answer.assert_problem(408)
        assert time.monotonic() - started < CLIENT_TIMEOUT + 2


def test_a_stalled_body_is_answered_408(server, auth):
    before = server.json("GET", "/api/v2/goals?limit=1", headers=auth)[1]["total"]
    with sockets(server, 1, _goal_head(auth, 100) + b'{"name": "stalled"') as (sock,):
        started = time.monotonic()
        answer = read_answer(sock, timeout=CLIENT_TIMEOUT + 4)
        assert answer is not None
        answer.assert_problem(408)
        assert time.monotonic() - started < CLIENT_TIMEOUT + 2
    assert server.json("GET", "/api/v2/goals?limit=1", headers=auth)[1]["total"] == before


def test_a_body_sent_too_slowly_is_answered_408(server, auth):
    with sockets(server, 1, _goal_head(auth, 1000) + b'{"name": "trickled"') as (sock,):
        started = time.monotonic()
        # Never a pause as long as the client timeout, but the whole body takes too long.
        answer = _trickle(sock, b" ", CLIENT_TIMEOUT / 4, started + 3 * CLIENT_TIMEOUT + 4)
        assert answer is not None
        answer.assert_problem(408)
        assert time.monotonic() - started < 3 * CLIENT_TIMEOUT + 2


def test_clients_that_never_close_hold_up_no_one(server, auth):
    # HTTP/1.0: the server answers, then closes gently, reading what the client still sends
    # until it closes too; these clients never do.
    with sockets(server, 10 * WORKERS, b"GET /healthz HTTP/1.0\r\n\r\n") as lingering:
        time.sleep(0.5)
        assert_served_quickly(server, auth, within=1.5)
        for sock in lingering:
            answer = read_answer(sock, timeout=5)
            assert answer is not None
            assert answer.status == 200
