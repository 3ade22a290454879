"""Where a single read's time goes: the app's own SQL in a bare Flask view, without the app.

Served like the floor app (`python -m bench.ceiling_app --port P`, same gunicorn settings) on
the benchmark's database (DATABASE_URL). Its two views answer GET /api/v2/goals/{id} for the
bearer token sent, with none of the app's layers: no ORM session, no Flask-HTTPAuth, no
APIFlask, no request hooks. They are rungs between the floor and the app, not a second API:
- `/statements/{id}`: the app's two statements (the token look-up, then the goal with its
  roll-ups) on a pooled connection, answered with the app's JSON (its pydantic schema) and ETag;
- `/row/{id}`: one indexed statement (the goal row, its owner found by the token's digest in
  the same statement), no roll-ups: what any database-backed read costs at least.

And POST /api/v2/goals for a top-level goal named in the JSON body:
- `POST /statements`: the app's statements of a write (the token look-up; then the
  operation, the INSERT and the event that records it, alone in the writer queue on SQLite,
  after the owner's row lock in a transaction on PostgreSQL), answered with the app's JSON;
- `POST /row`: one INSERT in its own durable transaction, the owner found by the token's
  digest in the same statement: what any durable write costs at least.
"""

from __future__ import annotations

import os
from typing import Any

from flask import Flask, request
from sqlalchemy import bindparam, create_engine, insert, select
from sqlalchemy.exc import IntegrityError

from overachiever.config import Config, pool_options
from overachiever.core.db import configure_engine, transaction_mode
from overachiever.core.types import utcnow
from overachiever.core.writer_queue import writer_turn
from overachiever.goals.models import Goal
from overachiever.goals.queries import GOAL, INSERT, stats_of
from overachiever.goals.results import GoalResult
from overachiever.goals.rules import new_goal_row
from overachiever.goals.schemas import GoalCreate, GoalOut
from overachiever.goals.tree import Stats
from overachiever.history.models import Operation
from overachiever.history.recording import RECORD_EVENTS
from overachiever.tokens.models import Token
from overachiever.tokens.service import BY_DIGEST, digest
from overachiever.users.locks import OWNER_FOR_UPDATE
from overachiever.web.jsonio import OrjsonProvider

from .floor_app import serve

_OWNER_BY_DIGEST = select(Token.user_id).where(Token.digest == bindparam("digest"))
_ROW = select(*Goal.__table__.c).where(
    Goal.id == bindparam("goal_id"),
    Goal.owner_id == _OWNER_BY_DIGEST.scalar_subquery(),
    Goal.deleted_at.is_(None),
)

# One top-level goal, its owner found by the token's digest in the same statement.
_INSERT_ROW = (
    insert(Goal)
    .values(owner_id=_OWNER_BY_DIGEST.scalar_subquery(), position=0)
    .returning(*Goal.__table__.c)
)

# The operation a create is recorded under (history.recording.begin, on this connection).
_OPERATION = (
    insert(Operation)
    .values(
        owner_id=bindparam("owner_id"),
        actor_id=bindparam("owner_id"),
        kind="create",
        at=bindparam("at"),
    )
    .returning(Operation.id)
)

# The goal's own fields of the app's answer (all but the roll-ups).
_OWN_FIELDS = tuple(name for name in GoalOut.model_fields if name in Goal.__table__.c)


def make_app() -> Flask:
    """A bare Flask app answering single goal reads with the app's SQL."""
    app = Flask("ceiling")
    app.json = OrjsonProvider(app)
    engine = create_engine(os.environ["DATABASE_URL"], **pool_options(1))
    configure_engine(engine, Config.SQLITE_BUSY_TIMEOUT_MS)

    def secret() -> str:
        return request.headers.get("Authorization", "").removeprefix("Bearer ")

    @app.get("/healthz")
    def healthz() -> dict[str, str]:
        return {"status": "ok"}

    @app.get("/statements/<int:goal_id>")
    def statements(goal_id: int) -> Any:
        with engine.connect() as conn:
            user = conn.execute(BY_DIGEST, {"digest": digest(secret())}).first()
            if user is None:
                return {"title": "Unauthorized"}, 401
            row = conn.execute(GOAL.on(conn), {"goal_id": goal_id, "owner_id": user.id}).first()
        if row is None:
            return {"title": "Not Found"}, 404
        result = GoalResult(row, stats_of(row))
        body = GoalOut.model_validate(result.as_dict()).model_dump(mode="json")
        return body, 200, {"ETag": f'"{result.etag}"'}

    @app.get("/row/<int:goal_id>")
    def row(goal_id: int) -> Any:
        with engine.connect() as conn:
            found = conn.execute(_ROW, {"goal_id": goal_id, "digest": digest(secret())}).first()
        if found is None:
            return {"title": "Not Found"}, 404
        return {key: getattr(found, key) for key in _OWN_FIELDS}, 200

    @app.post("/statements")
    def create() -> Any:
        name = request.get_json()["name"]
        now = utcnow()
        with engine.connect() as conn:
            user = conn.execute(BY_DIGEST, {"digest": digest(secret())}).first()
            if user is None:
                return {"title": "Unauthorized"}, 401
            conn.commit()  # the look-up ran statement by statement, as the app's does
            # Unvalidated: this rung measures the app's statements, not its request schema.
            goal_in = GoalCreate.model_construct(name=name)
            insert_goal = INSERT[True, True]

            def write() -> Any:
                # As the app: an operation, the goal marked with it, its event copied from it.
                stamp = {"owner_id": user.id, "at": now}
                op_id = conn.execute(_OPERATION, stamp).scalar_one()
                row = new_goal_row(
                    user.id, goal_in, now, parent_id=None, position=None, operation_id=op_id
                )
                goal = conn.execute(insert_goal, row).one()
                conn.execute(RECORD_EVENTS, {"op_id": op_id, "at": now})
                return goal

            if conn.dialect.name == "postgresql":
                # As the app: the owner's row locked, then the writes, in one transaction.
                with transaction_mode("write"), conn.begin():
                    conn.execute(OWNER_FOR_UPDATE, {"owner_id": user.id}).one()
                    goal = write()
            else:
                # As the app: in the writer queue, the writes alone, a transaction of its own.
                with writer_turn(engine), conn.begin():
                    goal = write()
        result = GoalResult(goal, Stats())
        body = GoalOut.model_validate(result.as_dict()).model_dump(mode="json")
        return body, 201, {"ETag": f'"{result.etag}"'}

    @app.post("/row")
    def create_row() -> Any:
        now = utcnow()
        row = {"name": request.get_json()["name"], "description": "", "version": 1}
        row.update(start=now, created_at=now, updated_at=now, digest=digest(secret()))
        try:
            # On SQLite, in the app's writer queue: PostgreSQL has lock queues of its own.
            with writer_turn(engine), engine.connect() as conn, conn.begin():
                goal = conn.execute(_INSERT_ROW, row).one()
        except IntegrityError:  # no owner: the token is unknown
            return {"title": "Unauthorized"}, 401
        return {key: getattr(goal, key) for key in _OWN_FIELDS}, 201

    return app


if __name__ == "__main__":
    serve(make_app)
