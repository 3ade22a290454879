"""URL converters that refuse ids no database can hold, so they are a 404, not a crash."""

from __future__ import annotations

from typing import Any

from werkzeug.routing import BaseConverter, ValidationError

from ..core.types import MAX_ID


def _at_most(limit: int) -> str:
    """A regex for the decimal numbers 1..limit without leading zeros."""
    digits = str(limit)
    # [0-9], not \d: in Python \d also matches other scripts' digits ("1\u0663" would be 13).
    shorter = [rf"[1-9][0-9]{{0,{len(digits) - 2}}}"] if len(digits) > 1 else []
    same_length = []
    for i, digit in enumerate(digits):
        low = 1 if i == 0 else 0
        if int(digit) > low:
            rest = len(digits) - i - 1
            same_length.append(f"{digits[:i]}[{low}-{int(digit) - 1}]" + rf"[0-9]{{{rest}}}")
    same_length.append(digits)
    return "(?:" + "|".join(shorter + same_length) + ")"


# Matches exactly the ids 1..2**63-1. The URL must refuse other numbers itself: a converter
# that rejects a value after matching makes Werkzeug answer 405 instead of 404 when the same
# path has rules for other methods (PATCH /goals/0 would be "method not allowed").
ID_REGEX = _at_most(MAX_ID)


class IdConverter(BaseConverter):
    """A positive 64-bit id."""

    regex = ID_REGEX
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

    regex = rf"self|{ID_REGEX}"

    def to_python(self, value: str) -> int | str:  # type: ignore[override]
        """Parse 'self' or an id."""
        return "self" if value == "self" else super().to_python(value)

    def to_url(self, value: Any) -> str:
        """Render 'self' or the id."""
        return "self" if value == "self" else super().to_url(value)
