"""Clients for live tests: persistent HTTP connections, one per thread, and tree checks."""

from __future__ import annotations

import http.client
import json
import threading
from collections.abc import Iterable
from typing import Any

from .liveserver import HOST

# Failures of a kept-alive connection that the server closed while it was idle: the request
# never reached the application, so sending it again on a new connection is safe.
STALE_CONNECTION = (http.client.RemoteDisconnected, ConnectionResetError, BrokenPipeError)


class Client:
    """HTTP/1.1 to one port, on a persistent connection of the calling thread."""

    def __init__(self, port: int, headers: dict[str, str] | None = None, timeout: float = 60):
        self.port = port
        self.headers = dict(headers or {})
        self.timeout = timeout
        self._local = threading.local()

    def _connection(self) -> tuple[http.client.HTTPConnection, bool]:
        conn = getattr(self._local, "conn", None)
        if conn is None:
            conn = http.client.HTTPConnection(HOST, self.port, timeout=self.timeout)
            self._local.conn = conn
            self._local.used = False
        return conn, bool(self._local.used)

    def close(self) -> None:
        """Close the calling thread's connection."""
        conn = getattr(self._local, "conn", None)
        if conn is not None:
            conn.close()
            self._local.conn = None

    def request(
        self, method: str, path: str, body: Any = None, headers: dict[str, str] | None = None
    ) -> tuple[int, dict[str, str], bytes]:
        """One request with a JSON body if given: status, lower-cased headers, body."""
        data = None if body is None else json.dumps(body).encode()
        hdrs = {**self.headers, **(headers or {})}
        if data is not None:
            hdrs["Content-Type"] = "application/json"
        for attempt in (1, 2):
            conn, reused = self._connection()
            try:
                conn.request(method, path, body=data, headers=hdrs)
                resp = conn.getresponse()
                payload = resp.read()
            except STALE_CONNECTION:
                self.close()
                if reused and attempt == 1:
                    continue
                raise
            except BaseException:
                self.close()
                raise
            self._local.used = True
            if resp.getheader("Connection", "").lower() == "close":
                self.close()
            return resp.status, {k.lower(): v for k, v in resp.getheaders()}, payload
        raise AssertionError("unreachable")

    def json(
        self, method: str, path: str, body: Any = None, headers: dict[str, str] | None = None
    ) -> tuple[int, Any]:
        """A request whose answer is JSON (or empty): status and decoded body."""
        status, _, payload = self.request(method, path, body, headers)
        return status, (json.loads(payload) if payload else None)


def parents(client: Client) -> dict[int, int | None]:
    """Every live goal of the client's user and its parent, from the flat list."""
    found: dict[int, int | None] = {}
    offset = 0
    while True:
        status, page = client.json("GET", f"/api/v2/goals?limit=500&offset={offset}")
        assert status == 200, page
        found.update((g["id"], g["parent_id"]) for g in page["items"])
        offset += len(page["items"])
        if offset >= page["total"] or not page["items"]:
            return found


def find_cycle(parent_of: dict[int, int | None]) -> list[int] | None:
    """A chain of goals that leads back to itself following parent links, or None."""
    done: set[int] = set()
    for start in parent_of:
        chain: list[int] = []
        seen: set[int] = set()
        node: int | None = start
        while node is not None and node not in done:
            if node in seen:
                return chain[chain.index(node) :]
            seen.add(node)
            chain.append(node)
            node = parent_of.get(node)
        done.update(chain)
    return None


def assert_forest_intact(
    client: Client, expected: Iterable[int] | None = None
) -> dict[int, int | None]:
    """No cycle among the user's goals, and the tree read shows every one of them.

    Returns each goal's parent."""
    parent_of = parents(client)
    assert find_cycle(parent_of) is None, parent_of
    status, tree = client.json("GET", "/api/v2/goals/tree?format=flat")
    assert status == 200, tree
    assert sorted(item["id"] for item in tree["items"]) == sorted(parent_of)
    if expected is not None:
        assert sorted(parent_of) == sorted(expected)
    return parent_of
