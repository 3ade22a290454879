"""The burn-up sweep: leaves, effective ends, buckets, and a chain too deep for recursion."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from overachiever.core.errors import Invalid
from overachiever.progress.sweep import MAX_BUCKETS, bucket_ends, leaf_instants, series

T0 = datetime(2025, 1, 1, tzinfo=UTC)
DAY = timedelta(days=1)
NOW = T0 + DAY * 100


def test_leaves_count_from_their_start_and_are_done_from_their_own_end():
    rows = [
        (1, None, T0, None),
        (2, 1, T0 + DAY, T0 + DAY * 3),
        (3, 1, T0 + DAY * 2, None),
    ]
    leaves = leaf_instants(rows, now=NOW)
    assert leaves.starts == [T0 + DAY, T0 + DAY * 2]
    assert leaves.dones == [T0 + DAY * 3]
    assert leaves.first == T0
    assert leaves.finished_at is None
    points = series(leaves, [T0, T0 + DAY, T0 + DAY * 2, T0 + DAY * 3])
    assert [(p.leaves, p.done) for p in points] == [(0, 0), (1, 0), (2, 0), (2, 1)]


def test_a_done_ancestor_finishes_its_leaves_at_the_earliest_end():
    rows = [
        (1, None, T0, T0 + DAY * 9),  # done on day 9
        (2, 1, T0, T0 + DAY * 5),  # done on day 5: its leaves are done then
        (3, 2, T0, None),
        (4, 2, T0, T0 + DAY * 7),  # its own end is later than its parent's
        (5, 1, T0, None),  # done with the root on day 9
    ]
    leaves = leaf_instants(rows, now=NOW)
    assert leaves.dones == [T0 + DAY * 5, T0 + DAY * 5, T0 + DAY * 9]
    assert leaves.finished_at == T0 + DAY * 9


def test_a_leaf_is_never_done_before_it_counts():
    rows = [(1, None, T0, T0 + DAY), (2, 1, T0 + DAY * 4, None)]
    assert leaf_instants(rows, now=NOW).dones == [T0 + DAY * 4]


def test_instants_after_now_count_as_now():
    rows = [(1, None, NOW + DAY, NOW + DAY * 2)]
    leaves = leaf_instants(rows, now=NOW)
    assert leaves.starts == leaves.dones == [NOW]


def test_a_goal_outside_the_rows_is_no_part_of_the_scope():
    rows = [(7, 3, T0, None), (8, 7, T0, None)]  # 3 is above the scope
    assert len(leaf_instants(rows, now=NOW).starts) == 1


def test_a_chain_deeper_than_the_recursion_limit():
    depth = 20_000
    rows = [
        (i, i - 1 if i > 1 else None, T0, T0 + DAY if i == 1 else None) for i in range(1, depth)
    ]
    leaves = leaf_instants(rows, now=NOW)
    assert leaves.dones == [T0 + DAY]


def test_buckets_count_back_from_the_end():
    ends = bucket_ends(first=T0, last=T0 + DAY * 3 + timedelta(hours=1), bucket="day")
    assert ends[-1] == T0 + DAY * 3 + timedelta(hours=1)
    assert ends[0] == T0 + timedelta(hours=1)
    assert len(ends) == 4
    assert bucket_ends(first=T0, last=T0, bucket="week") == [T0]
    weeks = bucket_ends(first=T0, last=T0 + DAY * 15, bucket="week")
    assert weeks == [T0 + DAY, T0 + DAY * 8, T0 + DAY * 15]


def test_bad_spans_are_invalid():
    with pytest.raises(Invalid):
        bucket_ends(first=T0 + DAY, last=T0, bucket="day")
    assert len(bucket_ends(first=T0, last=T0 + DAY * MAX_BUCKETS, bucket="day")) == MAX_BUCKETS
    with pytest.raises(Invalid):
        bucket_ends(first=T0, last=T0 + DAY * MAX_BUCKETS + DAY, bucket="day")
