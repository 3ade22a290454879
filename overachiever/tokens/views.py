"""The /api/v2/tokens endpoints."""

from __future__ import annotations

from typing import Any

from apiflask import APIBlueprint
from flask import Response

from ..web.auth import basic_auth, basic_user, current_user, token_auth
from ..web.bodies import documented_body, parse_optional_body
from ..web.jsonio import no_content
from ..web.limits import login_account, password_check_limits
from . import service
from .schemas import TokenCreate, TokenCreated, TokenList

bp = APIBlueprint("tokens", __name__, url_prefix="/api/v2/tokens", tag="Tokens")


@bp.post("")
@password_check_limits(login_account)
@bp.auth_required(basic_auth)
@documented_body(bp, TokenCreate)
@bp.output(TokenCreated, status_code=201, description="The token; its secret is shown only now")
@bp.doc(summary="Create a token", responses={401: "Wrong credentials", 429: "Too many attempts"})
def create_token() -> tuple[dict[str, Any], int]:
    """Exchange a name (or e-mail) and password, sent with HTTP Basic, for a bearer token."""
    body = parse_optional_body(TokenCreate)
    expires_at = body.expires_at or service.expiry_from_days(body.expires_in_days)
    token, secret = service.issue(basic_user(), body.name, expires_at)
    created = {
        "id": token.id,
        "name": token.name,
        "token": secret,
        "created_at": token.created_at,
        "expires_at": token.expires_at,
    }
    return created, 201


@bp.get("")
@bp.auth_required(token_auth)
@bp.output(TokenList)
@bp.doc(summary="List your tokens")
def list_tokens() -> dict[str, Any]:
    """The caller's tokens, without their secrets."""
    return {"items": service.list_tokens(current_user())}


@bp.delete("/<id:token_id>")
@bp.auth_required(token_auth)
@bp.output({}, status_code=204)
@bp.doc(summary="Revoke a token", responses={404: "No such token of yours"})
def revoke_token(token_id: int) -> Response:
    """Revoke one of the caller's tokens (signing out revokes the current one)."""
    service.revoke(current_user(), token_id)
    return no_content()
