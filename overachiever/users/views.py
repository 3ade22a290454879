"""The /api/v2/users endpoints: thin adapters over the users service."""

from __future__ import annotations

from typing import Any

from apiflask import APIBlueprint
from flask import Response, current_app, request, url_for

from ..web.auth import current_token_id, current_user, optional_user, token_auth, token_optional
from ..web.jsonio import no_content
from ..web.limits import limiter, password_check_limits, signup_limit
from ..web.paging import link_header
from . import service
from .schemas import SignUp, UserChanged, UserListQuery, UserOut, UserPage, UserPatch, UserPut

bp = APIBlueprint("users", __name__, url_prefix="/api/v2/users", tag="Users")


def _by_admin() -> bool:
    user = optional_user()
    return user is not None and user.is_admin


def _caller_account() -> str:
    return service.account_key(current_user().id)


def _checks_no_password() -> bool:
    body = request.get_json(silent=True)
    return not (isinstance(body, dict) and "current_password" in body)


# Checked after authentication: administrators creating accounts are not limited, and a
# password check counts against the caller's account.
_signup_limit = limiter.limit(signup_limit, scope="signup", exempt_when=_by_admin)
_password_limits = password_check_limits(_caller_account, exempt_when=_checks_no_password)
_CHANGE_ERRORS = {
    403: "Not allowed, or a wrong current password",
    404: "No such user",
    409: "Name taken",
    429: "Too many password checks",
}


@bp.post("")
@token_optional
@_signup_limit
@bp.input(SignUp, arg_name="body")
@bp.output(UserOut, status_code=201, description="The new account")
@bp.doc(
    security=[],
    summary="Sign up",
    responses={
        403: "Sign-up is closed",
        409: "Name or e-mail taken",
        429: "Too many sign-ups from this address",
    },
)
def sign_up(body: SignUp) -> tuple[Any, int, dict[str, str]]:
    """Create an account; the first account becomes an administrator."""
    user = service.create_user(
        body.name,
        str(body.email),
        body.password,
        actor=optional_user(),
        signup_open=current_app.config["SIGNUP"] != "closed",
    )
    return user, 201, {"Location": url_for("users.get_user", ref=user.id)}


@bp.get("")
@bp.auth_required(token_auth)
@bp.input(UserListQuery, location="query", arg_name="query")
@bp.output(UserPage)
@bp.doc(summary="List users (admins)", responses={403: "Not an administrator"})
def list_users(query: UserListQuery) -> tuple[dict[str, Any], int, dict[str, str]]:
    """Every account, paged, filtered by text in name or e-mail."""
    users, total = service.list_users(current_user(), query.q, query.offset, query.limit)
    page = {"items": users, "total": total, "offset": query.offset, "limit": query.limit}
    return page, 200, link_header("users.list_users", query, total)


@bp.get("/<user_ref:ref>")
@bp.auth_required(token_auth)
@bp.output(UserOut)
@bp.doc(summary="Read a user", responses={404: "No such user (or not yours to see)"})
def get_user(ref: int | str) -> Any:
    """A user: yourself ('self'), or anyone for an administrator."""
    return service.resolve(current_user(), ref)


@bp.patch("/<user_ref:ref>")
@bp.auth_required(token_auth)
@_password_limits
@bp.input(UserPatch, arg_name="body")
@bp.output(UserChanged)
@bp.doc(summary="Change a user", responses=_CHANGE_ERRORS)
def patch_user(ref: int | str, body: UserPatch) -> dict[str, Any]:
    """Change some of a user's fields; your own password needs the current one.

    A new password revokes the account's other tokens (tokens_revoked says how many).
    """
    change = service.update_user(
        current_user(), ref, body.model_dump(exclude_unset=True), keep_token_id=current_token_id()
    )
    return _changed(change)


@bp.put("/<user_ref:ref>")
@bp.auth_required(token_auth)
@_password_limits
@bp.input(UserPut, arg_name="body")
@bp.output(UserChanged)
@bp.doc(summary="Replace a user", responses=_CHANGE_ERRORS)
def put_user(ref: int | str, body: UserPut) -> dict[str, Any]:
    """Replace a user's name and e-mail (and optionally password and role)."""
    change = service.update_user(
        current_user(), ref, body.model_dump(exclude_unset=True), keep_token_id=current_token_id()
    )
    return _changed(change)


def _changed(change: service.AccountChange) -> dict[str, Any]:
    out = UserOut.model_validate(change.user).model_dump()
    return {**out, "tokens_revoked": change.tokens_revoked}


@bp.delete("/<user_ref:ref>")
@bp.auth_required(token_auth)
@bp.output({}, status_code=204)
@bp.doc(summary="Delete a user", responses={404: "No such user", 409: "Last administrator"})
def delete_user(ref: int | str) -> Response:
    """Delete an account with all its goals and tokens."""
    service.delete_user(current_user(), ref)
    return no_content()
