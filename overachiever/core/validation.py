"""Shared pydantic field types: ids, names, text and timestamps that refuse bad input."""

from __future__ import annotations

import re
import sys
import unicodedata
from collections.abc import Callable
from datetime import UTC, datetime
from functools import cache
from typing import Annotated, Any

import email_validator
from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    Strict,
    WithJsonSchema,
)

from .types import MAX_ID, MAX_POSITION

_ISO_DATE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")
# An RFC 3339 date-time: a full date and time, and a Z or numeric offset.
_RFC3339 = re.compile(
    r"[0-9]{4}-[0-9]{2}-[0-9]{2}[Tt ][0-9]{2}:[0-9]{2}:[0-9]{2}(\.[0-9]{1,9})?"
    r"([Zz]|[+-][0-9]{2}:[0-9]{2})"
)


def _no_control_chars(value: str) -> str:
    """Refuse control characters (NUL included) anywhere in a one-line string."""
    if any(unicodedata.category(ch) in ("Cc", "Cs") for ch in value):
        raise ValueError("must not contain control characters")
    return value


def _text_control_chars(value: str) -> str:
    """Refuse control characters in free text, except tab and line breaks."""
    if any(unicodedata.category(ch) in ("Cc", "Cs") and ch not in "\t\n\r" for ch in value):
        raise ValueError("must not contain control characters other than tab and newline")
    return value


# Format characters a name may hold: the zero-width joiner and non-joiner, which emoji
# sequences and scripts such as Persian and the Indic ones need to be written correctly.
JOINERS = "\u200c\u200d"


def _plain_name(most: int, allowed: str = "") -> Callable[[str], str]:
    """A name in NFC, free of invisible format characters (but `allowed`), so look-alikes
    cannot coexist; at most `most` characters once composed."""

    def check(value: str) -> str:
        value = unicodedata.normalize("NFC", value)
        if any(unicodedata.category(ch) == "Cf" and ch not in allowed for ch in value):
            raise ValueError("must not contain invisible formatting characters")
        # Composition rarely lengthens text, but a few characters decompose under NFC.
        if len(value) > most:
            raise ValueError(f"must have at most {most} characters in Unicode NFC")
        return value

    return check


def _nfc(value: str) -> str:
    return unicodedata.normalize("NFC", value)


# The service sends no mail: an address names an account and nothing is delivered to it, so
# the special-use domains email-validator refuses by default (.test, .local, .localhost,
# .onion, .invalid, .arpa), common on private networks and in tests, are accepted as they are
# by JSON Schema's "email" format. (The library documents this list as the way to choose.)
email_validator.SPECIAL_USE_DOMAIN_NAMES = []


def _email(value: str) -> str:
    """An e-mail address in email-validator's normal form (its domain lower-cased)."""
    if "\r" in value or "\n" in value:
        raise ValueError("value is not a valid email address: no line breaks allowed")
    try:
        address = email_validator.validate_email(value.strip(), check_deliverability=False)
    except email_validator.EmailNotValidError as exc:
        raise ValueError(f"value is not a valid email address: {exc}") from None
    if len(address.normalized) > 254:
        raise ValueError("value is not a valid email address: more than 254 characters")
    return address.normalized


def _strip(value: Any) -> Any:
    return value.strip() if isinstance(value, str) else value


def _timestamp_string(value: Any) -> Any:
    """Timestamps travel as ISO 8601 strings; numbers and other types are refused."""
    if isinstance(value, datetime):
        return value
    # A string of digits would otherwise be read as Unix time (query strings are all strings).
    if not isinstance(value, str) or not _ISO_DATE.match(value):
        raise ValueError("must be an ISO 8601 timestamp string")
    return value


def _instant_string(value: Any) -> Any:
    """An RFC 3339 date-time string (an offset required); read to microseconds."""
    if isinstance(value, datetime):
        return value
    if not isinstance(value, str) or not _RFC3339.fullmatch(value):
        raise ValueError("must be an RFC 3339 date-time with an offset, e.g. 2025-03-14T09:00:00Z")
    # Python reads at most six digits of fractions: the rest is below a microsecond.
    head, dot, tail = value.partition(".")
    if dot:
        digits = len(tail) - len(tail.lstrip("0123456789"))
        value = f"{head}.{tail[: min(digits, 6)].ljust(6, '0')}{tail[digits:]}"
    return value


def _to_utc(value: datetime) -> datetime:
    """Naive timestamps are taken as UTC; all are returned in UTC."""
    if value.tzinfo is None:
        return value.replace(tzinfo=UTC)
    try:
        return value.astimezone(UTC)
    except OverflowError:  # e.g. 0001-01-01T00:00:00+01:00 is before the year 1 in UTC
        raise ValueError("must be between the years 1 and 9999 in UTC") from None


@cache
def _chars(categories: str, also: str = "", but: str = "") -> str:
    """A regex character-class body: the Unicode categories (e.g. "Cc Cs"), plus `also`, less `but`.

    Escaped as \\uXXXX for the basic plane; other characters appear as themselves. Surrogates
    (Cs) are left out: no UTF-8 text holds one, and regex engines of other languages refuse them.
    """
    wanted = set(categories.split()) - {"Cs"}
    codes = [
        c
        for c in range(sys.maxunicode + 1)
        if (unicodedata.category(chr(c)) in wanted or chr(c) in also) and chr(c) not in but
    ]
    ranges: list[list[int]] = []
    for c in codes:
        if ranges and ranges[-1][1] == c - 1:
            ranges[-1][1] = c
        else:
            ranges.append([c, c])

    def char(c: int) -> str:
        return f"\\u{c:04x}" if c <= 0xFFFF else chr(c)

    return "".join(char(a) if a == b else f"{char(a)}-{char(b)}" for a, b in ranges)


@cache
def _whitespace() -> str:
    """Every character str.strip() removes (computed when a schema is first asked for)."""
    return "".join(chr(c) for c in range(sys.maxunicode + 1) if chr(c).isspace())


class _JsonSchema:
    """Annotation metadata: the JSON Schema of a string type, built when a schema is asked for.

    The patterns spell out exactly what the validators accept (trimming, lengths, refused
    characters), so the OpenAPI document is truthful and schema-driven clients or fuzzers never
    send text that the document allows and the service refuses.
    """

    def __init__(self, build: Callable[[], dict[str, Any]]) -> None:
        self.build = build

    def __get_pydantic_json_schema__(self, core_schema: Any, handler: Any) -> dict[str, Any]:
        """The schema, replacing the one pydantic would derive from the constraints."""
        return self.build()


def _trimmed_line(most: int, refused: str, text: str, allowed: str = "") -> _JsonSchema:
    """A one-line string of 1..`most` characters once surrounding whitespace is trimmed."""

    def build() -> dict[str, Any]:
        bad = _chars(refused, but=allowed)
        space = _chars("", also=_whitespace())
        edge = bad + space
        pattern = f"^[{space}]*[^{edge}](?:[^{bad}]{{0,{most - 2}}}[^{edge}])?[{space}]*$"
        return {"type": "string", "pattern": pattern, "description": text}

    return _JsonSchema(build)


def _free_text(most: int, refused: str, allowed: str, text: str) -> _JsonSchema:
    """A string of at most `most` characters without the refused categories (but `allowed`)."""

    def build() -> dict[str, Any]:
        pattern = f"^[^{_chars(refused, but=allowed)}]*$"
        return {"type": "string", "maxLength": most, "pattern": pattern, "description": text}

    return _JsonSchema(build)


def _drop_default(schema: dict[str, Any]) -> None:
    schema.pop("default", None)


def omissible() -> Any:
    """The default of a field that may be left out but not sent as null (its schema has no null)."""
    return Field(default=None, json_schema_extra=_drop_default)


Id = Annotated[int, Strict(), Field(ge=1, le=MAX_ID)]
GoalName = Annotated[
    str,
    BeforeValidator(_strip),
    Field(min_length=1, max_length=200),
    AfterValidator(_no_control_chars),
    AfterValidator(_plain_name(200, JOINERS)),
    _trimmed_line(
        200,
        "Cc Cs Cf",
        "1-200 characters once trimmed, stored in Unicode NFC; no control or format characters "
        "but the zero-width joiner and non-joiner",
        allowed=JOINERS,
    ),
]
TokenName = Annotated[
    str,
    BeforeValidator(_strip),
    Field(min_length=1, max_length=100),
    AfterValidator(_no_control_chars),
    _trimmed_line(100, "Cc Cs", "1-100 characters once trimmed; no control characters"),
]
UserName = Annotated[
    str,
    BeforeValidator(_strip),
    Field(min_length=1, max_length=64),
    AfterValidator(_no_control_chars),
    AfterValidator(_plain_name(64)),
    _trimmed_line(
        64,
        "Cc Cs Cf",
        "1-64 characters once trimmed, stored in Unicode NFC; no control or format characters",
    ),
]
Description = Annotated[
    str,
    Field(max_length=10_000),
    AfterValidator(_text_control_chars),
    _free_text(10_000, "Cc Cs", "\t\n\r", "No control characters but tab and line breaks"),
]
SearchText = Annotated[
    str,
    Field(max_length=200),
    AfterValidator(_no_control_chars),
    # Names are stored in NFC: a search typed in another form finds them too.
    AfterValidator(_nfc),
    _free_text(200, "Cc Cs", "", "No control characters; case is ignored"),
]
Email = Annotated[
    str,
    Field(max_length=254),
    AfterValidator(_email),
    WithJsonSchema({"type": "string", "format": "email", "maxLength": 254}),
]
Timestamp = Annotated[datetime, BeforeValidator(_timestamp_string), AfterValidator(_to_utc)]
# An instant as RFC 3339 writes it: unlike Timestamp, an offset is required.
Instant = Annotated[
    datetime,
    BeforeValidator(_instant_string),
    AfterValidator(_to_utc),
    WithJsonSchema({"type": "string", "format": "date-time"}),
]
QueryId = Annotated[int, Field(ge=1, le=MAX_ID)]
Position = Annotated[int, Strict(), Field(ge=0, le=MAX_POSITION)]


class Body(BaseModel):
    """Base of every request body: unknown fields are refused (no mass assignment)."""

    model_config = ConfigDict(extra="forbid")


class Query(BaseModel):
    """Base of every query string model; unknown parameters are ignored, as caches add them."""

    model_config = ConfigDict(extra="ignore")


class Out(BaseModel):
    """Base of every response model: reads ORM objects' attributes as well as dicts."""

    model_config = ConfigDict(from_attributes=True)
