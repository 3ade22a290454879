"""`overachiever history`: a user's operations, or one goal's events, in words."""

from __future__ import annotations

from typing import Any

from overachiever.goals import service
from overachiever.goals.schemas import GoalCreate, GoalPatch
from overachiever.users.service import find_by_name


def _alice_paints(cli: Any, api_app: Any) -> int:
    """Alice, made by the CLI, creates "Paint" and renames it; returns its id."""
    cli("users", "create", "alice", "--email", "a@example.com", "--password", "long enough pw")
    with api_app.app_context():
        alice = find_by_name("alice")
        goal = service.create_goal(caller=alice, goal_in=GoalCreate(name="Paint")).goal.id
        service.update_goal(caller=alice, goal_id=goal, changes=GoalPatch(name="Paint walls"))
    return int(goal)


def test_history_lists_operations_and_a_goals_events(cli: Any, api_app: Any) -> None:
    goal = _alice_paints(cli, api_app)
    ops = cli("history", "alice").output.splitlines()
    assert len(ops) == 2
    assert "alice: update, 1 goal(s)" in ops[0]
    assert "alice: create, 1 goal(s)" in ops[1]
    events = cli("history", "alice", "--goal", str(goal)).output.splitlines()
    assert events[0].endswith("alice renamed 'Paint' to 'Paint walls'")
    assert events[1].endswith("alice created 'Paint'")
    limited = cli("history", "alice", "--limit", "1")
    assert len(limited.stdout.splitlines()) == 1
    assert "1 older not shown" in limited.stderr


def test_history_of_an_unknown_user_or_goal_fails(cli: Any, api_app: Any) -> None:
    _alice_paints(cli, api_app)
    assert "no user named 'nobody'" in cli("history", "nobody", ok=False).output
    assert "goal 99 not found" in cli("history", "alice", "--goal", "99", ok=False).output
