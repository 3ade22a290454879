"""The gunicorn worker's own parts: when a request head is complete, the client timeout
setting, and the problem documents it writes for gunicorn's refusals."""

from __future__ import annotations

import json
import socket
from typing import Any
from unittest import mock

import pytest
from gunicorn.http.errors import InvalidHeader, LimitRequestLine

from overachiever.worker import (
    CLIENT_TIMEOUT_ENV,
    DEFAULT_CLIENT_TIMEOUT,
    ReadTimeout,
    Worker,
    _head_complete,
    client_timeout,
)


@pytest.mark.parametrize(
    ("head", "start", "complete"),
    [
        (b"", 0, False),
        (b"GET / HTTP/1.1\r\nHost: x\r\n", 0, False),
        (b"GET / HTTP/1.1\r\nHost: x\r\n\r\n", 0, True),
        (b"GET / HTTP/1.1\r\n\r\n", 0, True),
        (b"GET / HTTP/1.1\r\nHost: x\r\n\r\n{}", 0, True),
        # The end arriving split over two reads: the bytes seen before are looked at again.
        (b"GET / HTTP/1.1\r\nHost: x\r\n\r\n", 26, True),
        (b"GET / HTTP/1.1\r\nHost: x\r\n\r\n", 24, True),
        (b"GET / HTTP/1.1\r\nHost: x\r\n\r", 25, False),
        # A bare LF: gunicorn refuses it without waiting for more.
        (b"GET / HTTP/1.1\nHost", 0, True),
        (b"GET / HTTP/1.1\r\nHost: x\n", 16, True),
        (b"\n", 0, True),
    ],
)
def test_head_complete(head, start, complete):
    assert _head_complete(bytearray(head), start) is complete


def test_client_timeout_setting(monkeypatch):
    monkeypatch.delenv(CLIENT_TIMEOUT_ENV, raising=False)
    assert client_timeout() == DEFAULT_CLIENT_TIMEOUT
    monkeypatch.setenv(CLIENT_TIMEOUT_ENV, "2.5")
    assert client_timeout() == 2.5
    for bad in ("soon", "0", "-1", "nan", "100000"):
        monkeypatch.setenv(CLIENT_TIMEOUT_ENV, bad)
        with pytest.raises(RuntimeError, match=CLIENT_TIMEOUT_ENV):
            client_timeout()


def _answer_to(exc: BaseException) -> tuple[bytes, dict[str, str], dict[str, Any]]:
    """What the worker writes to the client for an error gunicorn handles itself."""
    worker = Worker.__new__(Worker)  # handle_error needs only a log and a config
    worker.log = mock.Mock()
    worker.cfg = mock.Mock()
    ours, theirs = socket.socketpair()
    with ours, theirs:
        worker.handle_error(None, ours, ("127.0.0.1", 1234), exc)
        ours.close()
        data = b""
        while chunk := theirs.recv(65536):
            data += chunk
    head, _, body = data.partition(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    headers = {k.lower(): v.strip() for k, _, v in (line.partition(":") for line in lines[1:])}
    assert int(headers["content-length"]) == len(body)
    assert headers["content-type"] == "application/problem+json"
    assert headers["connection"] == "close"
    return lines[0].encode(), headers, json.loads(body)


def test_an_unexpected_error_is_a_500_problem_that_says_nothing_of_it():
    status_line, _, problem = _answer_to(RuntimeError("secret detail"))
    assert status_line == b"HTTP/1.1 500 Internal Server Error"
    assert problem["status"] == 500
    assert "secret" not in json.dumps(problem)


def test_gunicorn_refusals_keep_their_status_and_reason():
    status_line, _, problem = _answer_to(LimitRequestLine(9000, 8190))
    assert status_line == b"HTTP/1.1 414 URI Too Long"
    assert problem == {
        "type": "about:blank",
        "title": "URI Too Long",
        "status": 414,
        "detail": "Request Line is too large (9000 > 8190)",
    }
    status_line, _, problem = _answer_to(InvalidHeader("CONTENT-LENGTH"))
    assert status_line == b"HTTP/1.1 400 Bad Request"
    assert problem["detail"] == "Invalid HTTP Header: 'CONTENT-LENGTH'"


def test_a_late_request_is_a_408_problem():
    status_line, _, problem = _answer_to(ReadTimeout())
    assert status_line == b"HTTP/1.1 408 Request Timeout"
    assert problem["status"] == 408
