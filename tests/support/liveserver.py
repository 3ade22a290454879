"""Live servers for tests: a real `overachiever serve` (gunicorn) on 127.0.0.1, and its database.

A live server gets its own database: an SQLite file in its folder, or, when the suite runs on
PostgreSQL (OVERACHIEVER_TEST_DATABASE_URL), a fresh PostgreSQL database of its own that
`LiveDatabases.drop_all()` drops at the end.
"""

from __future__ import annotations

import contextlib
import http.client
import itertools
import json
import os
import signal
import socket
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from .accounts import basic
from .database import TEST_DB_ENV, admin_connection, on_postgresql

HOST = "127.0.0.1"
START_TIMEOUT = 30.0
_counter = itertools.count()


def overachiever_command() -> list[str]:
    """How to start the installed console script (next to this Python, else via -m)."""
    script = Path(sys.executable).with_name("overachiever")
    if script.exists():
        return [str(script)]
    return [sys.executable, "-m", "overachiever.cli"]


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind((HOST, 0))
        return int(s.getsockname()[1])


@dataclass
class LiveDatabases:
    """Databases made for live servers in one test (or module), dropped by drop_all()."""

    made: list[str] = field(default_factory=list)

    def new_url(self, folder: Path) -> str:
        """A fresh, empty database: SQLite in `folder`, or a new PostgreSQL database."""
        if not on_postgresql():
            folder.mkdir(parents=True, exist_ok=True)
            return f"sqlite:///{folder / 'served.db'}"
        from sqlalchemy.engine import make_url

        url = make_url(os.environ[TEST_DB_ENV])
        name = f"{url.database}_live{os.getpid()}_{next(_counter)}"
        with admin_connection(url) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
            conn.execute(f'CREATE DATABASE "{name}"')
        self.made.append(name)
        return url.set(database=name).render_as_string(hide_password=False)

    def drop_all(self) -> None:
        """Drop every PostgreSQL database this object made."""
        if not self.made:
            return
        from sqlalchemy.engine import make_url

        url = make_url(os.environ[TEST_DB_ENV])
        with admin_connection(url) as conn:
            for name in self.made:
                conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        self.made.clear()


@dataclass
class Server:
    """A running `overachiever serve` and where its output goes."""

    proc: subprocess.Popen[bytes]
    port: int
    database_url: str
    home: Path
    stdout: Path
    stderr: Path

    @property
    def base_url(self) -> str:
        return f"http://{HOST}:{self.port}"

    @property
    def db_path(self) -> Path:
        """The SQLite file (only for SQLite servers)."""
        assert self.database_url.startswith("sqlite:///")
        return Path(self.database_url.removeprefix("sqlite:///"))

    def logs(self) -> str:
        return self.stdout.read_text(errors="replace") + self.stderr.read_text(errors="replace")

    def request(
        self,
        method: str,
        path: str,
        body: Any = None,
        headers: dict[str, str] | None = None,
        conn: http.client.HTTPConnection | None = None,
        timeout: float = 30,
    ) -> tuple[int, dict[str, str], bytes]:
        """One request (JSON body if given); returns status, lower-cased headers and body."""
        own = conn is None
        conn = conn or http.client.HTTPConnection(HOST, self.port, timeout=timeout)
        try:
            data = None if body is None else json.dumps(body).encode()
            hdrs = dict(headers or {})
            if data is not None:
                hdrs["Content-Type"] = "application/json"
            conn.request(method, path, body=data, headers=hdrs)
            resp = conn.getresponse()
            payload = resp.read()
            if resp.getheader("Connection", "").lower() == "close":
                conn.close()
            return resp.status, {k.lower(): v for k, v in resp.getheaders()}, payload
        finally:
            if own:
                conn.close()

    def json(self, method: str, path: str, body: Any = None, **kw: Any) -> tuple[int, Any]:
        """A request whose answer is JSON (or empty): status and decoded body."""
        status, _, payload = self.request(method, path, body, **kw)
        return status, (json.loads(payload) if payload else None)

    def signup(self, name: str, password: str = "live-server-pass") -> dict[str, str]:
        """Sign up `name` and return Bearer headers for a fresh token."""
        status, body = self.json(
            "POST",
            "/api/v2/users",
            {"name": name, "email": f"{name}@example.com", "password": password},
        )
        assert status == 201, body
        status, body = self.json("POST", "/api/v2/tokens", headers=basic(name, password))
        assert status == 201, body
        return {"Authorization": f"Bearer {body['token']}"}

    def stop(self) -> None:
        """Stop the server (gunicorn's quick shutdown, then its whole group if it lingers)."""
        if self.proc.poll() is not None:
            return
        self.proc.send_signal(signal.SIGINT)
        try:
            self.proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            self.kill()

    def kill(self) -> None:
        """SIGKILL the master and its workers at once (a crash, not a shutdown)."""
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.proc.pid, signal.SIGKILL)
        self.proc.wait(timeout=10)


def start_server(
    folder: Path,
    database_url: str,
    *,
    args: list[str] | None = None,
    env: dict[str, str] | None = None,
    port: int | None = None,
) -> Server:
    """Start `overachiever serve --host 127.0.0.1 ARGS` on `database_url`; wait for /healthz.

    The port is `port`, else `--port` in args, else $PORT in env, else a free one.
    """
    args = list(args or [])
    folder.mkdir(parents=True, exist_ok=True)
    home = folder / "home"
    home.mkdir(exist_ok=True)
    child_env = {
        k: v
        for k, v in os.environ.items()
        if k not in ("PORT", "XDG_RUNTIME_DIR", "OVERACHIEVER_SIGNUP")
    }
    child_env.update(
        {
            "DATABASE_URL": database_url,
            "OVERACHIEVER_INSTANCE_PATH": str(folder / "instance"),
            "HOME": str(home),
            "LOG_LEVEL": "INFO",
            # Generous, as in TestConfig: tests that sign many accounts up from one address.
            "OVERACHIEVER_SIGNUP_LIMIT": "100000/minute",
            **(env or {}),
        }
    )
    if "--port" in args:
        port = int(args[args.index("--port") + 1])
    elif port is None and "PORT" in child_env:
        port = int(child_env["PORT"])
    if port is None:
        port = free_port()
    if "--port" not in args and "PORT" not in child_env:
        args += ["--port", str(port)]
    out, err = folder / "stdout.log", folder / "stderr.log"
    with out.open("wb") as out_f, err.open("wb") as err_f:
        proc = subprocess.Popen(
            [*overachiever_command(), "serve", "--host", HOST, *args],
            stdout=out_f,
            stderr=err_f,
            stdin=subprocess.DEVNULL,
            env=child_env,
            cwd=folder,
            start_new_session=True,  # its own process group: gunicorn's workers go with it
        )
    server = Server(proc, port, database_url, home, out, err)
    deadline = time.monotonic() + START_TIMEOUT
    try:
        while True:
            if proc.poll() is not None:
                pytest.fail(
                    f"serve exited with {proc.returncode} before answering:\n{server.logs()}"
                )
            try:
                status, _, _ = server.request("GET", "/healthz", timeout=5)
                if status == 200:
                    return server
            except OSError:
                pass
            if time.monotonic() > deadline:
                pytest.fail(f"serve did not answer /healthz in {START_TIMEOUT}s:\n{server.logs()}")
            time.sleep(0.1)
    except BaseException:
        server.stop()
        raise


def require_executable(name: str) -> str:
    """The path of a program a live test needs: skipped without it, but a failure in CI."""
    import shutil

    found = shutil.which(name) or shutil.which(name, path="/usr/sbin:/sbin")
    if found:
        return found
    message = f"{name} is not installed (.ci/run installs it from Debian's packages)"
    if os.environ.get("OVERACHIEVER_REQUIRE_ALL"):
        pytest.fail(message)
    pytest.skip(message)
