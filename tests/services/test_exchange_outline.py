"""The export's walk (goals.outline via service.outline): the same goals, order, depths and
progress as the forest read, for a forest and a subtree, and a trashed or foreign root refused."""

from __future__ import annotations

from typing import Any

import orjson
import pytest
from hypothesis import HealthCheck, assume, given, settings

from overachiever.core.db import db
from overachiever.core.errors import NotFound
from overachiever.goals import service
from overachiever.goals.tree import flat_json
from tests.support.exchange_forests import build_forest, forests, new_user
from tests.support.services import CHAIN, RETENTION, bulk_create_chain


def _outline(owner: Any, goal_id: int | None = None) -> list[tuple[Any, ...]]:
    return [
        (g.id, g.parent_id, g.depth, g.name, g.progress)
        for g in service.outline(caller=owner, goal_id=goal_id)
    ]


def _flat(forest: Any, **options: Any) -> list[tuple[Any, ...]]:
    items = orjson.loads(b"".join(flat_json(forest, **options)))["items"]
    return [(i["id"], i["parent_id"], i["depth"], i["name"], i["progress"]) for i in items]


@settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)
@given(goals=forests(most=20))
def test_the_walk_is_the_forest_read_in_pre_order(ctx: Any, goals: list[dict[str, Any]]) -> None:
    owner = new_user()
    assume(build_forest(owner, goals))
    assert _outline(owner) == _flat(service.forest(owner=owner))
    top = service.forest(owner=owner).roots[0]
    subtree = _flat(service.subtree(caller=owner, goal_id=top), pin_roots=True)
    subtree[0] = (*subtree[0][:1], None, *subtree[0][2:])  # the export's root has no parent
    assert _outline(owner, top) == subtree
    db.session.remove()


def test_a_deep_chain_walks_without_recursion(ctx: Any) -> None:
    owner = new_user()
    ids = bulk_create_chain(owner, [f"step {i}" for i in range(CHAIN)])
    walked = _outline(owner, ids[1])
    assert [w[0] for w in walked] == ids[1:]
    assert walked[-1][2] == CHAIN - 2


def test_the_goals_fields_are_read_by_id(ctx: Any, make: Any) -> None:
    owner = new_user()
    top = make(owner, "top", description="text\nmore", completion="cascade")
    (goal,) = service.outline(caller=owner, goal_id=top)
    assert (goal.description, goal.completion, goal.end, goal.due) == (
        "text\nmore",
        "cascade",
        None,
        None,
    )


def test_a_root_not_the_callers_live_goal_is_refused_at_once(ctx: Any, make: Any) -> None:
    owner, other = new_user(), new_user()
    mine = make(owner, "mine")
    with pytest.raises(NotFound):
        service.outline(caller=other, goal_id=mine)
    service.trash_goal(caller=owner, goal_id=mine, retention=RETENTION)
    with pytest.raises(NotFound):
        service.outline(caller=owner, goal_id=mine)
    assert list(service.outline(caller=owner)) == []
