"""Request and response models of the calendar feeds API."""

from __future__ import annotations

from datetime import datetime

from pydantic import Field

from ..core.validation import Body, Out, TokenName


class FeedCreate(Body):
    """Options for a new feed; the body itself is optional."""

    name: TokenName = "calendar"


class FeedOut(Out):
    """A feed as listed: never its URL, whose secret is not kept."""

    id: int
    name: str
    created_at: datetime
    last_used_at: datetime | None


class FeedCreated(Out):
    """A new feed, with its secret URL shown this once."""

    id: int
    name: str
    url: str = Field(
        description="The feed's address, /calendar/SECRET.ics; the secret is shown only now"
    )
    created_at: datetime


class FeedList(Out):
    """The caller's feeds, newest first."""

    items: list[FeedOut]
