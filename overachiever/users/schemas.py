"""Request and response models of the users API."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from pydantic import Field, Strict

from ..core.validation import Body, Email, Out, Query, SearchText, UserName

Password = Annotated[str, Field(min_length=8, max_length=1024)]


class SignUp(Body):
    """A new account."""

    name: UserName
    email: Email
    password: Password


class UserPatch(Body):
    """Changes to an account; only an admin may set is_admin."""

    name: UserName | None = None
    email: Email | None = None
    password: Password | None = None
    current_password: Annotated[str, Field(max_length=1024)] | None = None
    is_admin: Annotated[bool, Strict()] | None = None


class UserPut(UserPatch):
    """A full replacement of an account's name and e-mail (password and role optional)."""

    name: UserName
    email: Email


class UserOut(Out):
    """An account as the API shows it; the password hash is never part of it."""

    id: int
    name: str
    email: str
    is_admin: bool
    created_at: datetime


class UserChanged(UserOut):
    """An account after a change."""

    tokens_revoked: int = Field(
        ge=0,
        description="Tokens of the account that a new password revoked: all but the one the "
        "request came with (0 when the password did not change)",
    )


class UserListQuery(Query):
    """Paging and filter for the admin's user list."""

    q: SearchText | None = None
    offset: int = Field(0, ge=0, le=2**62)
    limit: int = Field(50, ge=1, le=500)


class UserPage(Out):
    """A page of users."""

    items: list[UserOut]
    total: int
    offset: int
    limit: int
