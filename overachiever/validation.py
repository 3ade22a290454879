"""Shared pydantic field types: ids, names, text and timestamps that refuse bad input."""

from __future__ import annotations

import re
import unicodedata
from datetime import UTC, datetime
from typing import Annotated, Any, TypeVar

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    Strict,
    ValidationError,
)

from .db import MAX_ID

_ISO_DATE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")


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


def _plain_name(value: str) -> str:
    """A user name in NFC, free of invisible format characters, so look-alikes cannot coexist."""
    value = unicodedata.normalize("NFC", value)
    if any(unicodedata.category(ch) == "Cf" for ch in value):
        raise ValueError("must not contain invisible formatting characters")
    return value


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


def _to_utc(value: datetime) -> datetime:
    """Naive timestamps are taken as UTC; all are returned in UTC."""
    if value.tzinfo is None:
        return value.replace(tzinfo=UTC)
    try:
        return value.astimezone(UTC)
    except OverflowError:  # e.g. 0001-01-01T00:00:00+01:00 is before the year 1 in UTC
        raise ValueError("must be between the years 1 and 9999 in UTC") from None


Id = Annotated[int, Strict(), Field(ge=1, le=MAX_ID)]
GoalName = Annotated[
    str,
    BeforeValidator(_strip),
    Field(min_length=1, max_length=200),
    AfterValidator(_no_control_chars),
]
UserName = Annotated[
    str,
    BeforeValidator(_strip),
    Field(min_length=1, max_length=64),
    AfterValidator(_no_control_chars),
    AfterValidator(_plain_name),
]
Description = Annotated[str, Field(max_length=10_000), AfterValidator(_text_control_chars)]
SearchText = Annotated[str, Field(max_length=200), AfterValidator(_no_control_chars)]
Timestamp = Annotated[datetime, BeforeValidator(_timestamp_string), AfterValidator(_to_utc)]
QueryId = Annotated[int, Field(ge=1, le=MAX_ID)]
Position = Annotated[int, Strict(), Field(ge=0, le=2**31 - 1)]


class Body(BaseModel):
    """Base of every request body: unknown fields are refused (no mass assignment)."""

    model_config = ConfigDict(extra="forbid")


BodyT = TypeVar("BodyT", bound="Body")


class Query(BaseModel):
    """Base of every query string model; unknown parameters are ignored, as caches add them."""

    model_config = ConfigDict(extra="ignore")


def parse_optional_body(model: type[BodyT]) -> BodyT:
    """Validate a JSON body that may be absent (an empty body means all defaults)."""
    from flask import request

    from .errors import Invalid

    if not request.get_data(cache=True).strip():
        return model()
    try:
        return model.model_validate(request.get_json())
    except ValidationError as exc:
        errors = [{"loc": ["body", *err["loc"]], "msg": err["msg"]} for err in exc.errors()]
        raise Invalid.from_errors(errors) from exc


class Out(BaseModel):
    """Base of every response model: reads ORM objects' attributes as well as dicts."""

    model_config = ConfigDict(from_attributes=True)


def documented_body(blueprint: Any, model: type[BaseModel]) -> Any:
    """Describe a JSON request body in the OpenAPI document without APIFlask validating it.

    For bodies the view validates itself: optional bodies, and import trees that are checked
    node by node so no depth of nesting can exhaust the stack.
    """

    def decorator(view: Any) -> Any:
        blueprint.input(model)(
            view
        )  # records the schema on the view; the validating wrapper is dropped
        return view

    return decorator
