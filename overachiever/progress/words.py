"""A forecast in words: "at this pace, done around 14 March (between 2 and 30 March)"."""

from __future__ import annotations

from datetime import datetime

from .forecast import Forecast


def _day(at: datetime, year: int, month: bool = True) -> str:
    """'14 March', with the year when it is not `year`; the day alone without month."""
    if not month:
        return str(at.day)
    text = f"{at.day} {at:%B}"
    return text if at.year == year else f"{text} {at.year}"


def forecast_words(forecast: Forecast, *, now: datetime) -> str:
    """One line that says when the leaves will all be done, and between which days."""
    done_at, low, high = forecast.done_at, forecast.low, forecast.high
    if done_at is None or low is None or high is None:
        return "no progress in the last 28 days: no forecast"
    if low == high == done_at and done_at <= now:
        return f"all done on {_day(done_at, now.year)}"
    same_month = (low.year, low.month) == (high.year, high.month)
    between = f"{_day(low, now.year, month=not same_month)} and {_day(high, now.year)}"
    return f"at this pace, done around {_day(done_at, now.year)} (between {between})"
