"""The burn-up endpoints: a goal's, and the whole forest's."""

from __future__ import annotations

from typing import Any

from apiflask import APIBlueprint

from ..web.auth import current_user, token_auth
from . import service
from .schemas import Burnup, BurnupQuery

bp = APIBlueprint("progress", __name__, url_prefix="/api/v2", tag="Progress")

_INVALID = (
    "Validation error: a bucket other than day or week, an instant that is not RFC 3339,"
    " from after to, or a span of more than 5000 buckets"
)


@bp.get("/goals/burnup")
@bp.auth_required(token_auth)
@bp.input(BurnupQuery, location="query", arg_name="query")
@bp.output(Burnup)
@bp.doc(summary="Burn-up of your whole forest", responses={422: _INVALID})
def forest_burnup(query: BurnupQuery) -> dict[str, Any]:
    """Leaves started and done at the end of each bucket over your whole live forest, and a
    forecast of when all will be done."""
    return service.forest_burnup(
        owner=current_user(), bucket=query.bucket, start=query.from_, end=query.to
    ).as_dict()


@bp.get("/goals/<id:goal_id>/burnup")
@bp.auth_required(token_auth)
@bp.input(BurnupQuery, location="query", arg_name="query")
@bp.output(Burnup)
@bp.doc(
    summary="Burn-up of a goal",
    responses={404: "No such live goal of yours", 422: _INVALID},
)
def goal_burnup(goal_id: int, query: BurnupQuery) -> dict[str, Any]:
    """Leaves of the goal's live subtree started and done at the end of each bucket, and a
    forecast of when all will be done."""
    return service.goal_burnup(
        caller=current_user(), goal_id=goal_id, bucket=query.bucket, start=query.from_, end=query.to
    ).as_dict()
