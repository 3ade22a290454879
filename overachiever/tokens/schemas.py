"""Request and response models of the tokens API."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from pydantic import Field, Strict, model_validator

from ..core.validation import Body, Out, Timestamp, TokenName


class TokenCreate(Body):
    """Options for a new token; the body itself is optional."""

    name: TokenName = "api"
    expires_at: Timestamp | None = None
    expires_in_days: Annotated[int, Strict(), Field(ge=1, le=3650)] | None = None

    @model_validator(mode="after")
    def _one_expiry(self) -> TokenCreate:
        # Either form of expiry, not both: silently preferring one would hide a client's mistake.
        if self.expires_at is not None and self.expires_in_days is not None:
            raise ValueError("give expires_at or expires_in_days, not both")
        return self


class TokenOut(Out):
    """A token as listed: never its secret."""

    id: int
    name: str
    created_at: datetime
    last_used_at: datetime | None
    expires_at: datetime | None


class TokenCreated(Out):
    """A new token, with its secret shown this once."""

    id: int
    name: str
    token: str
    created_at: datetime
    expires_at: datetime | None


class TokenList(Out):
    """The caller's tokens."""

    items: list[TokenOut]
