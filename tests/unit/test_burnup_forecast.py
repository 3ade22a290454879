"""The forecast on constructed series with known answers: constant rate, no progress, all
done, one burst; and the window of the last 28 days."""

from __future__ import annotations

import math
from datetime import UTC, datetime, timedelta

from overachiever.progress.forecast import LATEST, Z, forecast
from overachiever.progress.sweep import Point

T0 = datetime(2025, 1, 1, tzinfo=UTC)
DAY = timedelta(days=1)


def _daily(dones: list[int], leaves: int) -> list[Point]:
    return [Point(T0 + DAY * i, leaves, d) for i, d in enumerate(dones)]


def _close(a: datetime | None, b: datetime) -> bool:
    return a is not None and abs((a - b).total_seconds()) < 1


def test_a_constant_rate_is_projected_to_when_done_meets_leaves():
    points = _daily(list(range(29)), leaves=100)  # one leaf a day for 28 days
    f = forecast(points)
    assert f.rate == 1.0
    last = points[-1].at
    assert f.done_at == last + DAY * 72
    # Equal increments: only the Poisson error of 28 completions remains.
    se = 1 / math.sqrt(28)
    assert _close(f.low, last + DAY * (72 / math.exp(Z * se)))
    assert _close(f.high, last + DAY * (72 * math.exp(Z * se)))
    assert f.low is not None
    assert f.high is not None
    assert f.low < f.done_at < f.high


def test_no_progress_gives_no_forecast():
    f = forecast(_daily([5] * 40, leaves=10))
    assert (f.done_at, f.low, f.high, f.rate) == (None, None, None, 0.0)


def test_all_done_is_done_when_the_last_leaf_was():
    finished = T0 + DAY * 3 + timedelta(hours=5)
    f = forecast(_daily([1, 2, 3, 4, 4, 4], leaves=4), finished_at=finished)
    assert f.done_at == f.low == f.high == finished
    assert f.rate == 3 / 5  # three leaves done in the five days the series spans


def test_all_done_without_the_instant_takes_the_first_point_all_done():
    f = forecast(_daily([0, 2, 4, 4, 4], leaves=4))
    assert f.done_at == T0 + DAY * 2
    assert f.low == f.high == f.done_at


def test_all_done_long_ago_may_have_no_recent_rate():
    f = forecast(_daily([3] * 60, leaves=3), finished_at=T0)
    assert f.done_at == T0
    assert f.rate == 0.0


def test_one_burst_widens_the_interval():
    dones = [0] * 15 + [28] * 14  # 28 leaves done on one day of the 28
    f = forecast(_daily(dones, leaves=56))
    assert f.rate == 1.0
    last = T0 + DAY * 28
    assert f.done_at == last + DAY * 28
    # Increments: one 28 and 27 zeros; mean 1, variance 28, so s / (sqrt(n) mean) = 1.
    assert _close(f.low, last + DAY * (28 / math.exp(Z)))
    assert _close(f.high, last + DAY * (28 * math.exp(Z)))
    steady = forecast(_daily(list(range(29)), leaves=56))
    assert steady.done_at == f.done_at
    assert f.low is not None
    assert f.high is not None
    assert steady.low is not None
    assert steady.high is not None
    assert f.low < steady.low
    assert f.high > steady.high


def test_only_the_last_28_days_count():
    dones = [0] * 50 + list(range(0, 29 * 2, 2))  # stalled, then 2 a day for 28 days
    f = forecast(_daily(dones, leaves=200))
    assert f.rate == 2.0


def test_a_shorter_series_uses_all_of_it():
    f = forecast(_daily([0, 1, 2, 3, 4], leaves=8))
    assert f.rate == 1.0
    assert f.done_at == T0 + DAY * 8


def test_weekly_points_give_a_rate_per_day():
    points = [Point(T0 + timedelta(weeks=i), 100, 7 * i) for i in range(10)]
    f = forecast(points)
    assert f.rate == 1.0
    assert f.done_at == points[-1].at + DAY * 37


def test_a_single_point_or_none_has_no_rate():
    assert forecast([]).done_at is None
    assert forecast([Point(T0, 4, 1)]).rate == 0.0


def test_a_very_slow_pace_ends_at_the_last_instant():
    points = [Point(T0 + DAY * i, 10**9, i) for i in range(2)]
    f = forecast(points)
    assert f.high == LATEST
    assert f.done_at is not None
    assert f.done_at <= LATEST


def test_the_forecast_in_words():
    from overachiever.progress.forecast import Forecast
    from overachiever.progress.words import forecast_words

    def at(month: int, day: int, year: int = 2025) -> datetime:
        return datetime(year, month, day, tzinfo=UTC)

    now = at(3, 1)
    f = Forecast(at(3, 14), at(3, 2), at(3, 30), 1.0)
    assert (
        forecast_words(f, now=now) == "at this pace, done around 14 March (between 2 and 30 March)"
    )
    f = Forecast(at(3, 14), at(2, 27), at(4, 2, 2026), 1.0)
    assert forecast_words(f, now=now) == (
        "at this pace, done around 14 March (between 27 February and 2 April 2026)"
    )
    assert forecast_words(Forecast(None, None, None, 0.0), now=now).startswith("no progress")
    done = Forecast(at(2, 3), at(2, 3), at(2, 3), 0.0)
    assert forecast_words(done, now=now) == "all done on 3 February"
