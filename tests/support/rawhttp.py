"""HTTP/1.1 over a bare socket, for requests no client library sends: stalled, malformed,
oversized, or chunked by hand."""

from __future__ import annotations

import contextlib
import json
import socket
import threading
import time
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from tests.support.liveserver import HOST

PROBLEM_JSON = "application/problem+json"


@dataclass
class Answer:
    """One response read off a socket."""

    status: int
    headers: dict[str, str]
    body: bytes

    def json(self) -> Any:
        return json.loads(self.body)

    def assert_problem(self, status: int) -> dict[str, Any]:
        """The answer is an RFC 9457 problem with this status; returns its body."""
        assert self.status == status, (self.status, self.headers, self.body[:300])
        assert self.headers.get("content-type", "").split(";")[0] == PROBLEM_JSON, self.headers
        assert b"<html" not in self.body.lower()
        problem = self.json()
        assert problem["status"] == status
        assert problem["title"]
        assert problem["detail"]
        assert int(self.headers["content-length"]) == len(self.body)
        return dict(problem)


def connect(port: int, timeout: float = 10) -> socket.socket:
    return socket.create_connection((HOST, port), timeout=timeout)


def read_answer(
    sock: socket.socket, timeout: float = 10, pending: bytearray | None = None
) -> Answer | None:
    """Read one response (up to its Content-Length, else to EOF) within `timeout` seconds.

    None when nothing arrived before the connection closed or the time ran out. Bytes read
    beyond the response (the next one, pipelined) are left in `pending` when it is given.
    """
    deadline = time.monotonic() + timeout
    data = pending if pending is not None else bytearray()
    while True:
        head_end = data.find(b"\r\n\r\n")
        if head_end >= 0:
            answer = _parse(bytes(data[:head_end]), b"")
            no_body = answer.status in (204, 304) or answer.status < 200
            length = 0 if no_body else answer.headers.get("content-length")
            if length is not None and len(data) >= head_end + 4 + int(length):
                answer.body = bytes(data[head_end + 4 : head_end + 4 + int(length)])
                del data[: head_end + 4 + int(length)]
                return answer
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            break
        sock.settimeout(remaining)
        try:
            part = sock.recv(65536)
        except (TimeoutError, ConnectionResetError):
            break
        if not part:
            break
        data += part
    head_end = data.find(b"\r\n\r\n")
    if head_end < 0:
        return None
    answer = _parse(bytes(data[:head_end]), bytes(data[head_end + 4 :]))
    data.clear()
    return answer


def _parse(head: bytes, body: bytes) -> Answer:
    lines = head.decode("latin-1").split("\r\n")
    status = int(lines[0].split(" ", 2)[1])
    headers: dict[str, str] = {}
    for line in lines[1:]:
        name, _, value = line.partition(":")
        headers[name.strip().lower()] = value.strip()
    return Answer(status, headers, body)


def exchange(
    port: int, request: bytes, more: Iterable[bytes] = (), timeout: float = 15
) -> Answer | None:
    """Send `request`, then each piece of `more` from another thread, and read the answer.

    Sending and reading at once, a request the server refuses half-way does not leave the
    client stuck in a send while the answer waits."""
    with connect(port, timeout) as sock:
        sock.sendall(request)

        def send_rest() -> None:
            with contextlib.suppress(OSError):
                for piece in more:
                    sock.sendall(piece)

        sender = threading.Thread(target=send_rest, daemon=True)
        sender.start()
        try:
            return read_answer(sock, timeout)
        finally:
            with contextlib.suppress(OSError):
                sock.shutdown(socket.SHUT_RDWR)
            sender.join(timeout)


def chunked(body: bytes, size: int = 64 * 1024) -> list[bytes]:
    """`body` in chunked transfer coding, with the last chunk."""
    pieces = [
        b"%x\r\n%s\r\n" % (len(body[i : i + size]), body[i : i + size])
        for i in range(0, len(body), size)
    ]
    return [*pieces, b"0\r\n\r\n"]
