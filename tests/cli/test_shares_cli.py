"""`overachiever shares`: share a goal, list shares both ways, remove one."""

from __future__ import annotations

from typing import Any

from overachiever.goals import service
from overachiever.goals.schemas import GoalCreate
from overachiever.users.service import find_by_name


def _people(cli: Any, api_app: Any) -> int:
    """Alice and Bob, made by the CLI; Alice has a goal "Move"; returns its id."""
    for name in ("alice", "bob"):
        cli("users", "create", name, "--email", f"{name}@example.com", "--password", "long pw 12")
    with api_app.app_context():
        alice = find_by_name("alice")
        return int(service.create_goal(caller=alice, goal_in=GoalCreate(name="Move")).goal.id)


def test_share_list_change_and_remove(cli: Any, api_app: Any) -> None:
    goal = _people(cli, api_app)
    made = cli("shares", "add", "alice", str(goal), "bob@example.com", "--role", "editor")
    assert f"goal {goal} shared with bob as editor" in made.output
    share_id = made.output.split(":", 1)[0].split()[-1]
    assert (
        f"goal {goal} now with bob as viewer"
        in cli("shares", "add", "alice", str(goal), "bob").output
    )
    mine = cli("shares", "list", "alice", "--goal", str(goal)).output.split()
    assert mine == [share_id, "viewer", "bob"]
    assert cli("shares", "list", "bob").output.split() == [str(goal), "viewer", "alice:", "Move"]
    # Bob leaves it.
    assert "removed" in cli("shares", "remove", "bob", str(goal), share_id).output
    assert cli("shares", "list", "bob").output == ""


def test_bad_shares_fail_with_the_reason(cli: Any, api_app: Any) -> None:
    goal = _people(cli, api_app)
    refused = cli("shares", "add", "alice", str(goal), "nobody", ok=False).output
    assert "no user is named or has the e-mail address 'nobody'" in refused
    assert "not found" in cli("shares", "add", "bob", str(goal), "alice", ok=False).output
    assert "not found" in cli("shares", "remove", "alice", str(goal), "99", ok=False).output
