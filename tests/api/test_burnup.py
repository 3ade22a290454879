"""The burn-up endpoints over HTTP: counting, scope, defaults, bad input, other users' goals."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from tests.support.goals import API, ts
from tests.support.problems import assert_problem

GOALS = f"{API}/goals"
D = "2025-03-{:02d}T00:00:00Z"


def _burnup(client: Any, account: Any, goal_id: int | None = None, **query: Any) -> Any:
    path = f"{GOALS}/burnup" if goal_id is None else f"{GOALS}/{goal_id}/burnup"
    return client.get(path, headers=account.headers, query_string=query)


@pytest.fixture
def project(alice: Any, make_goal: Any) -> dict[str, int]:
    """A goal with a done branch (its leaf open) and two leaves, one done."""
    root = make_goal(alice, "Project", start=D.format(1))["id"]
    branch = make_goal(alice, "Branch", root, start=D.format(1), end=D.format(6))["id"]
    deep = make_goal(alice, "Deep", branch, start=D.format(2))["id"]
    one = make_goal(alice, "One", root, start=D.format(3), end=D.format(4))["id"]
    two = make_goal(alice, "Two", root, start=D.format(5))["id"]
    return {"root": root, "branch": branch, "deep": deep, "one": one, "two": two}


def test_a_goals_series_counts_leaves_from_start_and_done_from_effective_end(
    client, alice, project
):
    resp = _burnup(client, alice, project["root"], to=D.format(8))
    assert resp.status_code == 200
    body = resp.get_json()
    assert set(body) == {"bucket", "series", "forecast"}
    assert body["bucket"] == "day"
    got = [(p["at"], p["leaves"], p["done"]) for p in body["series"]]
    assert got == [
        (D.format(2), 1, 0),
        (D.format(3), 2, 0),
        (D.format(4), 2, 1),
        (D.format(5), 3, 1),
        (D.format(6), 3, 2),  # Deep is done with Branch
        (D.format(7), 3, 2),
        (D.format(8), 3, 2),
    ]
    assert set(body["forecast"]) == {"done_at", "low", "high", "rate"}


def test_the_last_point_matches_progress(client, alice, project):
    body = _burnup(client, alice, project["root"]).get_json()
    goal = client.get(f"{GOALS}/{project['root']}", headers=alice.headers).get_json()
    last = body["series"][-1]
    assert last["done"] / last["leaves"] == pytest.approx(goal["progress"])
    assert ts(last["at"]) is not None
    assert abs(ts(last["at"]) - datetime.now(UTC)) < timedelta(minutes=1)  # type: ignore[operator]


def test_a_done_goal_is_all_done_at_its_end(client, alice, project):
    client.patch(f"{GOALS}/{project['root']}", json={"end": D.format(7)}, headers=alice.headers)
    body = _burnup(client, alice, project["root"], to=D.format(9)).get_json()
    assert body["series"][-1]["done"] == body["series"][-1]["leaves"] == 3
    assert ts(body["forecast"]["done_at"]) == ts(D.format(7))
    assert body["forecast"]["low"] == body["forecast"]["high"] == body["forecast"]["done_at"]


def test_a_subtree_ignores_done_goals_above_it(client, alice, make_goal):
    top = make_goal(alice, "Top", start=D.format(1), end=D.format(2))["id"]
    mid = make_goal(alice, "Mid", top, start=D.format(1))["id"]
    make_goal(alice, "Leaf", mid, start=D.format(1))
    body = _burnup(client, alice, mid, to=D.format(3)).get_json()
    assert body["series"][-1]["done"] == 0
    whole = _burnup(client, alice, None, to=D.format(3)).get_json()
    assert whole["series"][-1]["done"] == 1


def test_the_forest_counts_every_live_tree_and_not_the_trash(client, alice, bob, make_goal):
    make_goal(alice, "A", start=D.format(1), end=D.format(3))
    gone = make_goal(alice, "B", start=D.format(1))["id"]
    make_goal(alice, "C", start=D.format(2))
    make_goal(bob, "Bob's", start=D.format(1))
    client.delete(f"{GOALS}/{gone}", headers=alice.headers)
    body = _burnup(client, alice, None, to=D.format(4), bucket="week").get_json()
    assert body["bucket"] == "week"
    assert [(p["leaves"], p["done"]) for p in body["series"]] == [(2, 1)]


def test_an_empty_forest_has_one_empty_point(client, alice):
    body = _burnup(client, alice).get_json()
    assert [(p["leaves"], p["done"]) for p in body["series"]] == [(0, 0)]
    assert body["forecast"] == {"done_at": None, "low": None, "high": None, "rate": 0.0}


def test_a_steady_pace_gives_a_forecast(client, alice, make_goal):
    root = make_goal(alice, "Pace", start=D.format(1))["id"]
    for day in range(1, 11):
        end = D.format(day + 2) if day <= 5 else None  # one a day, 3 to 7 March
        make_goal(alice, f"L{day}", root, start=D.format(1), end=end)
    body = _burnup(client, alice, root, to=D.format(12)).get_json()
    f = body["forecast"]
    # 5 leaves done between the first point (2 March) and the last (12 March).
    assert f["rate"] == pytest.approx(0.5)
    assert ts(f["done_at"]) == ts(D.format(22))
    assert ts(f["low"]) <= ts(f["done_at"]) <= ts(f["high"])  # type: ignore[operator]


@pytest.mark.parametrize(
    ("query", "loc"),
    [
        ({"bucket": "month"}, ["query", "bucket"]),
        ({"from": "2025-03-01"}, ["query", "from"]),
        ({"to": "yesterday"}, ["query", "to"]),
        ({"from": "2025-03-01T00:00:00"}, ["query", "from"]),  # no offset
        ({"from": "2025-03-02T00:00:00Z", "to": "2025-03-01T00:00:00Z"}, ["query", "from"]),
        ({"from": "2000-01-01T00:00:00Z", "to": "2025-01-01T00:00:00Z"}, ["query", "bucket"]),
    ],
)
def test_bad_input_is_a_422_problem(client, alice, project, query, loc):
    for goal_id in (project["root"], None):
        body = assert_problem(_burnup(client, alice, goal_id, **query), 422)
        assert loc in [e["loc"] for e in body["errors"]]


def test_offsets_and_fractions_are_read_as_instants(client, alice, project):
    resp = _burnup(
        client, alice, project["root"], to="2025-03-08T01:00:00.1234567+01:00", bucket="week"
    )
    assert resp.status_code == 200
    assert ts(resp.get_json()["series"][-1]["at"]) == datetime(
        2025, 3, 8, 0, 0, 0, 123456, tzinfo=UTC
    )


def test_someone_elses_goal_or_a_trashed_one_is_not_found(client, alice, bob, project):
    assert_problem(_burnup(client, bob, project["root"]), 404)
    client.delete(f"{GOALS}/{project['root']}", headers=alice.headers)
    assert_problem(_burnup(client, alice, project["root"]), 404)
    assert_problem(_burnup(client, alice, 999_999), 404)


def test_a_token_is_required(client, project):
    resp = client.get(f"{GOALS}/{project['root']}/burnup")
    assert_problem(resp, 401)
