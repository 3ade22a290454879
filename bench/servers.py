"""Processes the benchmarks drive: `overachiever serve`, the floor app, and wrk."""

from __future__ import annotations

import http.client
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

HOST = "127.0.0.1"


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind((HOST, 0))
        return int(s.getsockname()[1])


def code_root() -> Path:
    """The folder holding the `overachiever` package the benchmark imported."""
    import overachiever

    return Path(overachiever.__file__).resolve().parents[1]


@dataclass
class Process:
    """A server started by the benchmark, with its log file."""

    proc: subprocess.Popen[bytes]
    port: int
    log: Path

    @property
    def base(self) -> str:
        """The server's base URL."""
        return f"http://{HOST}:{self.port}"

    def workers(self) -> list[int]:
        """The gunicorn worker processes (children of the master)."""
        kids = []
        for entry in Path("/proc").iterdir():
            if not entry.name.isdigit():
                continue
            try:
                stat = (entry / "stat").read_text()
            except OSError:
                continue
            # The command name is in parentheses and may hold spaces: the ppid follows it.
            ppid = int(stat.rsplit(")", 1)[1].split()[1])
            if ppid == self.proc.pid:
                kids.append(int(entry.name))
        return kids

    def peak_rss_mb(self) -> float:
        """The largest peak resident set (VmHWM) of any worker, in MB."""
        peaks = [0]
        for pid in self.workers():
            try:
                status = Path(f"/proc/{pid}/status").read_text()
            except OSError:
                continue
            match = re.search(r"^VmHWM:\s+(\d+) kB", status, re.MULTILINE)
            if match:
                peaks.append(int(match.group(1)))
        return max(peaks) / 1024

    def log_text(self) -> str:
        """Everything the server wrote so far."""
        return self.log.read_text(errors="replace")

    def stop(self) -> None:
        """Stop gunicorn gracefully, then for good if it lingers."""
        if self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGTERM)
            try:
                self.proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait()


def _start(args: list[str], env: dict[str, str], log: Path, root: Path | None = None) -> Process:
    port = free_port()
    root = root or code_root()
    full_env = {
        **os.environ,
        **env,
        "PYTHONPATH": str(root),
        "OVERACHIEVER_LOGIN_LIMIT": "100000/minute",
        # Far above what the write runs add, yet counted on every create, as in production.
        "OVERACHIEVER_MAX_GOALS": "10000000",
        "OVERACHIEVER_IMPORT_LIMIT": "100000/minute",
        "OVERACHIEVER_SIGNUP_LIMIT": "100000/minute",
    }
    with log.open("ab") as out:
        proc = subprocess.Popen(  # noqa: S603  (our own interpreter and arguments)
            [*args, "--host", HOST, "--port", str(port), "--workers", "2"],
            env=full_env,
            cwd=root,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # its own process group, stopped as one
        )
    server = Process(proc, port, log)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"server exited with {proc.returncode}:\n{server.log_text()}")
        try:
            status, _ = get(server.base + "/healthz")
            if status == 200 and len(server.workers()) == 2:
                return server
        except OSError:
            pass
        time.sleep(0.1)
    server.stop()
    raise RuntimeError(f"server did not start:\n{server.log_text()}")


def start_app(
    database_url: str, log: Path, root: Path | None = None, env: dict[str, str] | None = None
) -> Process:
    """`overachiever serve --workers 2` on a free port (it applies migrations first).

    root: a checkout of other code to serve instead of this one (a baseline); env: more
    settings.
    """
    return _start(
        [sys.executable, "-m", "overachiever.cli", "serve"],
        {"DATABASE_URL": database_url, **(env or {})},
        log,
        root,
    )


def start_floor(log: Path) -> Process:
    """The minimal Flask app under the same gunicorn settings."""
    return _start([sys.executable, "-m", "bench.floor_app"], {}, log)


def start_ceiling(database_url: str, log: Path) -> Process:
    """The app's own SQL in bare Flask views (bench.ceiling_app), same gunicorn settings."""
    return _start([sys.executable, "-m", "bench.ceiling_app"], {"DATABASE_URL": database_url}, log)


def get(url: str, headers: dict[str, str] | None = None) -> tuple[int, bytes]:
    """GET a URL over a fresh connection; (status, body)."""
    match = re.match(r"http://([^:/]+):(\d+)(.*)", url)
    assert match, url
    conn = http.client.HTTPConnection(match.group(1), int(match.group(2)), timeout=600)
    try:
        conn.request("GET", match.group(3) or "/", headers=headers or {})
        response = conn.getresponse()
        return response.status, response.read()
    finally:
        conn.close()


def post(url: str, body: dict[str, object], headers: dict[str, str]) -> tuple[int, bytes]:
    """POST a JSON body over a fresh connection; (status, body)."""
    match = re.match(r"http://([^:/]+):(\d+)(.*)", url)
    assert match, url
    conn = http.client.HTTPConnection(match.group(1), int(match.group(2)), timeout=600)
    try:
        sent = {**headers, "Content-Type": "application/json"}
        conn.request("POST", match.group(3) or "/", body=json.dumps(body), headers=sent)
        response = conn.getresponse()
        return response.status, response.read()
    finally:
        conn.close()


def timed_get(url: str, headers: dict[str, str]) -> tuple[float, int]:
    """Seconds from sending a GET to the last byte of a 200 response, and the body's size."""
    started = time.perf_counter()
    status, body = get(url, headers)
    elapsed = time.perf_counter() - started
    if status != 200:
        raise RuntimeError(f"GET {url} gave {status}: {body[:300]!r}")
    return elapsed, len(body)


WRK_POST = """
local counter = 0
local prefix = tostring(math.random(1, 1e9))
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
request = function()
    counter = counter + 1
    return wrk.format(nil, nil, nil, '{"name": "w-' .. prefix .. '-' .. counter .. '"}')
end
"""


# The same, each request with an Idempotency-Key of its own.
WRK_POST_KEYED = """
local counter = 0
local prefix = tostring(math.random(1, 1e9))
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
request = function()
    counter = counter + 1
    local headers = {}
    for name, value in pairs(wrk.headers) do headers[name] = value end
    headers["Idempotency-Key"] = prefix .. "-" .. counter
    return wrk.format(nil, nil, headers, '{"name": "k-' .. prefix .. '-' .. counter .. '"}')
end
"""


@dataclass
class WrkResult:
    """Requests per second, and how many responses were errors."""

    rps: float
    requests: int
    errors: int


def wrk(url: str, seconds: float, headers: dict[str, str], script: Path | None = None) -> WrkResult:
    """Load one URL with wrk (1 thread, 4 connections) and parse its summary."""
    exe = shutil.which("wrk")
    if exe is None:
        raise RuntimeError("wrk is not installed (Debian: apt-get install wrk)")
    args = [exe, "-t1", "-c4", f"-d{max(1, round(seconds))}s"]
    for name, value in headers.items():
        args += ["-H", f"{name}: {value}"]
    if script is not None:
        args += ["-s", str(script)]
    out = subprocess.run(  # noqa: S603  (wrk, with arguments made here)
        [*args, url], capture_output=True, text=True, check=True
    ).stdout
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))  # type: ignore[union-attr]
    total = int(re.search(r"(\d+) requests in", out).group(1))  # type: ignore[union-attr]
    errors = 0
    if m := re.search(r"Non-2xx or 3xx responses: (\d+)", out):
        errors += int(m.group(1))
    if m := re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", out):
        # gunicorn's sync workers close every connection, which wrk may count as read errors.
        errors += int(m.group(1)) + int(m.group(4))
    return WrkResult(rps, total, errors)


def median(values: list[float]) -> float:
    """The median of some measurements."""
    ordered = sorted(values)
    mid = len(ordered) // 2
    return ordered[mid] if len(ordered) % 2 else (ordered[mid - 1] + ordered[mid]) / 2
