"""Authentication: HTTP Basic to create a token, Bearer tokens for everything else."""

from __future__ import annotations

from datetime import timedelta

from apiflask import HTTPBasicAuth, HTTPTokenAuth
from flask import current_app

from ..tokens import service as tokens
from ..users import service as users
from ..users.models import User

token_auth = HTTPTokenAuth(
    scheme="Bearer", realm="overachiever", description="A personal access token (oa_...)"
)
basic_auth = HTTPBasicAuth(realm="overachiever", description="User name or e-mail, and password")


def token_touch_interval() -> timedelta:
    """How old a token's recorded last use may be before a request records it again."""
    return timedelta(seconds=current_app.config["TOKEN_TOUCH_SECONDS"])


@token_auth.verify_token
def _verify_token(token: str) -> User | None:
    return tokens.authenticate(token, touch_after=token_touch_interval()) if token else None


@basic_auth.verify_password
def _verify_password(login: str, password: str) -> User | None:
    if not login or not password:
        return None
    return users.authenticate(login, password)


def current_user() -> User:
    """The user the bearer token of this request belongs to."""
    user = token_auth.current_user
    assert user is not None  # the view is behind auth_required
    return user


def basic_user() -> User:
    """The user who authenticated with HTTP Basic on this request."""
    user = basic_auth.current_user
    assert user is not None
    return user
