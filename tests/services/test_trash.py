"""Service-level tests of the trash: listing, restore, purge and the retention period."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import update

from overachiever.core.db import db
from overachiever.core.errors import NameConflict, NotFound
from overachiever.goals import service
from overachiever.goals import trash as goal_trash
from overachiever.goals.models import Goal
from overachiever.goals.schemas import GoalListQuery
from overachiever.users.models import User
from tests.support.services import (
    CHAIN,
    RETENTION,
    T0,
    Build,
    MakeGoal,
    all_count,
    edit,
    live_count,
    new_goal,
)

# ---------------------------------------------------------------------------- trash


def test_trash_hides_the_whole_subtree(owner: User, build: Build) -> None:
    top, a, a1, b, keep = build(
        owner,
        [
            {
                "name": "top",
                "children": [{"name": "a", "children": [{"name": "a1"}]}, {"name": "b"}],
            },
            {"name": "keep"},
        ],
    )
    before = datetime.now(UTC)
    service.trash_goal(caller=owner, goal_id=a, retention=RETENTION)
    after = datetime.now(UTC)
    assert set(service.forest(owner=owner).rows) == {top, b, keep}
    for gone in (a, a1):
        with pytest.raises(NotFound):
            service.get_goal(caller=owner, goal_id=gone)
        with pytest.raises(NotFound):
            service.update_goal(caller=owner, goal_id=gone, changes=edit(name="again"))
        with pytest.raises(NotFound):
            service.trash_goal(caller=owner, goal_id=gone, retention=RETENTION)
    assert service.get_goal(caller=owner, goal_id=top).stats.descendants_count == 1
    trash = goal_trash.list_trash(owner=owner, retention=RETENTION)
    assert len(trash) == 1
    item = trash[0]
    assert (item["id"], item["name"], item["parent_id"], item["goals_count"]) == (a, "a", top, 2)
    assert before <= item["deleted_at"] <= after
    assert item["purge_at"] == item["deleted_at"] + timedelta(days=30)
    # A child cannot be put under a trashed goal, nor a goal moved there.
    with pytest.raises(NotFound):
        service.create_goal(caller=owner, goal_in=new_goal(name="n", parent_id=a))
    with pytest.raises(NotFound):
        service.update_goal(caller=owner, goal_id=keep, changes=edit(parent_id=a1))


def test_list_trash_newest_first(owner: User, make: MakeGoal) -> None:
    first = make(owner, "first")
    second = make(owner, "second")
    service.trash_goal(caller=owner, goal_id=first, retention=RETENTION)
    service.trash_goal(caller=owner, goal_id=second, retention=RETENTION)
    assert [t["id"] for t in goal_trash.list_trash(owner=owner, retention=RETENTION)] == [
        second,
        first,
    ]


def test_restore_puts_the_subtree_back_with_the_same_ids(owner: User, build: Build) -> None:
    ids = build(
        owner,
        [
            {
                "name": "top",
                "children": [
                    {"name": "first"},
                    {"name": "a", "children": [{"name": "a1", "end": T0}, {"name": "a2"}]},
                    {"name": "last"},
                ],
            }
        ],
    )
    top, first, a, a1, a2, last = ids
    before = service.get_goal(caller=owner, goal_id=a).goal.version
    service.trash_goal(caller=owner, goal_id=a, retention=RETENTION)
    view = goal_trash.restore(owner=owner, goal_id=a, retention=RETENTION)
    assert view.goal.id == a
    assert view.goal.parent_id == top
    assert view.goal.version > before
    assert view.stats.progress == 0.5
    forest = service.forest(owner=owner)
    assert set(forest.rows) == set(ids)
    assert forest.children[top] == [first, a, last]  # back in its old place
    assert forest.children[a] == [a1, a2]
    assert goal_trash.list_trash(owner=owner, retention=RETENTION) == []
    assert service.get_goal(caller=owner, goal_id=a1).goal.end == T0


def test_restore_under_a_trashed_parent_goes_to_top_level(owner: User, build: Build) -> None:
    top, child, grandchild = build(
        owner, [{"name": "top", "children": [{"name": "c", "children": [{"name": "g"}]}]}]
    )
    service.trash_goal(caller=owner, goal_id=child, retention=RETENTION)
    service.trash_goal(caller=owner, goal_id=top, retention=RETENTION)
    view = goal_trash.restore(owner=owner, goal_id=child, retention=RETENTION)
    assert view.goal.parent_id is None
    assert service.forest(owner=owner).roots == [child]
    assert service.forest(owner=owner).children[child] == [grandchild]
    assert [t["id"] for t in goal_trash.list_trash(owner=owner, retention=RETENTION)] == [top]
    assert goal_trash.list_trash(owner=owner, retention=RETENTION)[0]["goals_count"] == 1
    # Then the parent comes back alone; the child stays where it went.
    goal_trash.restore(owner=owner, goal_id=top, retention=RETENTION)
    forest = service.forest(owner=owner)
    assert set(forest.roots) == {child, top}
    assert top not in forest.children
    assert service.get_goal(caller=owner, goal_id=child).goal.parent_id is None


def test_child_restored_after_its_parent_goes_back_under_it(owner: User, build: Build) -> None:
    top, child, grandchild, sibling = build(
        owner,
        [
            {
                "name": "top",
                "children": [{"name": "c", "children": [{"name": "g"}]}, {"name": "s"}],
            }
        ],
    )
    service.trash_goal(caller=owner, goal_id=child, retention=RETENTION)
    service.trash_goal(caller=owner, goal_id=top, retention=RETENTION)
    trash = {
        t["id"]: t["goals_count"] for t in goal_trash.list_trash(owner=owner, retention=RETENTION)
    }
    assert trash == {child: 2, top: 2}
    goal_trash.restore(owner=owner, goal_id=top, retention=RETENTION)
    forest = service.forest(owner=owner)
    assert set(forest.rows) == {top, sibling}
    assert [t["id"] for t in goal_trash.list_trash(owner=owner, retention=RETENTION)] == [child]
    view = goal_trash.restore(owner=owner, goal_id=child, retention=RETENTION)
    assert view.goal.parent_id == top
    forest = service.forest(owner=owner)
    assert set(forest.rows) == {top, child, grandchild, sibling}
    assert forest.children[top] == [child, sibling]
    assert goal_trash.list_trash(owner=owner, retention=RETENTION) == []


def test_restore_name_clash_restores_nothing(owner: User, build: Build, make: MakeGoal) -> None:
    top, a, a1 = build(
        owner, [{"name": "top", "children": [{"name": "a", "children": [{"name": "a1"}]}]}]
    )
    service.trash_goal(caller=owner, goal_id=a, retention=RETENTION)
    make(owner, "a", top)
    with pytest.raises(NameConflict):
        goal_trash.restore(owner=owner, goal_id=a, retention=RETENTION)
    assert [t["id"] for t in goal_trash.list_trash(owner=owner, retention=RETENTION)] == [a]
    assert a1 not in service.forest(owner=owner).rows
    # The clash is among the siblings it would rejoin: at the top level too.
    service.trash_goal(caller=owner, goal_id=top, retention=RETENTION)
    make(owner, "a")
    with pytest.raises(NameConflict):
        goal_trash.restore(owner=owner, goal_id=a, retention=RETENTION)
    assert live_count(owner) == 1


def test_restore_and_purge_need_a_trash_root(owner: User, build: Build) -> None:
    top, child = build(owner, [{"name": "top", "children": [{"name": "c"}]}])
    with pytest.raises(NotFound):
        goal_trash.restore(owner=owner, goal_id=top, retention=RETENTION)  # live
    with pytest.raises(NotFound):
        goal_trash.purge(owner=owner, goal_id=top)
    service.trash_goal(caller=owner, goal_id=top, retention=RETENTION)
    with pytest.raises(NotFound):
        goal_trash.restore(
            owner=owner, goal_id=child, retention=RETENTION
        )  # inside a trashed subtree, not its root
    with pytest.raises(NotFound):
        goal_trash.purge(owner=owner, goal_id=child)
    with pytest.raises(NotFound):
        goal_trash.restore(owner=owner, goal_id=424242, retention=RETENTION)


def test_purge_deletes_for_good(owner: User, build: Build, make: MakeGoal) -> None:
    keep = make(owner, "keep")
    top, _a, _b = build(owner, [{"name": "top", "children": [{"name": "a"}, {"name": "b"}]}])
    service.trash_goal(caller=owner, goal_id=top, retention=RETENTION)
    assert all_count(owner) == 4
    goal_trash.purge(owner=owner, goal_id=top)
    assert all_count(owner) == 1
    assert goal_trash.list_trash(owner=owner, retention=RETENTION) == []
    with pytest.raises(NotFound):
        goal_trash.restore(owner=owner, goal_id=top, retention=RETENTION)
    assert set(service.forest(owner=owner).rows) == {keep}


def test_purging_a_parent_keeps_a_separately_trashed_child(owner: User, build: Build) -> None:
    top, child, grandchild = build(
        owner, [{"name": "top", "children": [{"name": "c", "children": [{"name": "g"}]}]}]
    )
    service.trash_goal(caller=owner, goal_id=child, retention=RETENTION)
    service.trash_goal(caller=owner, goal_id=top, retention=RETENTION)
    goal_trash.purge(owner=owner, goal_id=top)
    assert [t["id"] for t in goal_trash.list_trash(owner=owner, retention=RETENTION)] == [child]
    view = goal_trash.restore(owner=owner, goal_id=child, retention=RETENTION)
    assert view.goal.parent_id is None
    assert set(service.forest(owner=owner).rows) == {child, grandchild}


def _age_trash(root: int, days: float) -> None:
    db.session.execute(
        update(Goal)
        .where(Goal.trash_root_id == root)
        .values(deleted_at=datetime.now(UTC) - timedelta(days=days))
    )
    db.session.commit()


def test_purge_expired(owner: User, other: User, build: Build) -> None:
    old, _old_child, fresh = build(
        owner, [{"name": "old", "children": [{"name": "c"}]}, {"name": "fresh"}]
    )
    theirs = build(other, [{"name": "theirs"}])[0]
    for goal in (old, fresh):
        service.trash_goal(caller=owner, goal_id=goal, retention=RETENTION)
    service.trash_goal(caller=other, goal_id=theirs, retention=RETENTION)
    _age_trash(old, 31)
    _age_trash(fresh, 29)
    _age_trash(theirs, 40)
    # Expired subtrees no longer show in the trash, even before they are purged.
    assert [t["id"] for t in goal_trash.list_trash(owner=owner, retention=RETENTION)] == [fresh]
    assert goal_trash.purge_expired(retention=RETENTION) == 3  # old, its child, and theirs
    assert all_count(owner) == 1
    assert all_count(other) == 0
    assert goal_trash.purge_expired(retention=RETENTION) == 0
    # The retention period is configurable.
    week = timedelta(days=7)
    assert goal_trash.list_trash(owner=owner, retention=week) == []
    assert goal_trash.purge_expired(retention=week) == 1
    assert all_count(owner) == 0


def test_trash_purges_this_owners_expired_goals(owner: User, make: MakeGoal) -> None:
    old = make(owner, "old")
    service.trash_goal(caller=owner, goal_id=old, retention=RETENTION)
    _age_trash(old, 31)
    service.trash_goal(caller=owner, goal_id=make(owner, "new"), retention=RETENTION)
    assert all_count(owner) == 1
    with pytest.raises(NotFound):
        goal_trash.restore(owner=owner, goal_id=old, retention=RETENTION)


# ---------------------------------------------------------------------------- depth 10 000


def test_chain_trash_and_restore(owner: User, chain: list[int]) -> None:
    top, deepest = chain[0], chain[-1]
    service.trash_goal(caller=owner, goal_id=top, retention=RETENTION)
    assert service.forest(owner=owner).rows == {}
    assert service.list_goals(owner=owner, query=GoalListQuery())[1] == 0
    with pytest.raises(NotFound):
        service.get_goal(caller=owner, goal_id=deepest)
    trash = goal_trash.list_trash(owner=owner, retention=RETENTION)
    assert [(t["id"], t["goals_count"]) for t in trash] == [(top, CHAIN)]

    view = goal_trash.restore(owner=owner, goal_id=top, retention=RETENTION)
    assert view.goal.id == top
    assert view.stats.descendants_count == CHAIN - 1
    forest = service.forest(owner=owner)
    assert set(forest.rows) == set(chain)
    assert all(forest.rows[chain[i]].parent_id == chain[i - 1] for i in range(1, CHAIN))
    assert goal_trash.list_trash(owner=owner, retention=RETENTION) == []
