"""The sharing endpoints: a goal's shares (/api/v2/goals/{id}/shares) and /api/v2/shared."""

from __future__ import annotations

from typing import Any

from apiflask import APIBlueprint
from flask import Response

from ..web.auth import current_user, token_auth
from ..web.jsonio import no_content
from ..web.limits import share_limits
from . import service
from .schemas import ShareCreate, SharedList, ShareList, ShareOut

bp = APIBlueprint("sharing", __name__, url_prefix="/api/v2", tag="Sharing")

_OWNER_ONLY = {
    403: "The goal is shared with you: only its owner may do this",
    404: "No such goal of yours",
}


@bp.post("/goals/<id:goal_id>/shares")
@bp.auth_required(token_auth)
@share_limits
@bp.input(ShareCreate, arg_name="body")
@bp.output(ShareOut, status_code=201, description="The new share")
@bp.doc(
    summary="Share a goal",
    responses={
        200: "The user had a share of this goal already: its role is now the one sent",
        **_OWNER_ONLY,
        422: "Validation error, no such user, or the user is you",
        429: "Too many shares made (OVERACHIEVER_SHARE_LIMIT)",
    },
)
def share_goal(goal_id: int, body: ShareCreate) -> tuple[dict[str, Any], int]:
    """Share one of your goals and its whole subtree, now and later, as viewer or editor."""
    share, created = service.share_goal(
        caller=current_user(), goal_id=goal_id, login=body.user, role=body.role
    )
    return ShareOut.model_validate(share).model_dump(mode="json"), 201 if created else 200


@bp.get("/goals/<id:goal_id>/shares")
@bp.auth_required(token_auth)
@bp.output(ShareList)
@bp.doc(summary="List a goal's shares", responses=_OWNER_ONLY)
def list_shares(goal_id: int) -> dict[str, Any]:
    """Who one of your goals is shared with, and as what."""
    return {"items": service.list_shares(caller=current_user(), goal_id=goal_id)}


@bp.delete("/goals/<id:goal_id>/shares/<id:share_id>")
@bp.auth_required(token_auth)
@bp.output({}, status_code=204)
@bp.doc(
    summary="Revoke or leave a share",
    responses={404: "No such share of this goal that is yours to end"},
)
def revoke_share(goal_id: int, share_id: int) -> Response:
    """The owner revokes a share, or its recipient leaves it."""
    service.revoke(caller=current_user(), goal_id=goal_id, share_id=share_id)
    return no_content()


@bp.get("/shared")
@bp.auth_required(token_auth)
@bp.output(SharedList)
@bp.doc(summary="Goals shared with you")
def shared_with_me() -> dict[str, Any]:
    """The goals others shared with you, with your role and their owner."""
    return {"items": service.shared_with(caller=current_user())}
