"""The framework floor: a minimal Flask view returning a small JSON object, under the very
gunicorn settings `overachiever serve` uses (run as `python -m bench.floor_app --port P`)."""

from __future__ import annotations

import argparse
from collections.abc import Callable

from flask import Flask


def make_app() -> Flask:
    """A Flask app with one tiny JSON view, on every path the benchmarks call."""
    app = Flask("floor")

    @app.get("/healthz")
    @app.get("/api/v2/goals/<int:goal_id>")
    def goal(goal_id: int = 0) -> dict[str, object]:
        return {"id": goal_id, "name": "floor", "progress": 0.0}

    @app.post("/api/v2/goals")
    def create() -> tuple[dict[str, object], int]:
        return {"id": 1, "name": "floor"}, 201

    return app


def serve(make: Callable[[], Flask]) -> None:
    """Serve the app `make` builds with overachiever.server's gunicorn settings (--port P)."""
    parser = argparse.ArgumentParser()
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--workers", type=int, default=2)
    args = parser.parse_args()

    from overachiever import server

    # Same options as `overachiever serve` (server.serve builds them); only the app differs.
    server.Server.load = lambda self: make()  # type: ignore[method-assign]
    server.serve(args.host, args.port, args.workers)


if __name__ == "__main__":
    serve(make_app)
