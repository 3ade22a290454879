"""The production server: gunicorn running one app per worker process."""

from __future__ import annotations

import os
from typing import Any

from gunicorn.app.base import BaseApplication

from .config import Settings, pool_options


def default_workers() -> int:
    """gunicorn's rule of thumb, two per core plus one, capped at eight."""
    return min(2 * (os.cpu_count() or 1) + 1, 8)


class Server(BaseApplication):  # type: ignore[misc]  # gunicorn ships no types
    """gunicorn, configured from a dict instead of its command line."""

    def __init__(self, options: dict[str, Any]) -> None:
        self.options = options
        super().__init__()

    def load_config(self) -> None:
        """Apply our options to gunicorn's settings."""
        for key, value in self.options.items():
            self.cfg.set(key, value)
        if "control_socket_disable" in self.cfg.settings:
            # gunicorn >= 25.1 opens a control socket at one fixed path per user
            # (~/.gunicorn/gunicorn.ctl), which every instance on a machine would take over from
            # the others; it is not used here.
            self.cfg.set("control_socket_disable", True)

    def load(self) -> Any:
        """Build the app in each worker, so no database connection crosses a fork."""
        from . import create_app

        # Each worker has its own engine, its pool sized for the worker's threads.
        return create_app({"SQLALCHEMY_ENGINE_OPTIONS": pool_options(self.options["threads"])})


DEFAULT_THREADS = 2


def serve(host: str, port: int, workers: int, threads: int = DEFAULT_THREADS) -> None:
    """Run gunicorn in the foreground until it is stopped."""
    # Read once here: a bad value stops the start, not each worker.
    settings = Settings.from_env()
    Server(
        {
            "bind": f"{host}:{port}",
            "workers": workers,
            "threads": threads,
            # gunicorn's threaded worker, kept from waiting on slow clients (worker.py). Its
            # main loop never runs a request, so `timeout` only catches a worker that hangs.
            "worker_class": "overachiever.worker.Worker",
            # Request lines as long as gunicorn allows (the default is 4094 bytes).
            "limit_request_line": 8190,
            # How long a connection may stay silent between requests, or within a request head.
            "keepalive": 5,
            "accesslog": "-",
            "errorlog": "-",
            "loglevel": settings.log_level.lower(),
            "graceful_timeout": 20,
            "timeout": 60,
            "forwarded_allow_ips": settings.forwarded_allow_ips,
        }
    ).run()
