"""The /api/v2/users endpoints: thin adapters over the users service."""

from __future__ import annotations

from typing import Any

from apiflask import APIBlueprint
from flask import Response, current_app, url_for

from ..web.auth import current_user, optional_user, token_auth, token_optional
from ..web.jsonio import no_content
from ..web.paging import link_header
from . import service
from .schemas import SignUp, UserListQuery, UserOut, UserPage, UserPatch, UserPut

bp = APIBlueprint("users", __name__, url_prefix="/api/v2/users", tag="Users")


@bp.post("")
@token_optional
@bp.input(SignUp, arg_name="body")
@bp.output(UserOut, status_code=201, description="The new account")
@bp.doc(
    security=[],
    summary="Sign up",
    responses={403: "Sign-up is closed", 409: "Name or e-mail taken"},
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
@bp.input(UserPatch, arg_name="body")
@bp.output(UserOut)
@bp.doc(
    summary="Change a user", responses={403: "Not allowed", 404: "No such user", 409: "Name taken"}
)
def patch_user(ref: int | str, body: UserPatch) -> Any:
    """Change some of a user's fields; a password change needs the current password."""
    return service.update_user(current_user(), ref, body.model_dump(exclude_unset=True))


@bp.put("/<user_ref:ref>")
@bp.auth_required(token_auth)
@bp.input(UserPut, arg_name="body")
@bp.output(UserOut)
@bp.doc(
    summary="Replace a user", responses={403: "Not allowed", 404: "No such user", 409: "Name taken"}
)
def put_user(ref: int | str, body: UserPut) -> Any:
    """Replace a user's name and e-mail (and optionally password and role)."""
    return service.update_user(current_user(), ref, body.model_dump(exclude_unset=True))


@bp.delete("/<user_ref:ref>")
@bp.auth_required(token_auth)
@bp.output({}, status_code=204)
@bp.doc(summary="Delete a user", responses={404: "No such user", 409: "Last administrator"})
def delete_user(ref: int | str) -> Response:
    """Delete an account with all its goals and tokens."""
    service.delete_user(current_user(), ref)
    return no_content()
