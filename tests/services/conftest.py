"""Fixtures for service-level tests: an app context, users made directly, goal builders."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import pytest
from sqlalchemy import event

from overachiever.core.db import db
from overachiever.goals import service
from overachiever.goals.service import ImportedNode
from overachiever.users.models import User
from overachiever.users.service import create_user

PASSWORD = "correct horse battery"


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


MakeGoal = Callable[..., int]


@pytest.fixture
def make(ctx: Any) -> MakeGoal:
    """Create a goal through the service; returns its id."""

    def _make(who: User, name: str, parent_id: int | None = None, **fields: Any) -> int:
        data: dict[str, Any] = {"name": name, **fields}
        if parent_id is not None:
            data["parent_id"] = parent_id
        return int(service.create_goal(who, data).goal.id)

    return _make


def to_nodes(trees: list[dict[str, Any]]) -> list[ImportedNode]:
    """Nested {name, children, ...} dicts as pre-order ImportedNodes (iteratively)."""
    nodes: list[ImportedNode] = []
    stack: list[tuple[dict[str, Any], int | None, int]] = [
        (tree, None, i) for i, tree in reversed(list(enumerate(trees)))
    ]
    while stack:
        tree, parent, position = stack.pop()
        index = len(nodes)
        fields = {k: v for k, v in tree.items() if k != "children"}
        nodes.append(ImportedNode(fields, parent, position))
        for i, child in reversed(list(enumerate(tree.get("children", [])))):
            stack.append((child, index, i))
    return nodes


@pytest.fixture
def build(ctx: Any) -> Callable[..., list[int]]:
    """Import nested trees through the service; returns the new ids in pre-order."""

    def _build(who: User, trees: list[dict[str, Any]], parent_id: int | None = None) -> list[int]:
        return service.import_trees(who, to_nodes(trees), parent_id)

    return _build


class QueryLog:
    """SQL statements sent while counting; transaction control is left out."""

    def __init__(self) -> None:
        self.statements: list[str] = []

    @property
    def count(self) -> int:
        return len(self.statements)


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
