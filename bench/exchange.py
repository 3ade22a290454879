"""Cases for export and import (issue 21): memory of a million-goal export in each format, and
the import of a Markdown list against the JSON import of the same tree.

- Export: one owner with a 10-ary forest of `export_goals` goals (1 000 000), exported over
  HTTP in each of the five formats, one after the other, each download read and dropped as it
  arrives. The target is the server workers' peak resident set (VmHWM, the largest of the two
  workers) after each format: at most 300 MB.
- Import: a 10-ary forest of `import_goals` goals (100 000) as the JSON nodes and as a Markdown
  task list, each imported once into an empty account (`POST /api/v2/goals/import`); the target
  is the Markdown import taking at most twice the JSON import's time.
"""

from __future__ import annotations

import http.client
import json
import re
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .data import Database
from .report import Result
from .report import ms as _ms
from .servers import Process, start_app

FORMATS = ("json", "markdown", "opml", "csv", "ics")
MEMORY_TARGET_MB = 300
IMPORT_TARGET = 2.0
# The import bodies are far over the default 1 MiB body limit.
BIG_BODY = str(256 * 1024 * 1024)


@dataclass
class ExchangeShapes:
    """Sizes of the export and import cases."""

    export_goals: int
    import_goals: int

    @classmethod
    def make(cls, smoke: bool) -> ExchangeShapes:
        """The reported sizes, or tiny ones for the smoke run."""
        if smoke:
            return cls(5000, 1000)
        return cls(1_000_000, 100_000)


def _connection(url: str) -> tuple[http.client.HTTPConnection, str]:
    match = re.match(r"http://([^:/]+):(\d+)(.*)", url)
    assert match, url
    return http.client.HTTPConnection(match.group(1), int(match.group(2)), timeout=3600), (
        match.group(3) or "/"
    )


def download(url: str, headers: dict[str, str]) -> tuple[float, int]:
    """Seconds to the last byte of a 200 response read in chunks and dropped, and its size."""
    conn, path = _connection(url)
    started = time.perf_counter()
    try:
        conn.request("GET", path, headers=headers)
        response = conn.getresponse()
        size = 0
        while part := response.read(1 << 20):
            size += len(part)
        if response.status != 200:
            raise RuntimeError(f"GET {url} gave {response.status}")
    finally:
        conn.close()
    return time.perf_counter() - started, size


def upload(url: str, body: bytes, media_type: str, headers: dict[str, str]) -> float:
    """Seconds to a 201 answer of a POST of body."""
    conn, path = _connection(url)
    started = time.perf_counter()
    try:
        conn.request("POST", path, body=body, headers={**headers, "Content-Type": media_type})
        response = conn.getresponse()
        answer = response.read()
        if response.status != 201:
            raise RuntimeError(f"POST {url} gave {response.status}: {answer[:300]!r}")
    finally:
        conn.close()
    return time.perf_counter() - started


def import_documents(n: int, fanout: int = 10) -> tuple[bytes, bytes]:
    """A breadth-first numbered fanout-ary forest of n goals as JSON nodes and as Markdown."""
    nodes: list[dict[str, Any]] = []
    depth: list[int] = []
    kids: list[list[int]] = [[] for _ in range(n)]
    tops: list[int] = []
    for i in range(n):
        parent = i // fanout - 1 if i >= fanout else None
        nodes.append({"name": f"goal-{i}", "children": []})
        depth.append(0 if parent is None else depth[parent] + 1)
        (tops if parent is None else kids[parent]).append(i)
    for i in range(n):
        nodes[i]["children"] = [nodes[k] for k in kids[i]]
    as_json = json.dumps([nodes[i] for i in tops]).encode()
    lines: list[str] = []
    stack = list(reversed(tops))
    while stack:
        i = stack.pop()
        box = "[x]" if i % 3 == 2 else "[ ]"
        lines.append(f"{'  ' * depth[i]}- {box} goal-{i}\n")
        stack.extend(reversed(kids[i]))
    return as_json, "".join(lines).encode()


class Exchange:
    """Runs the export and import cases on one database, adding rows through `add`."""

    def __init__(
        self,
        kind: str,
        shapes: ExchangeShapes,
        add: Callable[[Result], None],
        folder: Path,
        postgres_url: str | None,
    ) -> None:
        self.kind = kind
        self.shapes = shapes
        self.add = add
        self.out = folder
        self.postgres_url = postgres_url

    def run(self) -> None:
        """The export case, then the import case, each on a database of its own."""
        self.export()
        self.imports()

    def export(self) -> None:
        """Peak RSS of the workers after exporting a million goals in each format."""
        n = self.shapes.export_goals
        folder = Path(tempfile.mkdtemp(prefix=f"{self.kind}-export-", dir=self.out))
        db = Database(self.kind, folder, self.postgres_url)
        app: Process | None = None
        try:
            user = db.migrate_and_add_users(["exporter"])["exporter"]
            db.add_forest(user, n)
            app = start_app(db.url, folder / "server.log")
            idle = app.peak_rss_mb()
            for fmt in FORMATS:
                elapsed, size = download(f"{app.base}/api/v2/export?format={fmt}", user.headers)
                peak = app.peak_rss_mb()
                self.add(
                    Result(
                        f"memory: export {fmt}",
                        self.kind,
                        n,
                        f"{peak:.0f} MB peak",
                        f"{idle:.0f} MB idle",
                        None,
                        f"≤ {MEMORY_TARGET_MB} MB",
                        peak <= MEMORY_TARGET_MB,
                    )
                )
                self.add(
                    Result(f"export {fmt}", self.kind, n, _ms(elapsed), f"{size / 1e6:.1f} MB body")
                )
        finally:
            if app is not None:
                app.stop()
            db.drop()

    def imports(self) -> None:
        """The Markdown import of a forest against the JSON import of the same forest."""
        n = self.shapes.import_goals
        as_json, as_markdown = import_documents(n)
        folder = Path(tempfile.mkdtemp(prefix=f"{self.kind}-import-", dir=self.out))
        db = Database(self.kind, folder, self.postgres_url)
        app: Process | None = None
        try:
            users = db.migrate_and_add_users(["json", "markdown"])
            app = start_app(db.url, folder / "server.log", env={"OVERACHIEVER_MAX_BODY": BIG_BODY})
            url = f"{app.base}/api/v2/goals/import"
            json_time = upload(url, as_json, "application/json", users["json"].headers)
            md_time = upload(url, as_markdown, "text/markdown", users["markdown"].headers)
        finally:
            if app is not None:
                app.stop()
            db.drop()
        self.add(
            Result(
                "import JSON nodes", self.kind, n, _ms(json_time), f"{len(as_json) / 1e6:.1f} MB"
            )
        )
        ratio = md_time / json_time
        self.add(
            Result(
                "import Markdown list",
                self.kind,
                n,
                _ms(md_time),
                _ms(json_time) + " JSON",
                ratio,
                f"≤ {IMPORT_TARGET:g}x",
                ratio <= IMPORT_TARGET,
            )
        )
