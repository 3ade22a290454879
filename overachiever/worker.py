"""The gunicorn worker of `overachiever serve`: gunicorn's threaded worker, made to hold up
against slow clients, whose own error answers are RFC 9457 problems like the app's.

gunicorn's threaded worker hands a connection to a thread as soon as it has any bytes, and the
thread then blocks until the whole request head has arrived: a few clients that send half a
head and stop hold every thread. Here the head is collected without blocking (a thread reads
what has arrived and gives the connection back to the worker's poller), and a thread parses
it only once it is complete. The rest is bounded in time: the head, each pause in a body and
the whole body, and sending the answer. Closing a connection gently (FIN, then reading what
the client still sends) happens in the poller too, where gunicorn would block its main loop
for up to two seconds per connection.
"""

from __future__ import annotations

import contextlib
import html
import json
import selectors
import socket
import time
from functools import partial
from typing import Any

from gunicorn import util
from gunicorn.http.errors import LimitRequestHeaders, LimitRequestLine
from gunicorn.http.parser import RequestParser
from gunicorn.http.unreader import SocketUnreader
from gunicorn.workers.gthread import _DEFER, ThreadWorker
from werkzeug.exceptions import RequestTimeout

from .config import Settings

# The largest request head (request line and header fields) collected before a thread parses
# it; a longer one is refused with 431 (414 when its request line alone is that long).
MAX_HEAD = 64 * 1024
# A gentle close reads (and drops) what the client still sends for this long, at most this much.
LINGER_SECONDS = 2.0
LINGER_BYTES = 64 * 1024
CLIENT_TIMEOUT_ENV = "OVERACHIEVER_CLIENT_TIMEOUT"
DEFAULT_CLIENT_TIMEOUT = 10.0

_PROBLEM_HEADERS = (
    "Content-Type: application/problem+json\r\n"
    "Cache-Control: no-store\r\n"
    "X-Content-Type-Options: nosniff\r\n"
    "Connection: close\r\n"
)


def client_timeout() -> float:
    """Seconds a client may take to send a request head, or pause while sending a body.

    The whole body must arrive within three times that, and an answer be sent within six.
    """
    return Settings.from_env().client_timeout


class ReadTimeout(RequestTimeout):
    """The client did not send its request in time."""

    description = "the request did not arrive in time"


class _Reader(SocketUnreader):  # type: ignore[misc]  # gunicorn ships no types
    """gunicorn's reader of one connection, whose reads end by a deadline once one is set."""

    def __init__(self, sock: socket.socket, pause: float, write_timeout: float) -> None:
        super().__init__(sock)
        self.pause = pause
        self.write_timeout = write_timeout
        self.deadline: float | None = None

    def chunk(self, size_hint: int | None = None) -> bytes:
        if self.deadline is None:
            return bytes(super().chunk(size_hint))
        remaining = self.deadline - time.monotonic()
        if remaining <= 0:
            raise ReadTimeout()
        self.sock.settimeout(min(remaining, self.pause))
        try:
            return bytes(super().chunk(size_hint))
        except TimeoutError:
            raise ReadTimeout() from None
        finally:
            # Sending the answer has a time limit of its own.
            self.sock.settimeout(self.write_timeout)


def _head_complete(head: bytearray, start: int) -> bool:
    """Whether gunicorn can decide about this head without reading more.

    True once the empty line that ends it has arrived, or a line ends with a bare LF (which
    gunicorn refuses at once). `start` is where the bytes not looked at before begin.
    """
    if head.find(b"\r\n\r\n", max(start - 3, 0)) >= 0:
        return True
    lf = head.find(b"\n", start)
    while lf >= 0:
        if lf == 0 or head[lf - 1] != 0x0D:
            return True
        lf = head.find(b"\n", lf + 1)
    return False


class _ErrorPage:
    """Takes the place of the client's socket while gunicorn writes its own (HTML) error page."""

    def __init__(self) -> None:
        self.data = bytearray()

    def gettimeout(self) -> float:
        return 0.0

    def setblocking(self, flag: bool) -> None:
        pass

    def sendall(self, data: bytes) -> None:
        self.data += data

    def send(self, data: bytes) -> int:
        self.data += data
        return len(data)

    def parts(self) -> tuple[int, str, str]:
        """Status, reason and message of the page gunicorn wrote."""
        text = self.data.decode("latin-1")
        status_line = text.split("\r\n", 1)[0].split(" ", 2)
        status = int(status_line[1]) if len(status_line) > 1 and status_line[1].isdigit() else 500
        reason = status_line[2] if len(status_line) > 2 else "Error"
        message = ""
        if "</h1>" in text and "</body>" in text:
            message = html.unescape(text.split("</h1>", 1)[1].split("</body>", 1)[0].strip())
        return status, reason, message


def problem_answer(status: int, title: str, detail: str) -> bytes:
    """A whole HTTP/1.1 answer carrying an RFC 9457 problem, closing the connection."""
    problem = {"type": "about:blank", "title": title, "status": status, "detail": detail}
    body = json.dumps(problem, separators=(",", ":")).encode()
    reason = title.encode("latin-1", "replace").decode("latin-1")
    head = f"HTTP/1.1 {status} {reason}\r\n{_PROBLEM_HEADERS}Content-Length: {len(body)}\r\n\r\n"
    return head.encode("latin-1") + body


class Worker(ThreadWorker):  # type: ignore[misc]  # gunicorn ships no types
    """gunicorn's threaded worker with no thread waiting on a slow client."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.client_timeout = client_timeout()
        self.write_timeout = 6 * self.client_timeout
        # Gently closing sockets: each one's deadline and the bytes read from it since.
        self.lingering: dict[socket.socket, list[float]] = {}

    # Requests: the head is collected without blocking; reading and writing are bounded.

    def handle(self, conn: Any) -> Any:
        if self.cfg.is_ssl:
            return super().handle(conn)
        try:
            conn.init()
            if not isinstance(conn.parser, RequestParser):
                return super().handle(conn)
            reader = self._reader(conn)
            state = self._collect_head(conn, reader)
        except OSError:
            return False
        if state == "wait":
            return _DEFER
        if state == "late":
            self.handle_error(None, conn.sock, conn.client, ReadTimeout())
            return False
        if state == "too large":
            head = conn.oa_head
            conn.oa_head = bytearray()
            exc: Exception = (
                LimitRequestLine(len(head), MAX_HEAD)
                if head.find(b"\r\n", 2) < 0
                else LimitRequestHeaders(f"the request head is larger than {MAX_HEAD} bytes")
            )
            self.handle_error(None, conn.sock, conn.client, exc)
            return False
        reader.deadline = time.monotonic() + self.client_timeout
        return super().handle(conn)

    def _reader(self, conn: Any) -> _Reader:
        """The connection's bounded reader (gunicorn's own, replaced on first use)."""
        reader = conn.parser.unreader
        if not isinstance(reader, _Reader):
            reader = _Reader(conn.sock, self.client_timeout, self.write_timeout)
            reader.unread(conn.parser.unreader.take_buffered())
            conn.parser.unreader = reader
            conn.oa_head = bytearray()
            conn.oa_scanned = 0
            conn.oa_started = None
        return reader

    def _collect_head(self, conn: Any, reader: _Reader) -> str:
        """Read what has arrived of the next request head, without waiting for more.

        "ready" when a thread can parse it (then it is back in the reader), "wait" when the
        poller should wait for more, "late" or "too large" when it is refused.
        """
        head: bytearray = conn.oa_head
        if not head:
            # What the client sent after its previous request begins this one.
            head += reader.take_buffered()
            conn.oa_scanned = 0
        start = conn.oa_scanned
        eof = complete = False
        conn.sock.setblocking(False)
        try:
            while not (complete := _head_complete(head, start)) and len(head) <= MAX_HEAD:
                try:
                    data = conn.sock.recv(65536)
                except BlockingIOError:
                    break
                if not data:
                    eof = True
                    break
                start = len(head)
                head += data
        finally:
            conn.sock.setblocking(True)
        head_end = head.find(b"\r\n\r\n")  # -1 when a bare LF completed it
        if complete and head_end + 4 > MAX_HEAD:
            return "too large"
        if complete or eof:
            reader.unread(bytes(head))
            conn.oa_head = bytearray()
            conn.oa_started = None
            return "ready"
        conn.oa_scanned = len(head)
        if len(head) > MAX_HEAD:
            return "too large"
        now = time.monotonic()
        if head and conn.oa_started is None:
            conn.oa_started = now
        if head and now - conn.oa_started > self.client_timeout:
            return "late"
        return "wait"

    def handle_request(self, req: Any, conn: Any) -> Any:
        reader = conn.parser.unreader
        conn.sock.settimeout(self.write_timeout)
        if isinstance(reader, _Reader):
            reader.deadline = time.monotonic() + 3 * self.client_timeout
        try:
            return super().handle_request(req, conn)
        finally:
            if isinstance(reader, _Reader):
                reader.deadline = None

    # Errors gunicorn answers itself: the same problem documents as the app's.

    def handle_error(self, req: Any, client: Any, addr: Any, exc: BaseException) -> None:
        if isinstance(exc, RequestTimeout):
            self.log.info("Request from %s not received in time", (addr or ("",))[0])
            answer = problem_answer(408, "Request Timeout", ReadTimeout.description)
        else:
            page = _ErrorPage()
            # gunicorn's own choice of status, its log lines and access log entry.
            super().handle_error(req, page, addr, exc)
            status, reason, message = page.parts()
            if status == 500:
                message = "The server failed to handle this request."
            answer = problem_answer(status, reason, message or reason)
        try:
            util.write_nonblock(client, answer)
        except Exception:  # the client may be gone already
            self.log.debug("Failed to send error message.")

    # Closing: gently, without blocking the worker's main loop.

    def finish_request(self, conn: Any, fs: Any) -> None:
        try:
            result = False if fs.cancelled() else fs.result()
        except Exception:  # as in gunicorn: the connection just closes
            result = False
        if result:
            super().finish_request(conn, fs)
            return
        self.nr_conns -= 1
        self._linger(conn.sock)

    def _linger(self, sock: socket.socket) -> None:
        """Send FIN now, then drop what the client still sends until it closes or time is up.

        Closing at once while its data is unread would make the kernel send a reset, which
        can destroy the end of the answer before the client reads it.
        """
        try:
            sock.shutdown(socket.SHUT_WR)
            sock.setblocking(False)
            self.poller.register(sock, selectors.EVENT_READ, partial(self._drain, sock))
        except (OSError, ValueError, KeyError):
            util.close(sock)
            return
        self.lingering[sock] = [time.monotonic() + LINGER_SECONDS, 0]

    def _drain(self, sock: socket.socket, _fileobj: Any) -> None:
        state = self.lingering.get(sock)
        try:
            data = sock.recv(65536)
        except (BlockingIOError, InterruptedError):
            return
        except OSError:
            data = b""
        if data and state is not None and state[1] + len(data) < LINGER_BYTES:
            state[1] += len(data)
            return
        self._close_lingering(sock)

    def _close_lingering(self, sock: socket.socket) -> None:
        self.lingering.pop(sock, None)
        with contextlib.suppress(OSError, KeyError, ValueError):
            self.poller.unregister(sock)
        util.close(sock)

    def murder_pending(self) -> None:
        super().murder_pending()
        now = time.monotonic()
        while self.lingering:
            sock, (deadline, _drained) = next(iter(self.lingering.items()))
            if deadline > now:
                break
            self._close_lingering(sock)
