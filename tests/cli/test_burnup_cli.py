"""`overachiever burnup`: a user's burn-up series as a table, and the forecast in words."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from overachiever.core.types import utcnow
from overachiever.goals import service
from overachiever.goals.schemas import GoalCreate
from overachiever.users.service import find_by_name


def _alice_plans(cli: Any, api_app: Any) -> int:
    """Alice's goal with four leaves started ten days ago, one done a day for two days."""
    cli("users", "create", "alice", "--email", "a@example.com", "--password", "long enough pw")
    now = utcnow()
    with api_app.app_context():
        alice = find_by_name("alice")
        start = now - timedelta(days=10)
        root = service.create_goal(caller=alice, goal_in=GoalCreate(name="Plan", start=start))
        for i in range(4):
            end = now - timedelta(days=2 - i) if i < 2 else None
            child = GoalCreate(name=f"Step {i}", parent_id=root.goal.id, start=start, end=end)
            service.create_goal(caller=alice, goal_in=child)
    return int(root.goal.id)


def test_burnup_prints_the_series_and_the_forecast(cli: Any, api_app: Any) -> None:
    goal = _alice_plans(cli, api_app)
    lines = cli("burnup", "alice", "--goal", str(goal)).output.splitlines()
    assert lines[0].split() == ["at", "leaves", "done", "%"]
    rows = lines[1:-1]
    assert len(rows) == 11  # ten days and the moments since: eleven buckets
    assert rows[-1].split()[2:] == ["4", "2", "50"]
    assert lines[-1].startswith("at this pace, done around ")
    assert "(between " in lines[-1]
    weekly = cli("burnup", "alice", "--bucket", "week").output.splitlines()
    assert len(weekly) == 1 + 2 + 1


def test_burnup_of_an_unknown_user_or_goal_fails(cli: Any, api_app: Any) -> None:
    _alice_plans(cli, api_app)
    assert "no user named 'nobody'" in cli("burnup", "nobody", ok=False).output
    assert "goal 99 not found" in cli("burnup", "alice", "--goal", "99", ok=False).output
    assert cli("burnup", "alice", "--bucket", "month", ok=False).exit_code == 2
