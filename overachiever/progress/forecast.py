"""When will it be done: the completion rate of the last 28 days, projected, with an interval.

Pure: a series in, a forecast out. The rate is the leaves done in the window (the last 28
days, or the whole series if shorter) per day. Its relative standard error is the larger of
the bucket completions' s / (sqrt(n) * mean) (the spread of the increments: bursts widen it)
and 1 / sqrt(N) (a Poisson count of N completions); the interval is the rate times
exp(+-1.2816 * se), about 80 %, so it is never negative and never crosses zero. `low` is
when the remaining leaves are done at the fast end of that interval, `high` at the slow end.
"""

from __future__ import annotations

import math
from bisect import bisect_right
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from itertools import pairwise

from .sweep import Point

WINDOW = timedelta(days=28)
# The normal quantile of 90 %: rate * exp(+-Z * se) spans about 80 %.
Z = 1.2815515655446004
_DAY = timedelta(days=1)
# The last instant a forecast can name: a slow enough pace is done at the end of time.
LATEST = datetime(9999, 12, 31, 23, 59, 59, tzinfo=UTC)


@dataclass(frozen=True, slots=True)
class Forecast:
    """When done reaches leaves at the recent pace (done_at), between low and high."""

    done_at: datetime | None
    low: datetime | None
    high: datetime | None
    rate: float


def _after(at: datetime, days: float) -> datetime:
    """`days` after `at`, at most LATEST."""
    if days >= (LATEST - at) / _DAY:
        return LATEST
    return at + timedelta(days=days)


def _window(points: Sequence[Point]) -> Sequence[Point]:
    """The points of the window: from the last at or before 28 days back, or the first one."""
    ats = [p.at for p in points]
    base = max(0, bisect_right(ats, points[-1].at - WINDOW) - 1)
    return points[base:]


def forecast(points: Sequence[Point], *, finished_at: datetime | None = None) -> Forecast:
    """The forecast of a series (bucket ends ascending).

    When every leaf is done, done_at (and low and high) is finished_at, or else the first
    point from which every leaf is done; rate is the recent pace, possibly 0. Otherwise a
    rate of 0 leaves done_at, low and high null.
    """
    if not points:
        return Forecast(None, None, None, 0.0)
    last = points[-1]
    window = _window(points)
    days = (last.at - window[0].at) / _DAY
    completed = last.done - window[0].done
    rate = completed / days if days > 0 and completed > 0 else 0.0
    if last.leaves > 0 and last.done >= last.leaves:
        if finished_at is None:
            first = len(points) - 1
            while first > 0 and points[first - 1].done >= points[first - 1].leaves:
                first -= 1
            finished_at = points[first].at
        return Forecast(finished_at, finished_at, finished_at, rate)
    if rate == 0.0:
        return Forecast(None, None, None, 0.0)
    increments = [b.done - a.done for a, b in pairwise(window)]
    n = len(increments)
    mean = completed / n
    spread = 0.0
    if n > 1:
        variance = sum((d - mean) ** 2 for d in increments) / (n - 1)
        spread = math.sqrt(variance / n) / mean
    se = max(spread, 1 / math.sqrt(completed))
    remaining = last.leaves - last.done
    return Forecast(
        done_at=_after(last.at, remaining / rate),
        low=_after(last.at, remaining / (rate * math.exp(Z * se))),
        high=_after(last.at, remaining / (rate * math.exp(-Z * se))),
        rate=rate,
    )
