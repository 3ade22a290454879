"""Service-level helpers: goal builders, trees as import nodes, counts, statement logs."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from datetime import UTC, datetime, timedelta
from typing import Any, TypeVar

from pydantic import BaseModel, ValidationError
from sqlalchemy import func, select

from overachiever.config import Settings
from overachiever.core.db import db
from overachiever.core.errors import Invalid
from overachiever.goals import service
from overachiever.goals.importing import ImportedNode, import_trees
from overachiever.goals.models import Goal
from overachiever.goals.results import GoalResult
from overachiever.goals.schemas import GoalCreate, GoalListQuery, GoalPatch, ImportFields
from overachiever.goals.tree import Forest
from overachiever.users.models import User

T0 = datetime(2024, 1, 1, tzinfo=UTC)
# How long the trash keeps goals, as the server is configured by default.
RETENTION = timedelta(days=Settings.defaults().trash_days)
CHAIN = 10_000
# The `make` fixture: make(who, name, parent_id=None, **fields) -> the new goal's id.
MakeGoal = Callable[..., int]
# The `build` fixture: build(who, trees, parent_id=None) -> the new ids in pre-order.
Build = Callable[..., list[int]]
ModelT = TypeVar("ModelT", bound=BaseModel)


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


def bulk_create_chain(owner: User, names: Iterable[str]) -> list[int]:
    """Create a chain of goals, each under the previous one, in one import; returns their ids."""
    nodes = [
        ImportedNode(ImportFields(name=n), i - 1 if i else None, 0) for i, n in enumerate(names)
    ]
    return import_trees(caller=owner, nodes=nodes, parent_id=None)


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
    """How many live goals the user has."""
    return int(
        db.session.execute(
            select(func.count())
            .select_from(Goal)
            .where(Goal.owner_id == who.id, Goal.deleted_at.is_(None))
        ).scalar_one()
    )


def all_count(who: User) -> int:
    """How many goals the user has, trash included."""
    return int(
        db.session.execute(
            select(func.count()).select_from(Goal).where(Goal.owner_id == who.id)
        ).scalar_one()
    )


def names(results: list[GoalResult]) -> list[str]:
    """The goals' names, in order."""
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
        """How many statements were sent."""
        return len(self.statements)
