"""Demo data: the article's users and goals, or a generated forest of any size."""

from __future__ import annotations

import sys
from typing import Any

import click
from sqlalchemy import func, insert, select

from .core.db import db
from .core.errors import Conflict, NotFound
from .core.types import utcnow
from .goals.models import Goal
from .history.recording import operation
from .users import service as users
from .users.models import User

DEMO_PASSWORD = "overachiever"  # noqa: S105  (documented demo credentials)

# The article's fixture: (name, parent name) per user, in creation order.
ARTICLE_GOALS: dict[str, list[tuple[str, str | None]]] = {
    "user-1": [
        ("goal-0", None),
        ("goal-1", None),
        ("goal-2", "goal-1"),
        ("goal-3", "goal-1"),
        ("goal-4", "goal-3"),
        ("goal-5", "goal-3"),
        ("goal-6", "goal-3"),
    ],
    "user-2": [("goal-7", None)],
    "user-3": [],
}


def _user(name: str) -> User:
    try:
        return users.find_by_name(name)
    except NotFound:
        return users.create_user(name, f"{name}@example.com", DEMO_PASSWORD, via_cli=True)


def load_article() -> User:
    """Create the article's users and goals (user-1..3, goal-0..7) where missing; returns user-1."""
    from .goals import service as goal_service
    from .goals.schemas import GoalCreate

    for user_name, specs in ARTICLE_GOALS.items():
        owner = _user(user_name)
        ids: dict[str | None, int | None] = {None: None}
        existing = {
            (g.name, g.parent_id): g.id
            for g in db.session.execute(
                select(Goal).where(Goal.owner_id == owner.id, Goal.deleted_at.is_(None))
            ).scalars()
        }
        for goal_name, parent_name in specs:
            parent_id = ids[parent_name]
            found = existing.get((goal_name, parent_id))
            if not found:
                goal_in = GoalCreate(name=goal_name, parent_id=parent_id)
                found = goal_service.create_goal(caller=owner, goal_in=goal_in).goal.id
            ids[goal_name] = found
    click.echo(f"demo users user-1, user-2, user-3 (password {DEMO_PASSWORD!r})", err=True)
    return users.find_by_name("user-1")


def generate(user_name: str, count: int, fanout: int = 10, batch: int = 2000) -> User:
    """Give a user `count` new goals in a `fanout`-ary forest, every third one done."""
    owner = _user(user_name)
    has_goals = db.session.execute(
        select(func.count()).where(Goal.owner_id == owner.id)
    ).scalar_one()
    if has_goals:
        raise Conflict(f"user {user_name!r} already has goals; pick another with --user")
    now = utcnow()
    ids: list[int] = []
    stderr = sys.stderr
    bar: Any
    with click.progressbar(length=count, label=f"creating {count} goals", file=stderr) as bar:
        first = 0
        while first < count:
            # A batch only holds goals whose parents are already inserted (they need the ids):
            # goal i's parent is goal i // fanout - 1, so stop before ((inserted + 1) * fanout).
            stop = min(first + batch, count, (len(ids) + 1) * fanout)
            rows = []
            for i in range(first, stop):
                # Breadth-first numbering: the parent of goal i (past the first `fanout` roots).
                parent = ids[(i - fanout) // fanout] if i >= fanout else None
                rows.append(
                    {
                        "owner_id": owner.id,
                        "parent_id": parent,
                        "name": f"goal-{i}",
                        "description": "",
                        "start": now,
                        "end": now if i % 3 == 2 else None,
                        "due": None,
                        "position": i % fanout,
                        "created_at": now,
                        "updated_at": now,
                        "version": 1,
                    }
                )
            with operation(owner.id, kind="import", actor_id=owner.id) as stamp:
                for row in rows:
                    row["operation_id"] = stamp.id
                result = db.session.execute(
                    insert(Goal).returning(Goal.id, sort_by_parameter_order=True), rows
                )
                ids.extend(result.scalars().all())
            bar.update(len(rows))
            first = stop
    return owner
