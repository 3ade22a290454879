"""Per-account limits: goals held (OVERACHIEVER_MAX_GOALS), imports (OVERACHIEVER_IMPORT_LIMIT)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from sqlalchemy import event, func, select

from overachiever.config import Config, Settings
from overachiever.core.db import db
from overachiever.goals import quota
from overachiever.goals.models import Goal
from overachiever.web.limits import limiter
from tests.support.problems import assert_problem

GOAL_LIMIT = "urn:overachiever:problem:goal-limit"


@pytest.fixture
def limited(app: Any) -> Any:
    """The app with room for 5 goals per account."""
    app.config["MAX_GOALS"] = 5
    return app


def held(app: Any, owner_id: int) -> int:
    with app.app_context():
        stmt = select(func.count()).select_from(Goal).where(Goal.owner_id == owner_id)
        return int(db.session.execute(stmt).scalar_one())


def create(client: Any, account: Any, name: str, **fields: Any) -> Any:
    return client.post("/api/v2/goals", json={"name": name, **fields}, headers=account.headers)


def assert_goal_limit(resp: Any, limit: int) -> None:
    problem = assert_problem(resp, 409)
    assert problem["type"] == GOAL_LIMIT
    assert problem["limit"] == limit
    assert f"at most {limit}" in problem["detail"]


# ---------------------------------------------------------------------------- goals held


def test_a_create_past_the_goal_limit_is_a_409_that_states_the_limit(limited, client, alice):
    for i in range(5):
        assert create(client, alice, f"g{i}").status_code == 201
    assert_goal_limit(create(client, alice, "one too many"), 5)
    # At a position too (the other kind of create), and under a parent.
    assert_goal_limit(create(client, alice, "first", position=0), 5)
    parent = client.get("/api/v2/goals?limit=1", headers=alice.headers).get_json()["items"][0]
    assert_goal_limit(create(client, alice, "child", parent_id=parent["id"]), 5)
    assert held(limited, alice.id) == 5


def test_trashed_goals_count_until_they_are_purged(limited, client, alice):
    ids = [create(client, alice, f"g{i}").get_json()["id"] for i in range(5)]
    assert client.delete(f"/api/v2/goals/{ids[0]}", headers=alice.headers).status_code == 204
    assert_goal_limit(create(client, alice, "more"), 5)
    assert client.delete(f"/api/v2/trash/{ids[0]}", headers=alice.headers).status_code == 204
    assert create(client, alice, "more").status_code == 201


def test_the_limit_is_per_account(limited, client, alice, bob):
    for i in range(5):
        create(client, alice, f"g{i}")
    assert create(client, bob, "mine").status_code == 201


def test_an_import_past_the_limit_is_refused_whole(limited, client, alice):
    for i in range(3):
        create(client, alice, f"g{i}")
    three = [{"name": "a"}, {"name": "b", "children": [{"name": "c"}]}]
    resp = client.post("/api/v2/goals/import", json=three, headers=alice.headers)
    assert_goal_limit(resp, 5)
    assert "3 goals cannot be added" in resp.get_json()["detail"]
    assert held(limited, alice.id) == 3
    two = [{"name": "a"}, {"name": "b"}]
    assert client.post("/api/v2/goals/import", json=two, headers=alice.headers).status_code == 201
    assert held(limited, alice.id) == 5


def test_the_v1_api_keeps_the_limit_too(limited, client, alice):
    for i in range(5):
        create(client, alice, f"g{i}")
    resp = client.post("/v1.0/goals", json={"name": "legacy"}, headers=alice.headers)
    assert_goal_limit(resp, 5)


def test_zero_means_no_limit(app, client, alice):
    app.config["MAX_GOALS"] = 0
    tree = [{"name": f"n{i}"} for i in range(50)]
    assert client.post("/api/v2/goals/import", json=tree, headers=alice.headers).status_code == 201
    assert create(client, alice, "more").status_code == 201


def test_near_the_limit_the_insert_itself_counts(limited, client, alice, monkeypatch):
    for i in range(5):
        create(client, alice, f"g{i}")
    # A count read a moment ago that said there was room (another create then took it): the
    # INSERT, counting again under the write lock, still refuses.
    monkeypatch.setattr(quota, "goals_held", lambda owner_id: 4)
    assert_goal_limit(create(client, alice, "raced"), 5)
    assert held(limited, alice.id) == 5


@pytest.fixture
def inserts(app: Any) -> Iterator[list[str]]:
    """The INSERT INTO goals statements sent while the test runs."""
    sent: list[str] = []
    with app.app_context():
        engine = db.engine

    def executed(_conn: Any, _cursor: Any, sql: str, *_args: Any) -> None:
        if sql.lstrip().upper().startswith("INSERT INTO GOALS"):
            sent.append(" ".join(sql.split()))

    event.listen(engine, "before_cursor_execute", executed)
    yield sent
    event.remove(engine, "before_cursor_execute", executed)


def test_far_below_the_limit_a_create_counts_before_it_takes_the_write_lock(
    app, client, alice, inserts
):
    app.config["MAX_GOALS"] = quota.EXACT_WITHIN + 10
    assert create(client, alice, "far").status_code == 201
    assert "count(" not in inserts[-1].lower()
    for i in range(9):
        assert create(client, alice, f"g{i}").status_code == 201
    # Now within EXACT_WITHIN of the limit: the INSERT counts too.
    assert create(client, alice, "near").status_code == 201
    assert "count(" in inserts[-1].lower()


# ---------------------------------------------------------------------------- imports


def test_imports_per_account_are_limited_with_a_429(app, client, alice, bob):
    app.config["IMPORT_LIMIT"] = "2/minute"
    with app.app_context():
        limiter.reset()
    for i in range(2):
        resp = client.post("/api/v2/goals/import", json={"name": f"t{i}"}, headers=alice.headers)
        assert resp.status_code == 201
    refused = client.post("/api/v2/goals/import", json={"name": "t3"}, headers=alice.headers)
    assert_problem(refused, 429)
    assert int(refused.headers["Retry-After"]) > 0
    assert held(app, alice.id) == 2
    # Another account imports, and the limit is for imports only.
    assert (
        client.post("/api/v2/goals/import", json={"name": "b"}, headers=bob.headers).status_code
        == 201
    )
    assert create(client, alice, "one by one").status_code == 201


def test_an_import_without_a_valid_token_is_a_401_not_counted(app, client, alice):
    app.config["IMPORT_LIMIT"] = "1/minute"
    with app.app_context():
        limiter.reset()
    for _ in range(3):
        resp = client.post(
            "/api/v2/goals/import", json={"name": "x"}, headers={"Authorization": "Bearer oa_no"}
        )
        assert_problem(resp, 401)
    assert (
        client.post("/api/v2/goals/import", json={"name": "x"}, headers=alice.headers).status_code
        == 201
    )


# ---------------------------------------------------------------------------- configuration


def test_the_defaults_are_documented_ones():
    assert Settings.defaults().max_goals == 100_000
    assert Settings.defaults().import_limit == "10/minute"


def test_the_environment_sets_both_limits(monkeypatch):
    monkeypatch.setenv("OVERACHIEVER_MAX_GOALS", "0")
    monkeypatch.setenv("OVERACHIEVER_IMPORT_LIMIT", "100/hour")
    env = Config.from_env()
    assert (env["MAX_GOALS"], env["IMPORT_LIMIT"]) == (0, "100/hour")


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("OVERACHIEVER_MAX_GOALS", "-1"),
        ("OVERACHIEVER_MAX_GOALS", "lots"),
        ("OVERACHIEVER_IMPORT_LIMIT", "ten a minute"),
    ],
)
def test_a_bad_limit_stops_the_app_naming_the_variable(monkeypatch, name, value):
    monkeypatch.setenv(name, value)
    with pytest.raises(RuntimeError, match=name):
        Config.from_env()
