"""Burn-up series and forecasts of the live tree: one read of the scope, then a sweep.

A goal's burn-up costs two statements whatever its size (the token, then its subtree's
instants); the forest's the same (the token, then the owner's live goals).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from ..core.db import db, read_transaction
from ..core.errors import NotFound
from ..core.types import utcnow
from ..goals.queries import FOREST_SPANS, SUBTREE_SPANS
from ..sharing import access
from ..users.models import User
from .forecast import Forecast, forecast
from .sweep import Bucket, Point, bucket_ends, leaf_instants, series


@dataclass(frozen=True, slots=True)
class Burnup:
    """A burn-up series, bucket by bucket, and the forecast it gives."""

    bucket: Bucket
    series: list[Point]
    forecast: Forecast

    def as_dict(self) -> dict[str, Any]:
        """The answer's JSON shape."""
        f = self.forecast
        return {
            "bucket": self.bucket,
            "series": [{"at": p.at, "leaves": p.leaves, "done": p.done} for p in self.series],
            "forecast": {"done_at": f.done_at, "low": f.low, "high": f.high, "rate": f.rate},
        }


def _burnup(
    rows: Iterable[Sequence[Any]],
    *,
    bucket: Bucket,
    start: datetime | None,
    end: datetime | None,
    now: datetime,
) -> Burnup:
    leaves = leaf_instants(rows, now=now)
    last = now if end is None else end
    first = start if start is not None else (leaves.first or last)
    # A defaulted start never comes after an explicit end: the series is then that one point.
    if start is None and first > last:
        first = last
    points = series(leaves, bucket_ends(first=first, last=last, bucket=bucket))
    finished = leaves.finished_at
    if finished is not None and finished > last:
        finished = None
    return Burnup(bucket, points, forecast(points, finished_at=finished))


def goal_burnup(
    *,
    caller: User,
    goal_id: int,
    bucket: Bucket = "day",
    start: datetime | None = None,
    end: datetime | None = None,
    now: datetime | None = None,
) -> Burnup:
    """The burn-up of a live goal the caller may read: its live subtree as it is today."""
    read_transaction()  # streamed with a server-side cursor on PostgreSQL
    grant = access.readable(caller=caller, goal_id=goal_id)
    conn = db.session.connection()
    params = {"root_id": goal_id, "owner_id": grant.owner_id}
    rows = list(conn.execute(SUBTREE_SPANS.on(conn), params))
    if not rows:
        raise NotFound(f"goal {goal_id} not found")
    return _burnup(rows, bucket=bucket, start=start, end=end, now=now or utcnow())


def forest_burnup(
    *,
    owner: User,
    bucket: Bucket = "day",
    start: datetime | None = None,
    end: datetime | None = None,
    now: datetime | None = None,
) -> Burnup:
    """The burn-up of the owner's whole live forest."""
    read_transaction()
    rows = db.session.connection().execute(FOREST_SPANS, {"owner_id": owner.id})
    return _burnup(rows, bucket=bucket, start=start, end=end, now=now or utcnow())


__all__ = ["Burnup", "forest_burnup", "goal_burnup"]
