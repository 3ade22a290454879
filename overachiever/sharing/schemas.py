"""Request and response models of the sharing API."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

from pydantic import Field, StringConstraints

from ..core.validation import Body, Out
from ..goals.schemas import GoalOut

Role = Literal["viewer", "editor"]

# A user name or an e-mail address, as sign-in takes them.
UserLogin = Annotated[
    str,
    StringConstraints(strip_whitespace=True, min_length=1, max_length=254),
    Field(description="The user's name or e-mail address"),
]


class ShareCreate(Body):
    """Share a goal and its subtree with a user, or change the role of an existing share."""

    user: UserLogin
    role: Role = Field(description="viewer: read only; editor: may also change the subtree")


class UserRef(Out):
    """A user, by id and name."""

    id: int
    name: str


class ShareOut(Out):
    """One share of a goal."""

    id: int
    goal_id: int
    user: UserRef
    role: Role
    created_at: datetime


class ShareList(Out):
    """The shares of one goal, oldest first."""

    items: list[ShareOut]


class SharedWithMe(Out):
    """A goal someone shared with the caller, with their role and the goal's owner."""

    share_id: int
    role: Role
    owner: UserRef
    goal: GoalOut


class SharedList(Out):
    """The goals shared with the caller (live ones), oldest share first."""

    items: list[SharedWithMe]
