"""URL converters that refuse ids no database can hold, so they are a 404, not a crash."""

from __future__ import annotations

from typing import Any

from werkzeug.routing import BaseConverter, ValidationError

from .db import MAX_ID


class IdConverter(BaseConverter):
    """A positive 64-bit id."""

    regex = r"\d{1,19}"
    weight = 50

    def to_python(self, value: str) -> int:
        """Parse the id, refusing 0 and values past 2**63 - 1."""
        number = int(value)
        if not 1 <= number <= MAX_ID:
            raise ValidationError()
        return number

    def to_url(self, value: Any) -> str:
        """Render the id."""
        return str(int(value))


class UserRefConverter(IdConverter):
    """A user id, or 'self' for the caller."""

    regex = r"self|\d{1,19}"

    def to_python(self, value: str) -> int | str:  # type: ignore[override]
        """Parse 'self' or an id."""
        return "self" if value == "self" else super().to_python(value)

    def to_url(self, value: Any) -> str:
        """Render 'self' or the id."""
        return "self" if value == "self" else super().to_url(value)
