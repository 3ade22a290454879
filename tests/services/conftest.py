"""Fixtures for service-level tests: an app context, users made directly, goal builders."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from typing import Any, TypeVar

import pytest
from pydantic import BaseModel, ValidationError
from sqlalchemy import event, func, select

from overachiever.config import Config
from overachiever.core.db import db
from overachiever.core.errors import Invalid
from overachiever.goals import service
from overachiever.goals.importing import ImportedNode, import_trees
from overachiever.goals.models import Goal
from overachiever.goals.results import GoalResult
from overachiever.goals.schemas import GoalCreate, GoalListQuery, GoalPatch, ImportFields
from overachiever.goals.tree import Forest
from overachiever.users.models import User
from overachiever.users.service import create_user
from tests.helpers import bulk_create_chain

PASSWORD = "correct horse battery"
T0 = datetime(2024, 1, 1, tzinfo=UTC)
# How long the trash keeps goals, as the server is configured by default.
RETENTION = timedelta(days=Config.TRASH_RETENTION_DAYS)
Build = Callable[..., list[int]]
ModelT = TypeVar("ModelT", bound=BaseModel)


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
        return int(service.create_goal(owner=who, goal_in=GoalCreate(**data)).goal.id)

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
        nodes.append(ImportedNode(ImportFields(**fields), parent, position))
        for i, child in reversed(list(enumerate(tree.get("children", [])))):
            stack.append((child, index, i))
    return nodes


@pytest.fixture
def build(ctx: Any) -> Callable[..., list[int]]:
    """Import nested trees through the service; returns the new ids in pre-order."""

    def _build(who: User, trees: list[dict[str, Any]], parent_id: int | None = None) -> list[int]:
        return import_trees(owner=who, nodes=to_nodes(trees), parent_id=parent_id)

    return _build


CHAIN = 10_000


@pytest.fixture
def chain(owner: User) -> list[int]:
    """A chain of 10 000 goals, each under the previous one."""
    ids = bulk_create_chain(owner, (f"level {i}" for i in range(CHAIN)))
    assert len(ids) == CHAIN
    return ids


def _validated(model: type[ModelT], fields: dict[str, Any]) -> ModelT:
    # As a request body: a value the schema refuses is invalid input (a 422).
    try:
        return model.model_validate(fields)
    except ValidationError as exc:
        raise Invalid(str(exc)) from exc


def new_goal(**fields: Any) -> GoalCreate:
    """A new goal's fields, validated as POST /goals validates its body."""
    return _validated(GoalCreate, fields)


def edit(**fields: Any) -> GoalPatch:
    """Changes to a goal, validated as PATCH /goals/{id} validates its body."""
    return _validated(GoalPatch, fields)


def live_count(who: User) -> int:
    return int(
        db.session.execute(
            select(func.count())
            .select_from(Goal)
            .where(Goal.owner_id == who.id, Goal.deleted_at.is_(None))
        ).scalar_one()
    )


def all_count(who: User) -> int:
    return int(
        db.session.execute(
            select(func.count()).select_from(Goal).where(Goal.owner_id == who.id)
        ).scalar_one()
    )


def names(results: list[GoalResult]) -> list[str]:
    return [r.goal.name for r in results]


def children(who: User, parent: int | str = "root") -> list[str]:
    """Names of a parent's live children in sibling order."""
    results, _ = service.list_goals(owner=who, query=GoalListQuery(parent=str(parent), limit=500))
    return names(results)


def shape(forest: Forest) -> list[Any]:
    """The forest as nested [name, [children...]] lists (small trees only)."""

    def one(goal_id: int) -> list[Any]:
        return [forest.rows[goal_id].name, [one(k) for k in forest.children.get(goal_id, [])]]

    return [one(r) for r in forest.roots]


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
