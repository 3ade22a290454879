"""Completion rules (DESIGN §12) through the services: each rule, its refusals, undo, dry runs.

tests/services/test_completion_model.py checks random sequences against a reference model;
these are the named cases, the bad inputs, and the cost of the rules on deep and large trees.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import select

from overachiever.core.db import db
from overachiever.core.errors import NotFound, OpenDescendants, RuleConflict
from overachiever.goals import service, trash
from overachiever.goals.completion import MAX_LISTED
from overachiever.goals.importing import ImportedNode, import_trees
from overachiever.goals.models import Goal
from overachiever.goals.schemas import GoalPut, ImportFields
from overachiever.history.recording import dry_run
from overachiever.history.undo import undo
from overachiever.legacy import service as legacy
from overachiever.users.models import User
from tests.support.history import (
    assert_record_matches,
    goal_state,
    last_operation,
    operation_changes,
    operations_of,
)
from tests.support.services import RETENTION, T0, Build, MakeGoal, edit, new_goal, to_nodes

H = timedelta(hours=1)


def _started(trees: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Trees whose goals start at T0 unless told (by default a goal starts now, after T0)."""
    return [{"start": T0, **t, "children": _started(t.get("children", []))} for t in trees]


@pytest.fixture
def build(build: Build) -> Build:
    """The conftest's build, with goals starting at T0 unless told."""

    def _build(who: User, trees: list[dict[str, Any]], parent_id: int | None = None) -> list[int]:
        return build(who, _started(trees), parent_id)

    return _build


@pytest.fixture
def make(make: MakeGoal) -> MakeGoal:
    """The conftest's make, with the goal starting at T0 unless told."""

    def _make(who: User, name: str, parent_id: int | None = None, **fields: Any) -> int:
        return make(who, name, parent_id, **{"start": T0, **fields})

    return _make


def end_of(goal_id: int) -> Any:
    return db.session.execute(select(Goal.end).where(Goal.id == goal_id)).scalar_one()


def ends(*ids: int) -> list[Any]:
    return [end_of(i) for i in ids]


def complete(owner: User, goal_id: int, at: Any = T0 + H) -> None:
    service.update_goal(caller=owner, goal_id=goal_id, changes=edit(end=at))


def reopen(owner: User, goal_id: int) -> None:
    service.update_goal(caller=owner, goal_id=goal_id, changes=edit(end=None))


def put(owner: User, goal_id: int, **fields: Any) -> None:
    goal = db.session.get(Goal, goal_id)
    assert goal is not None
    body = {
        "name": goal.name,
        "description": goal.description,
        "parent_id": goal.parent_id,
        "start": goal.start,
        "end": goal.end,
        "due": goal.due,
        **fields,
    }
    service.update_goal(caller=owner, goal_id=goal_id, changes=GoalPut(**body))


def undo_last(owner: User) -> None:
    undo(owner=owner, operation_id=last_operation(owner.id))


# ---------------------------------------------------------------------------- cascade


def test_cascade_gives_open_descendants_its_end_and_leaves_the_rest(
    owner: User, build: Build
) -> None:
    early = T0 - H
    root, a, a1, b, gone = build(
        owner,
        [
            {
                "name": "root",
                "start": T0,
                "completion": "cascade",
                "children": [
                    {"name": "a", "start": T0, "children": [{"name": "a1", "start": T0}]},
                    {"name": "b", "start": early, "end": early},
                    {"name": "gone", "start": T0},
                ],
            }
        ],
    )
    service.trash_goal(caller=owner, goal_id=gone, retention=RETENTION)
    complete(owner, root, T0 + H)
    assert ends(root, a, a1, b, gone) == [T0 + H, T0 + H, T0 + H, early, None]
    assert_record_matches(owner.id)
    # Reopening it reopens nothing else.
    reopen(owner, root)
    assert ends(root, a, a1, b) == [None, T0 + H, T0 + H, early]


def test_cascade_end_before_a_descendants_start_gives_it_its_start(
    owner: User, build: Build
) -> None:
    root, late = build(
        owner,
        [
            {
                "name": "root",
                "start": T0,
                "completion": "cascade",
                "children": [{"name": "late", "start": T0 + 3 * H}],
            }
        ],
    )
    complete(owner, root, T0 + H)
    assert ends(root, late) == [T0 + H, T0 + 3 * H]


def test_a_cascade_created_or_imported_done_closes_its_imported_children(
    owner: User, build: Build
) -> None:
    ids = build(
        owner,
        [
            {
                "name": "done",
                "start": T0,
                "end": T0 + H,
                "completion": "cascade",
                "children": [{"name": "x", "start": T0}, {"name": "y", "start": T0}],
            }
        ],
    )
    assert ends(*ids) == [T0 + H] * 3


def test_a_nearer_cascade_decides_in_an_import(owner: User, build: Build) -> None:
    outer, inner, leaf, other = build(
        owner,
        [
            {
                "name": "outer",
                "start": T0,
                "end": T0 + H,
                "completion": "cascade",
                "children": [
                    {
                        "name": "inner",
                        "start": T0,
                        "end": T0 + 2 * H,
                        "completion": "cascade",
                        "children": [{"name": "leaf", "start": T0}],
                    },
                    {"name": "other", "start": T0},
                ],
            }
        ],
    )
    assert ends(outer, inner, leaf, other) == [T0 + H, T0 + 2 * H, T0 + 2 * H, T0 + H]


def test_restoring_a_done_cascade_goal_completes_nothing(owner: User, make: MakeGoal) -> None:
    """Regression: a done cascade goal coming back from the trash (restore, or undo of the
    trash) was taken for completed again, and closed the descendants that came back open."""
    root = make(owner, "root", start=T0, completion="cascade")
    complete(owner, root)
    child = make(owner, "child", root, start=T0)  # open, under a done cascade goal
    for put_back in (
        lambda: trash.restore(owner=owner, goal_id=root, retention=RETENTION),
        lambda: undo_last(owner),
    ):
        service.trash_goal(caller=owner, goal_id=root, retention=RETENTION)
        put_back()
        assert ends(root, child) == [T0 + H, None]
    assert_record_matches(owner.id)


def test_an_auto_goal_without_children_stays_open_under_a_cascade(
    owner: User, make: MakeGoal
) -> None:
    """Regression: a cascade gave its end to an `auto` descendant without live children,
    which is done only when it has a child and all are done."""
    root = make(owner, "root", start=T0, completion="cascade")
    empty = make(owner, "empty", root, start=T0, completion="auto")
    full = make(owner, "full", root, start=T0, completion="auto")
    leaf = make(owner, "leaf", full, start=T0 + 2 * H)
    complete(owner, root, T0 + H)
    assert ends(root, empty, full, leaf) == [T0 + H, None, T0 + 2 * H, T0 + 2 * H]
    assert_record_matches(owner.id)


def test_cascade_costs_the_same_statements_whatever_the_subtree_size(
    owner: User, build: Build, count_queries: Callable[[], Any]
) -> None:
    counts = []
    for size in (10, 1000):
        [root, *_] = build(
            owner,
            [
                {
                    "name": f"root {size}",
                    "start": T0,
                    "completion": "cascade",
                    "children": [
                        {"name": f"{i}", "start": T0, "children": [{"name": "x", "start": T0}]}
                        for i in range(size // 2)
                    ],
                }
            ],
        )
        with count_queries() as log:
            complete(owner, root)
        counts.append(log.count)
        open_left = db.session.execute(
            select(Goal.id).where(Goal.owner_id == owner.id, Goal.end.is_(None))
        ).all()
        assert open_left == []
    assert counts[0] == counts[1]


# ---------------------------------------------------------------------------- auto


def _auto_with_children(owner: User, build: Build) -> list[int]:
    return build(
        owner,
        [
            {
                "name": "auto",
                "start": T0,
                "completion": "auto",
                "children": [{"name": "a", "start": T0}, {"name": "b", "start": T0}],
            }
        ],
    )


def test_auto_completes_with_its_last_child_and_reopens_with_one(owner: User, build: Build) -> None:
    auto, a, b = _auto_with_children(owner, build)
    complete(owner, a, T0 + 2 * H)
    assert end_of(auto) is None
    complete(owner, b, T0 + H)
    assert end_of(auto) == T0 + 2 * H  # the latest end of its children
    reopen(owner, a)
    assert end_of(auto) is None
    assert_record_matches(owner.id)


def test_auto_reopens_for_an_open_child_created_imported_moved_in_or_restored(
    owner: User, make: MakeGoal, build: Build
) -> None:
    auto, a, b = _auto_with_children(owner, build)
    complete(owner, a)
    complete(owner, b)
    done = T0 + H

    make(owner, "new", auto, start=T0)
    assert end_of(auto) is None
    undo_last(owner)
    assert end_of(auto) == done

    build(owner, [{"name": "imported", "start": T0}], parent_id=auto)
    assert end_of(auto) is None
    undo_last(owner)
    assert end_of(auto) == done

    outside = make(owner, "outside", start=T0)
    service.update_goal(caller=owner, goal_id=outside, changes=edit(parent_id=auto))
    assert end_of(auto) is None
    service.update_goal(caller=owner, goal_id=outside, changes=edit(parent_id=None))
    assert end_of(auto) == done  # moved out again: done again

    service.update_goal(caller=owner, goal_id=outside, changes=edit(parent_id=auto))
    service.trash_goal(caller=owner, goal_id=outside, retention=RETENTION)
    assert end_of(auto) == done  # the open child trashed
    trash.restore(owner=owner, goal_id=outside, retention=RETENTION)
    assert end_of(auto) is None
    assert_record_matches(owner.id)


def test_auto_completes_when_its_last_open_child_is_trashed_or_moved_out(
    owner: User, build: Build
) -> None:
    auto, a, b = _auto_with_children(owner, build)
    complete(owner, a)
    service.trash_goal(caller=owner, goal_id=b, retention=RETENTION)
    assert end_of(auto) == T0 + H
    trash.restore(owner=owner, goal_id=b, retention=RETENTION)
    assert end_of(auto) is None
    service.update_goal(caller=owner, goal_id=b, changes=edit(parent_id=None))
    assert end_of(auto) == T0 + H
    # Its last live child gone, it has none: open.
    service.trash_goal(caller=owner, goal_id=a, retention=RETENTION)
    assert end_of(auto) is None


def test_set_to_auto_it_settles_at_once(owner: User, build: Build, make: MakeGoal) -> None:
    parent, a = build(owner, [{"name": "p", "start": T0, "children": [{"name": "a"}]}])
    complete(owner, a, T0 + 2 * H)
    service.update_goal(caller=owner, goal_id=parent, changes=edit(completion="auto"))
    assert end_of(parent) == T0 + 2 * H
    lonely = make(owner, "lonely", start=T0, end=T0 + H)
    # Done by hand with no child: setting it to auto reopens it.
    put(owner, lonely, completion="auto")
    assert end_of(lonely) is None


def test_auto_runs_up_a_chain_and_its_end_is_never_before_its_start(
    owner: User, build: Build
) -> None:
    top, mid, leaf = build(
        owner,
        [
            {
                "name": "top",
                "start": T0 + 5 * H,
                "completion": "auto",
                "children": [{"name": "mid", "completion": "auto", "children": [{"name": "leaf"}]}],
            }
        ],
    )
    complete(owner, leaf, T0 + H)
    assert ends(top, mid, leaf) == [T0 + 5 * H, T0 + H, T0 + H]
    reopen(owner, leaf)
    assert ends(top, mid, leaf) == [None, None, None]


@pytest.mark.parametrize("how", ["patch", "put", "create", "import"])
def test_an_explicit_end_on_an_auto_goal_is_refused(owner: User, make: MakeGoal, how: str) -> None:
    goal = make(owner, "auto", start=T0, completion="auto")
    before, ops = goal_state(owner.id), len(operations_of(owner.id))
    attempts: dict[str, Callable[[], object]] = {
        "patch": lambda: complete(owner, goal),
        "put": lambda: put(owner, goal, end=T0 + H),
        "create": lambda: service.create_goal(
            caller=owner, goal_in=new_goal(name="x", end=T0 + H, completion="auto")
        ),
        "import": lambda: import_trees(
            caller=owner,
            nodes=to_nodes(
                [{"name": "x", "children": [{"name": "z", "end": T0 + H, "completion": "auto"}]}]
            ),
            parent_id=None,
        ),
    }
    with pytest.raises(RuleConflict):
        attempts[how]()
    assert goal_state(owner.id) == before
    assert len(operations_of(owner.id)) == ops


def test_an_unchanged_end_on_an_auto_goal_is_accepted(owner: User, make: MakeGoal) -> None:
    goal = make(owner, "auto", start=T0, completion="auto")
    put(owner, goal, name="renamed")  # a PUT sends the end it has: no conflict
    service.update_goal(caller=owner, goal_id=goal, changes=edit(end=None))
    # Setting the rule to auto along with an end it already has.
    manual = make(owner, "manual", start=T0)
    service.update_goal(caller=owner, goal_id=manual, changes=edit(completion="auto", end=None))
    assert ends(goal, manual) == [None, None]


def test_a_put_without_completion_keeps_the_rule(owner: User, make: MakeGoal) -> None:
    goal = make(owner, "g", start=T0, completion="strict")
    put(owner, goal, name="renamed")
    assert db.session.get(Goal, goal).completion == "strict"  # type: ignore[union-attr]


def test_a_chain_of_auto_goals_completes_from_its_leaf_in_constant_statements(
    owner: User, count_queries: Callable[[], Any]
) -> None:
    counts = []
    for depth in (100, 10_000):
        # Every goal auto but the leaf (an auto goal without a child stays open).
        nodes = [
            ImportedNode(
                ImportFields(
                    name=f"chain {depth}" if i == 0 else f"{i}",
                    start=T0,
                    completion="auto" if i < depth - 1 else "manual",
                ),
                i - 1 if i else None,
                0,
            )
            for i in range(depth)
        ]
        ids = import_trees(caller=owner, nodes=nodes, parent_id=None)
        with count_queries() as log:
            complete(owner, ids[-1])
        counts.append(log.count)
        assert end_of(ids[0]) == T0 + H
        reopen(owner, ids[-1])
        assert end_of(ids[0]) is None
    assert counts[0] == counts[1]


# ---------------------------------------------------------------------------- strict


def test_strict_refuses_completion_with_open_descendants_and_changes_nothing(
    owner: User, build: Build
) -> None:
    root, a, a1, b = build(
        owner,
        [
            {
                "name": "root",
                "start": T0,
                "completion": "strict",
                "children": [
                    {"name": "a", "start": T0, "end": T0, "children": [{"name": "a1"}]},
                    {"name": "b"},
                ],
            }
        ],
    )
    before, ops = goal_state(owner.id), len(operations_of(owner.id))
    with pytest.raises(OpenDescendants) as refused:
        complete(owner, root)
    assert refused.value.extra["open"] == sorted([a1, b])
    assert goal_state(owner.id) == before
    assert len(operations_of(owner.id)) == ops
    service.trash_goal(caller=owner, goal_id=a1, retention=RETENTION)
    complete(owner, b)
    complete(owner, root)  # a trashed descendant does not count
    assert end_of(root) == T0 + H
    assert a  # (a was done all along)


def test_strict_lists_at_most_100_open_descendants(owner: User, build: Build) -> None:
    [root, *kids] = build(
        owner,
        [
            {
                "name": "root",
                "completion": "strict",
                "children": [{"name": f"{i}"} for i in range(MAX_LISTED + 20)],
            }
        ],
    )
    with pytest.raises(OpenDescendants) as refused:
        complete(owner, root)
    assert refused.value.extra["open"] == sorted(kids)[:MAX_LISTED]


def test_a_strict_goal_done_with_open_descendants_can_be_trashed_and_come_back(
    owner: User, make: MakeGoal
) -> None:
    """Regression: restoring (or undoing the trash of) a done strict goal with an open
    descendant was refused as if it were completed again."""
    root = make(owner, "root", start=T0, completion="strict")
    complete(owner, root)
    child = make(owner, "child", root, start=T0)
    service.trash_goal(caller=owner, goal_id=root, retention=RETENTION)
    trash.restore(owner=owner, goal_id=root, retention=RETENTION)
    service.trash_goal(caller=owner, goal_id=root, retention=RETENTION)
    undo_last(owner)
    assert ends(root, child) == [T0 + H, None]


def test_strict_in_an_import_sees_the_auto_goals_the_import_completes(
    owner: User, build: Build
) -> None:
    """Regression: an import's strict goals were checked before its auto goals settled."""
    strict, auto, leaf = build(
        owner,
        [
            {
                "name": "strict",
                "start": T0,
                "end": T0 + H,
                "completion": "strict",
                "children": [
                    {
                        "name": "auto",
                        "start": T0,
                        "completion": "auto",
                        "children": [{"name": "leaf", "start": T0, "end": T0 + H}],
                    }
                ],
            }
        ],
    )
    assert ends(strict, auto, leaf) == [T0 + H] * 3


# ---------------------------------------------------------------------------- v1.0, undo


def test_v1_completion_follows_the_rules(owner: User, build: Build) -> None:
    strict, still_open, cascade, auto, leaf = build(
        owner,
        [
            {"name": "strict", "completion": "strict", "children": [{"name": "open"}]},
            {
                "name": "cascade",
                "completion": "cascade",
                "children": [{"name": "auto", "completion": "auto", "children": [{"name": "l"}]}],
            },
        ],
    )
    with pytest.raises(OpenDescendants) as refused:
        legacy.complete_goal(owner, None, "strict")
    assert refused.value.extra["open"] == [still_open]
    legacy.complete_goal(owner, None, "cascade")
    done = end_of(cascade)
    assert done is not None
    assert ends(auto, leaf) == [done, done]
    with pytest.raises(RuleConflict):
        legacy.complete_goal(owner, None, "auto")
    assert end_of(strict) is None


def test_one_undo_reverts_a_cascade_and_its_auto_effects(owner: User, build: Build) -> None:
    top, root, a, b, c = build(
        owner,
        [
            {
                "name": "top",
                "completion": "auto",
                "start": T0,
                "children": [
                    {
                        "name": "root",
                        "start": T0,
                        "completion": "cascade",
                        "children": [
                            {"name": "a", "completion": "auto", "children": [{"name": "b"}]},
                            {"name": "c", "start": T0 - H, "end": T0 - H},
                        ],
                    }
                ],
            }
        ],
    )
    before = goal_state(owner.id)
    complete(owner, root)
    assert ends(top, root, a, b, c) == [T0 + H, T0 + H, T0 + H, T0 + H, T0 - H]
    operation = operations_of(owner.id)[-1]
    assert (operation.kind, len(operations_of(owner.id))) == ("update", 2)
    undo_last(owner)
    assert goal_state(owner.id) == before
    assert_record_matches(owner.id)


def test_undoing_a_reopen_completes_again_by_the_rules(owner: User, make: MakeGoal) -> None:
    """An undo puts goals back, then the rules apply as to any change: a cascade goal that an
    undo completes again gives its end to the descendants open now."""
    root = make(owner, "root", start=T0, completion="cascade")
    complete(owner, root)
    reopen(owner, root)
    child = make(owner, "child", root, start=T0)
    undo_id = operations_of(owner.id)[-2].id  # the reopen
    undo(owner=owner, operation_id=undo_id)
    assert ends(root, child) == [T0 + H, T0 + H]
    assert_record_matches(owner.id)


# ---------------------------------------------------------------------------- dry runs


def _as_counter(changes: list[dict[str, Any]]) -> Counter[tuple[Any, ...]]:
    return Counter((c["goal_id"], c["field"], repr(c["before"]), repr(c["after"])) for c in changes)


def _dry_then_real(owner: User, call: Callable[[], object]) -> list[dict[str, Any]]:
    """The dry run stores nothing, and plans exactly the changes the real call records."""
    before, ops = goal_state(owner.id), len(operations_of(owner.id))
    planned = dry_run(call)
    db.session.rollback()
    assert goal_state(owner.id) == before
    assert len(operations_of(owner.id)) == ops
    call()
    assert len(operations_of(owner.id)) == ops + 1
    assert _as_counter(planned) == _as_counter(operation_changes(owner, last_operation(owner.id)))
    return planned


def test_dry_runs_plan_what_the_real_change_records(owner: User, build: Build) -> None:
    top, root, a, b = build(
        owner,
        [
            {
                "name": "top",
                "completion": "auto",
                "start": T0,
                "children": [
                    {
                        "name": "root",
                        "start": T0,
                        "completion": "cascade",
                        "children": [{"name": "a", "start": T0}, {"name": "b", "start": T0}],
                    }
                ],
            }
        ],
    )
    # update: the cascade and the auto parent are planned too
    planned = _dry_then_real(owner, lambda: complete(owner, root))
    assert {(c["goal_id"], c["field"]) for c in planned} == {
        (top, "end"),
        (root, "end"),
        (a, "end"),
        (b, "end"),
    }
    # put
    _dry_then_real(owner, lambda: put(owner, a, end=None, name="a again"))
    # create, at a position (its siblings move)
    created = _dry_then_real(
        owner,
        lambda: service.create_goal(
            caller=owner, goal_in=new_goal(name="new", parent_id=root, position=0, start=T0)
        ),
    )
    assert {c["goal_id"] for c in created} >= {None, a, b}
    # import: a goal to be created has goal_id null, and parent_id null under a new parent
    imported = _dry_then_real(
        owner,
        lambda: import_trees(
            caller=owner,
            nodes=to_nodes(_started([{"name": "tree", "children": [{"name": "leaf"}]}])),
            parent_id=top,
        ),
    )
    parents = [c["after"] for c in imported if c["field"] == "parent_id"]
    assert parents == [top]  # the leaf's parent is new: no parent_id change listed
    assert all(c["goal_id"] is None for c in imported if c["field"] == "name")
    # delete: the trash of a subtree, and the auto parent it reopens or completes
    trashed = _dry_then_real(
        owner,
        lambda: service.trash_goal(caller=owner, goal_id=root, retention=RETENTION),
    )
    assert {(c["field"], c["before"], c["after"]) for c in trashed if c["goal_id"] == root} == {
        ("trashed", False, True)
    }


def test_a_refused_dry_run_raises_as_the_real_change(owner: User, make: MakeGoal) -> None:
    root = make(owner, "root", start=T0, completion="strict")
    make(owner, "child", root)
    auto = make(owner, "auto", completion="auto")
    before = goal_state(owner.id)
    with pytest.raises(OpenDescendants):
        dry_run(lambda: complete(owner, root))
    with pytest.raises(RuleConflict):
        dry_run(lambda: put(owner, auto, end=T0 + H))
    with pytest.raises(RuleConflict):
        dry_run(
            lambda: service.create_goal(
                caller=owner, goal_in=new_goal(name="x", end=T0 + H, completion="auto")
            )
        )
    with pytest.raises(NotFound):
        dry_run(lambda: service.trash_goal(caller=owner, goal_id=10**9, retention=RETENTION))
    db.session.rollback()
    assert goal_state(owner.id) == before
