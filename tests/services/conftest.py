"""Fixtures for service-level tests: an app context, users made directly, goal builders."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import pytest
from sqlalchemy import event

from overachiever.core.db import db
from overachiever.goals import service
from overachiever.goals.importing import import_trees
from overachiever.goals.schemas import GoalCreate
from overachiever.users.models import User
from overachiever.users.service import create_user
from tests.support.accounts import PASSWORD
from tests.support.services import CHAIN, MakeGoal, QueryLog, bulk_create_chain, to_nodes


@pytest.fixture
def ctx(app: Any) -> Iterator[Any]:
    """An application context for the whole test (service calls need one)."""
    with app.app_context():
        yield app
        db.session.remove()


@pytest.fixture
def owner(ctx: Any) -> User:
    """The first user (an admin), made through the user service."""
    return create_user("owner", "owner@example.com", PASSWORD, via_cli=True)


@pytest.fixture
def other(owner: User) -> User:
    """A second user, whose goals the owner must never reach."""
    return create_user("other", "other@example.com", PASSWORD, via_cli=True)


@pytest.fixture
def make(ctx: Any) -> MakeGoal:
    """Create a goal through the service; returns its id."""

    def _make(who: User, name: str, parent_id: int | None = None, **fields: Any) -> int:
        data: dict[str, Any] = {"name": name, **fields}
        if parent_id is not None:
            data["parent_id"] = parent_id
        return int(service.create_goal(caller=who, goal_in=GoalCreate(**data)).goal.id)

    return _make


@pytest.fixture
def build(ctx: Any) -> Callable[..., list[int]]:
    """Import nested trees through the service; returns the new ids in pre-order."""

    def _build(who: User, trees: list[dict[str, Any]], parent_id: int | None = None) -> list[int]:
        return import_trees(caller=who, nodes=to_nodes(trees), parent_id=parent_id)

    return _build


@pytest.fixture
def chain(owner: User) -> list[int]:
    """A chain of 10 000 goals, each under the previous one."""
    ids = bulk_create_chain(owner, (f"level {i}" for i in range(CHAIN)))
    assert len(ids) == CHAIN
    return ids


@pytest.fixture
def count_queries(ctx: Any) -> Callable[[], Any]:
    """A context manager that records the SQL statements run inside it."""

    @contextmanager
    def _count() -> Iterator[QueryLog]:
        log = QueryLog()
        # Start from no open transaction, so every measured call is in the same state.
        db.session.commit()

        def _before(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
            word = statement.lstrip().split(None, 1)[0].upper() if statement.strip() else ""
            if word not in ("BEGIN", "COMMIT", "ROLLBACK", "SAVEPOINT", "RELEASE"):
                log.statements.append(statement)

        event.listen(db.engine, "before_cursor_execute", _before)
        try:
            yield log
        finally:
            event.remove(db.engine, "before_cursor_execute", _before)

    return _count
