"""Liveness and readiness probes."""

from __future__ import annotations

import logging
from typing import Any

from apiflask import APIBlueprint
from sqlalchemy import text
from sqlalchemy.exc import SQLAlchemyError

from ..core.db import db
from ..core.validation import Out
from ..web.problems import problem

bp = APIBlueprint("health", __name__, tag="Health")
log = logging.getLogger(__name__)


class Status(Out):
    """The answer of a probe that passed."""

    status: str


@bp.get("/healthz")
@bp.output(Status, description="The process is up")
@bp.doc(summary="Liveness: the process is up")
def healthz() -> dict[str, str]:
    """Always ok while the process answers."""
    return {"status": "ok"}


@bp.get("/readyz")
@bp.output(Status, description="The database answers")
@bp.doc(summary="Readiness: the database answers", responses={503: "Database unreachable"})
def readyz() -> Any:
    """Ok when the database answers a query, 503 otherwise."""
    try:
        db.session.execute(text("SELECT 1"))
        db.session.rollback()
    except SQLAlchemyError as exc:
        log.warning("readiness check failed: %s", exc)
        return problem(503, "Service unavailable", "the database is unreachable")
    return {"status": "ok"}
