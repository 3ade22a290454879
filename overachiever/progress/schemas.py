"""Request and response models of the burn-up API."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import Field

from ..core.validation import Instant, Out, Query


class BurnupQuery(Query):
    """The buckets of a burn-up series and the span they cover."""

    bucket: Literal["day", "week"] = Field("day", description="The length of one bucket")
    from_: Instant | None = Field(
        None,
        alias="from",
        description="RFC 3339 instant the series starts at; default: the earliest start in scope",
    )
    to: Instant | None = Field(
        None, description="RFC 3339 instant the series ends at (the last point); default: now"
    )


class BurnupPoint(Out):
    """At the end of one bucket: the leaves that had started, and how many were done."""

    at: datetime = Field(description="The bucket's end")
    leaves: int = Field(ge=0)
    done: int = Field(ge=0)


class ForecastOut(Out):
    """When the leaves will all be done at the pace of the last 28 days, and an interval."""

    done_at: datetime | None = Field(
        description="When done reaches leaves at that rate; when all are done, when the last"
        " leaf was; null when the rate is 0"
    )
    low: datetime | None = Field(description="The early end of the interval (about 80 %)")
    high: datetime | None = Field(description="The late end of the interval (about 80 %)")
    rate: float = Field(ge=0, description="Leaves done per day over the last 28 days")


class Burnup(Out):
    """A burn-up series and its forecast."""

    bucket: Literal["day", "week"]
    series: list[BurnupPoint]
    forecast: ForecastOut
