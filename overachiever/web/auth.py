"""Authentication: HTTP Basic to create a token, Bearer tokens for everything else."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from typing import Any, TypeVar, cast

from apiflask import HTTPBasicAuth, HTTPTokenAuth
from flask import current_app, g

from ..tokens import service as tokens
from ..users import service as users
from ..users.models import User

View = TypeVar("View", bound=Callable[..., Any])

token_auth = HTTPTokenAuth(
    scheme="Bearer", realm="overachiever", description="A personal access token (oa_...)"
)
basic_auth = HTTPBasicAuth(realm="overachiever", description="User name or e-mail, and password")


def token_touch_interval() -> timedelta:
    """How old a token's recorded last use may be before a request records it again."""
    return timedelta(seconds=current_app.config["TOKEN_TOUCH_SECONDS"])


def _verify_token(token: str) -> User | None:
    # Checked once per request, though both a before-request hook (idempotency) and the view
    # may ask.
    checked = g.get("bearer_checked")
    found: tuple[User, int] | None
    if checked is not None and checked[0] == token:
        found = checked[1]
    else:
        found = (
            tokens.authenticate_bearer(token, touch_after=token_touch_interval()) if token else None
        )
        g.bearer_checked = (token, found)
    if found is None:
        return None
    user, g.token_id = found
    return user


def _verify_password(login: str, password: str) -> User | None:
    if not login or not password:
        return None
    return users.authenticate(login, password)


token_auth.verify_token(_verify_token)
basic_auth.verify_password(_verify_password)


def token_optional(view: View) -> View:
    """Let a view run without a token, knowing the caller when one is sent (sign-up)."""
    return cast(View, token_auth.login_required(optional=True)(view))


def bearer_user() -> User | None:
    """The user of this request's bearer token, if it is valid, before any view checks it."""
    user = token_auth.authenticate(token_auth.get_auth(), None)
    return cast("User | None", user or None)


def current_user() -> User:
    """The user the bearer token of this request belongs to."""
    user = token_auth.current_user
    assert user is not None  # the view is behind auth_required
    return cast(User, user)


def current_token_id() -> int:
    """The id of the bearer token this request came with."""
    token_id: int = g.token_id
    return token_id


def optional_user() -> User | None:
    """The user of this request's bearer token, if one was sent (see token_optional)."""
    return cast("User | None", token_auth.current_user)


def basic_user() -> User:
    """The user who authenticated with HTTP Basic on this request."""
    user = basic_auth.current_user
    assert user is not None
    return cast(User, user)
