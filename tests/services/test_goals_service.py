"""Service-level tests of live goals: create, change, move, list, roll-ups and tree reads."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import orjson
import pytest
from sqlalchemy import select

from overachiever.core.db import db
from overachiever.core.errors import (
    CycleConflict,
    Invalid,
    NameConflict,
    NotFound,
    PreconditionFailed,
)
from overachiever.goals import results, service
from overachiever.goals import trash as goal_trash
from overachiever.goals.models import Goal
from overachiever.goals.schemas import GoalListQuery
from overachiever.goals.tree import flat_json
from overachiever.users.models import User
from overachiever.users.service import delete_user
from tests.support import reference_tree
from tests.support.services import (
    CHAIN,
    RETENTION,
    T0,
    Build,
    MakeGoal,
    all_count,
    children,
    edit,
    live_count,
    names,
    new_goal,
    shape,
    to_nodes,
)

# ---------------------------------------------------------------------------- create


def test_create_top_level_goal(owner: User) -> None:
    before = datetime.now(UTC)
    view = service.create_goal(
        caller=owner, goal_in=new_goal(name="Learn Rust", description="the book")
    )
    after = datetime.now(UTC)
    goal = view.goal
    assert goal.id > 0
    assert goal.parent_id is None
    assert goal.owner_id == owner.id
    assert (goal.name, goal.description) == ("Learn Rust", "the book")
    assert before <= goal.start <= after  # start defaults to creation time
    assert goal.end is None
    assert goal.position == 0
    assert goal.version == 1
    assert view.stats.progress == 0.0
    assert view.as_dict()["children_count"] == 0
    fetched = service.get_goal(caller=owner, goal_id=goal.id)
    assert fetched.goal.name == "Learn Rust"
    assert fetched.etag == view.etag
    assert service.create_goal(caller=owner, goal_in=new_goal(name="Second")).goal.position == 1


def test_create_done_goal_and_explicit_times(owner: User) -> None:
    view = service.create_goal(
        caller=owner, goal_in=new_goal(name="Done", start=T0, end=T0 + timedelta(days=1), due=T0)
    )
    assert view.stats.progress == 1.0
    goal = service.get_goal(caller=owner, goal_id=view.goal.id).goal
    assert goal.start == T0
    assert goal.end == T0 + timedelta(days=1)
    assert goal.due == T0


def test_create_end_before_start_is_invalid(owner: User) -> None:
    with pytest.raises(Invalid):
        service.create_goal(
            caller=owner, goal_in=new_goal(name="x", start=T0, end=T0 - timedelta(seconds=1))
        )
    assert live_count(owner) == 0


def test_create_under_parent(owner: User, make: MakeGoal) -> None:
    parent = make(owner, "Parent")
    view = service.create_goal(caller=owner, goal_in=new_goal(name="Child", parent_id=parent))
    assert view.goal.parent_id == parent
    assert view.goal.position == 0
    stats = service.get_goal(caller=owner, goal_id=parent).stats
    assert (stats.children_count, stats.descendants_count) == (1, 1)


def test_create_at_position_shifts_later_siblings(owner: User, make: MakeGoal) -> None:
    parent = make(owner, "P")
    a, b, c = (make(owner, n, parent) for n in "abc")
    versions = {g: service.get_goal(caller=owner, goal_id=g).goal.version for g in (a, b, c)}
    x = service.create_goal(
        caller=owner, goal_in=new_goal(name="x", parent_id=parent, position=1)
    ).goal.id
    assert children(owner, parent) == ["a", "x", "b", "c"]
    positions = {g: service.get_goal(caller=owner, goal_id=g).goal.position for g in (a, x, b, c)}
    assert positions == {a: 0, x: 1, b: 2, c: 3}
    # Shifted siblings changed, so their versions (ETags) moved; a did not.
    assert service.get_goal(caller=owner, goal_id=a).goal.version == versions[a]
    assert service.get_goal(caller=owner, goal_id=b).goal.version > versions[b]
    assert service.get_goal(caller=owner, goal_id=c).goal.version > versions[c]
    # Inserting at the front, at the top level, leaves the other parent's children alone.
    make(owner, "Q")
    service.create_goal(caller=owner, goal_in=new_goal(name="first", position=0))
    assert children(owner) == ["first", "P", "Q"]
    assert children(owner, parent) == ["a", "x", "b", "c"]


def test_name_clash_among_live_siblings(owner: User, make: MakeGoal) -> None:
    parent = make(owner, "P")
    make(owner, "dup", parent)
    make(owner, "top")
    with pytest.raises(NameConflict):
        service.create_goal(caller=owner, goal_in=new_goal(name="dup", parent_id=parent))
    with pytest.raises(NameConflict):
        service.create_goal(caller=owner, goal_in=new_goal(name="top"))
    with pytest.raises(NameConflict):
        service.create_goal(caller=owner, goal_in=new_goal(name="top", position=0))
    assert live_count(owner) == 3
    # A failed insert at a position shifted nothing.
    assert service.get_goal(caller=owner, goal_id=parent).goal.position == 0


def test_same_name_allowed_elsewhere(owner: User, other: User, make: MakeGoal) -> None:
    p1 = make(owner, "P1")
    p2 = make(owner, "P2")
    make(owner, "same", p1)
    make(owner, "same", p2)
    make(owner, "same")  # top level
    make(other, "same")  # another owner's top level
    make(other, "P1")
    assert live_count(owner) == 5
    assert live_count(other) == 2
    # Names are case-sensitive and compared exactly.
    make(owner, "Same")


def test_name_of_a_trashed_sibling_is_free(owner: User, make: MakeGoal) -> None:
    old = make(owner, "name")
    service.trash_goal(caller=owner, goal_id=old, retention=RETENTION)
    new = make(owner, "name")
    assert new != old


@pytest.mark.parametrize("kind", ["foreign", "missing", "trashed"])
def test_create_under_unreachable_parent_is_not_found(
    owner: User, other: User, make: MakeGoal, kind: str
) -> None:
    if kind == "foreign":
        parent = make(other, "theirs")
    elif kind == "missing":
        parent = 987654
    else:
        parent = make(owner, "gone")
        service.trash_goal(caller=owner, goal_id=parent, retention=RETENTION)
    with pytest.raises(NotFound):
        service.create_goal(caller=owner, goal_in=new_goal(name="child", parent_id=parent))
    assert live_count(owner) == 0
    assert [
        r[0] for r in db.session.execute(select(Goal.name).where(Goal.parent_id.is_not(None)))
    ] == []


# ---------------------------------------------------------------------------- update


def test_rename_bumps_version_and_updated_at(owner: User, make: MakeGoal) -> None:
    g = make(owner, "old")
    before = service.get_goal(caller=owner, goal_id=g).goal
    v1, updated1 = before.version, before.updated_at
    view = service.update_goal(caller=owner, goal_id=g, changes=edit(name="new", description="d"))
    assert (view.goal.name, view.goal.description) == ("new", "d")
    assert view.goal.version == v1 + 1
    assert view.goal.updated_at >= updated1
    assert service.get_goal(caller=owner, goal_id=g).goal.name == "new"
    view = service.update_goal(caller=owner, goal_id=g, changes=edit(due=T0))
    assert view.goal.version == v1 + 2
    assert service.get_goal(caller=owner, goal_id=g).goal.due == T0
    # Keeping one's own name is no clash.
    assert (
        service.update_goal(caller=owner, goal_id=g, changes=edit(name="new")).goal.version
        == v1 + 3
    )


def test_rename_to_a_sibling_name_conflicts(owner: User, make: MakeGoal) -> None:
    make(owner, "a")
    b = make(owner, "b")
    with pytest.raises(NameConflict):
        service.update_goal(caller=owner, goal_id=b, changes=edit(name="a"))
    assert service.get_goal(caller=owner, goal_id=b).goal.name == "b"
    assert service.get_goal(caller=owner, goal_id=b).goal.version == 1


def test_move_under_another_parent(owner: User, make: MakeGoal) -> None:
    p = make(owner, "P")
    q = make(owner, "Q")
    make(owner, "q1", q)
    make(owner, "q2", q)
    g = make(owner, "g", p)
    make(owner, "g-child", g)
    view = service.update_goal(caller=owner, goal_id=g, changes=edit(parent_id=q))
    assert view.goal.parent_id == q
    assert view.goal.position == 2  # appended after Q's children
    assert children(owner, q) == ["q1", "q2", "g"]
    assert service.get_goal(caller=owner, goal_id=p).stats.children_count == 0
    assert (
        service.get_goal(caller=owner, goal_id=q).stats.descendants_count == 4
    )  # q1, q2, g, g-child
    assert shape(service.forest(owner=owner)) == [
        ["P", []],
        ["Q", [["q1", []], ["q2", []], ["g", [["g-child", []]]]]],
    ]


def test_move_to_position_and_reorder(owner: User, make: MakeGoal) -> None:
    p = make(owner, "P")
    for n in "abc":
        make(owner, n, p)
    g = make(owner, "g")
    service.update_goal(caller=owner, goal_id=g, changes=edit(parent_id=p, position=1))
    assert children(owner, p) == ["a", "g", "b", "c"]
    c = service.list_goals(owner=owner, query=GoalListQuery(parent=str(p), q="c"))[0][0].goal.id
    service.update_goal(caller=owner, goal_id=c, changes=edit(position=0))
    assert children(owner, p) == ["c", "a", "g", "b"]


def test_move_to_top_level(owner: User, make: MakeGoal) -> None:
    p = make(owner, "P")
    g = make(owner, "g", p)
    view = service.update_goal(caller=owner, goal_id=g, changes=edit(parent_id=None))
    assert view.goal.parent_id is None
    assert view.goal.position == 1
    assert children(owner) == ["P", "g"]
    assert service.get_goal(caller=owner, goal_id=p).stats.children_count == 0


def test_move_into_a_name_clash_conflicts(owner: User, make: MakeGoal) -> None:
    p = make(owner, "P")
    make(owner, "g", p)
    g = make(owner, "g")
    with pytest.raises(NameConflict):
        service.update_goal(caller=owner, goal_id=g, changes=edit(parent_id=p))
    assert service.get_goal(caller=owner, goal_id=g).goal.parent_id is None
    # Moving and renaming at once is fine.
    assert (
        service.update_goal(
            caller=owner, goal_id=g, changes=edit(parent_id=p, name="h")
        ).goal.parent_id
        == p
    )


def test_move_that_would_make_a_cycle(owner: User, make: MakeGoal) -> None:
    a = make(owner, "a")
    b = make(owner, "b", a)
    c = make(owner, "c", b)
    d = make(owner, "d", c)
    make(owner, "side", a)
    with pytest.raises(CycleConflict) as info:
        service.update_goal(caller=owner, goal_id=b, changes=edit(parent_id=d))
    assert info.value.extra["path"] == [b, c, d]
    with pytest.raises(CycleConflict) as info:
        service.update_goal(caller=owner, goal_id=a, changes=edit(parent_id=c))
    assert info.value.extra["path"] == [a, b, c]
    with pytest.raises(CycleConflict) as info:
        service.update_goal(caller=owner, goal_id=c, changes=edit(parent_id=c))
    assert info.value.extra["path"] == [c]
    # Nothing moved.
    assert shape(service.forest(owner=owner)) == [
        ["a", [["b", [["c", [["d", []]]]]], ["side", []]]]
    ]
    # Moving down into a sibling branch is no cycle.
    assert (
        service.update_goal(caller=owner, goal_id=d, changes=edit(parent_id=a)).goal.parent_id == a
    )


def test_update_end_before_start_is_invalid(owner: User, make: MakeGoal) -> None:
    g = make(owner, "g", start=T0)
    with pytest.raises(Invalid):
        service.update_goal(caller=owner, goal_id=g, changes=edit(end=T0 - timedelta(days=1)))
    service.update_goal(caller=owner, goal_id=g, changes=edit(end=T0 + timedelta(days=1)))
    with pytest.raises(Invalid):
        service.update_goal(caller=owner, goal_id=g, changes=edit(start=T0 + timedelta(days=2)))
    with pytest.raises(Invalid):
        service.update_goal(caller=owner, goal_id=g, changes=edit(name=None))
    with pytest.raises(Invalid):
        service.update_goal(caller=owner, goal_id=g, changes=edit(owner_id=5))
    goal = service.get_goal(caller=owner, goal_id=g).goal
    assert (goal.start, goal.end) == (T0, T0 + timedelta(days=1))


def test_complete_and_reopen(owner: User, make: MakeGoal) -> None:
    p = make(owner, "P")
    g = make(owner, "g", p)
    make(owner, "h", p)
    finish = datetime.now(UTC) + timedelta(minutes=1)
    view = service.update_goal(caller=owner, goal_id=g, changes=edit(end=finish))
    assert view.goal.end == finish
    assert view.stats.progress == 1.0
    parent = service.get_goal(caller=owner, goal_id=p).stats
    assert parent.done_descendants_count == 1
    assert parent.progress == 0.5
    view = service.update_goal(caller=owner, goal_id=g, changes=edit(end=None))
    assert view.goal.end is None
    assert view.stats.progress == 0.0
    assert service.get_goal(caller=owner, goal_id=p).stats.done_descendants_count == 0
    assert service.get_goal(caller=owner, goal_id=g).goal.version == 3


def test_if_match_precondition(owner: User, make: MakeGoal) -> None:
    g = make(owner, "g")
    seen: list[str] = []

    def accept(etag: str) -> bool:
        seen.append(etag)
        return True

    current = service.get_goal(caller=owner, goal_id=g).etag
    service.update_goal(caller=owner, goal_id=g, changes=edit(name="h"), if_match=accept)
    assert seen == [current]
    with pytest.raises(PreconditionFailed) as info:
        service.update_goal(
            caller=owner, goal_id=g, changes=edit(name="i"), if_match=lambda etag: False
        )
    assert info.value.extra["current_etag"] == f'"{service.get_goal(caller=owner, goal_id=g).etag}"'
    assert service.get_goal(caller=owner, goal_id=g).goal.name == "h"
    with pytest.raises(PreconditionFailed):
        service.trash_goal(
            caller=owner, goal_id=g, retention=RETENTION, if_match=lambda etag: False
        )
    assert live_count(owner) == 1
    service.trash_goal(caller=owner, goal_id=g, retention=RETENTION, if_match=lambda etag: True)
    assert live_count(owner) == 0


def test_etag_changes_when_a_descendant_changes(owner: User, make: MakeGoal) -> None:
    p = make(owner, "P")
    g = make(owner, "g", p)
    before = service.get_goal(caller=owner, goal_id=p).etag
    service.update_goal(caller=owner, goal_id=g, changes=edit(end=datetime.now(UTC)))
    assert service.get_goal(caller=owner, goal_id=p).etag != before


# ---------------------------------------------------------------------------- list_goals


@pytest.fixture
def listed(owner: User, make: MakeGoal) -> dict[str, int]:
    """A small forest with due dates, descriptions and done goals."""
    ids: dict[str, int] = {}
    ids["alpha"] = make(owner, "alpha", due=T0 + timedelta(days=3), description="Run 50% faster")
    ids["bravo"] = make(
        owner, "bravo", due=T0 + timedelta(days=1), start=T0, end=T0 + timedelta(hours=1)
    )
    ids["charlie"] = make(owner, "charlie")
    ids["delta"] = make(owner, "delta", ids["alpha"], due=T0 + timedelta(days=2))
    ids["echo"] = make(
        owner,
        "echo",
        ids["alpha"],
        description="run 500 m",
        start=T0,
        end=T0 + timedelta(hours=2),
    )
    return ids


def test_list_parent_filter(owner: User, listed: dict[str, int]) -> None:
    views, total = service.list_goals(owner=owner, query=GoalListQuery())
    assert total == 5
    assert len(views) == 5
    views, total = service.list_goals(owner=owner, query=GoalListQuery(parent="root"))
    assert (names(views), total) == (["alpha", "bravo", "charlie"], 3)
    views, total = service.list_goals(owner=owner, query=GoalListQuery(parent=str(listed["alpha"])))
    assert (names(views), total) == (["delta", "echo"], 2)
    assert service.list_goals(owner=owner, query=GoalListQuery(parent=str(listed["charlie"]))) == (
        [],
        0,
    )
    with pytest.raises(NotFound):
        service.list_goals(owner=owner, query=GoalListQuery(parent="999999"))


def test_list_leaves_out_a_goal_purged_between_its_page_and_roll_ups(
    owner: User, listed: dict[str, int], monkeypatch: pytest.MonkeyPatch
) -> None:
    # PostgreSQL reads each statement at its own moment: a purge may land between the two.
    real = service.stats_for

    def purged_meanwhile(root_ids: Any) -> Any:
        stats = real(root_ids)
        stats.pop(listed["bravo"], None)
        return stats

    monkeypatch.setattr(service, "stats_for", purged_meanwhile)
    views, total = service.list_goals(owner=owner, query=GoalListQuery(parent="root"))
    assert (names(views), total) == (["alpha", "charlie"], 3)


def test_list_carries_roll_ups(owner: User, listed: dict[str, int]) -> None:
    views, _ = service.list_goals(owner=owner, query=GoalListQuery(parent="root"))
    alpha = views[0]
    assert alpha.goal.id == listed["alpha"]
    assert (alpha.stats.children_count, alpha.stats.done_descendants_count) == (2, 1)
    assert alpha.stats.progress == 0.5
    assert views[1].stats.progress == 1.0


def test_list_status_filter(owner: User, listed: dict[str, int]) -> None:
    views, total = service.list_goals(owner=owner, query=GoalListQuery(status="done", sort="name"))
    assert (names(views), total) == (["bravo", "echo"], 2)
    views, total = service.list_goals(owner=owner, query=GoalListQuery(status="open", sort="name"))
    assert (names(views), total) == (["alpha", "charlie", "delta"], 3)


def test_list_text_filter(owner: User, listed: dict[str, int]) -> None:
    # Case-insensitive, in name or description.
    views, _ = service.list_goals(owner=owner, query=GoalListQuery(q="RUN", sort="name"))
    assert names(views) == ["alpha", "echo"]
    views, _ = service.list_goals(owner=owner, query=GoalListQuery(q="BRAV"))
    assert names(views) == ["bravo"]
    # LIKE wildcards in q are taken literally.
    views, _ = service.list_goals(owner=owner, query=GoalListQuery(q="50%"))
    assert names(views) == ["alpha"]
    assert service.list_goals(owner=owner, query=GoalListQuery(q="_")) == ([], 0)


def test_list_due_filters(owner: User, listed: dict[str, int]) -> None:
    day2 = T0 + timedelta(days=2)
    views, _ = service.list_goals(owner=owner, query=GoalListQuery(due_before=day2, sort="due"))
    assert names(views) == ["bravo"]  # strictly before
    views, _ = service.list_goals(owner=owner, query=GoalListQuery(due_after=day2, sort="due"))
    assert names(views) == ["delta", "alpha"]  # at or after
    views, total = service.list_goals(
        owner=owner,
        query=GoalListQuery(due_after=T0 + timedelta(days=1), due_before=T0 + timedelta(days=3)),
    )
    assert (sorted(names(views)), total) == (["bravo", "delta"], 2)


def test_list_sorts(owner: User, listed: dict[str, int]) -> None:
    def order(sort: str) -> list[str]:
        return names(service.list_goals(owner=owner, query=GoalListQuery(sort=sort))[0])

    assert order("name") == ["alpha", "bravo", "charlie", "delta", "echo"]
    assert order("-name") == ["echo", "delta", "charlie", "bravo", "alpha"]
    # Goals without the sort value come last in both directions; ties go by id.
    assert order("due") == ["bravo", "delta", "alpha", "charlie", "echo"]
    assert order("-due") == ["alpha", "delta", "bravo", "echo", "charlie"]
    assert order("end") == ["bravo", "echo", "alpha", "charlie", "delta"]
    assert order("-end") == ["echo", "bravo", "delta", "charlie", "alpha"]
    assert order("created") == ["alpha", "bravo", "charlie", "delta", "echo"]
    assert order("-created") == ["echo", "delta", "charlie", "bravo", "alpha"]
    # The default: position among siblings, then id (roots and children interleave).
    assert order("position") == ["alpha", "delta", "bravo", "echo", "charlie"]
    assert order("-position") == ["charlie", "echo", "bravo", "delta", "alpha"]


def test_list_paging(owner: User, listed: dict[str, int]) -> None:
    pages = [
        service.list_goals(owner=owner, query=GoalListQuery(sort="created", offset=offset, limit=2))
        for offset in (0, 2, 4, 6)
    ]
    assert [names(p[0]) for p in pages] == [
        ["alpha", "bravo"],
        ["charlie", "delta"],
        ["echo"],
        [],
    ]
    assert {p[1] for p in pages} == {5}
    views, total = service.list_goals(
        owner=owner, query=GoalListQuery(status="open", offset=1, limit=1)
    )
    assert (len(views), total) == (1, 3)


def test_list_leaves_out_trashed_goals(owner: User, listed: dict[str, int]) -> None:
    service.trash_goal(caller=owner, goal_id=listed["alpha"], retention=RETENTION)
    views, total = service.list_goals(owner=owner, query=GoalListQuery(sort="name"))
    assert (names(views), total) == (["bravo", "charlie"], 2)
    with pytest.raises(NotFound):
        service.list_goals(owner=owner, query=GoalListQuery(parent=str(listed["alpha"])))


# ---------------------------------------------------------------------------- roll-ups, forest


def test_roll_ups_of_a_hand_computed_tree(owner: User, build: Build) -> None:
    done = {"end": datetime.now(UTC)}
    ids = build(
        owner,
        [
            {
                "name": "root",
                "children": [
                    {"name": "a", "children": [{"name": "a1", **done}, {"name": "a2"}]},
                    {"name": "b", **done, "children": [{"name": "b1"}, {"name": "b2"}]},
                    {"name": "c"},
                ],
            }
        ],
    )
    root, a, a1, a2, b, b1, b2, c = ids
    stats = results.stats_for(ids)
    # Leaves: a1 (done), a2, b1 and b2 (done through b), c -> 3 of 5.
    assert stats[root].progress == pytest.approx(0.6)
    assert (stats[root].children_count, stats[root].descendants_count) == (3, 7)
    assert stats[root].done_descendants_count == 2
    assert stats[a].progress == 0.5
    assert stats[b].progress == 1.0
    assert stats[b].done_descendants_count == 0
    assert stats[c].progress == 0.0
    assert stats[b1].progress == 0.0
    view = service.get_goal(caller=owner, goal_id=root).as_dict()
    assert {k: view[k] for k in ("children_count", "descendants_count")} == {
        "children_count": 3,
        "descendants_count": 7,
    }
    assert view["progress"] == pytest.approx(0.6)
    assert results.stats_for([]) == {}
    # Trashed goals leave the roll-ups.
    service.trash_goal(caller=owner, goal_id=c, retention=RETENTION)
    assert service.get_goal(caller=owner, goal_id=root).stats.progress == pytest.approx(3 / 4)
    assert service.get_goal(caller=owner, goal_id=root).stats.descendants_count == 6
    assert {a1, a2, b2} <= set(stats)


def test_forest_and_subtree(owner: User, other: User, build: Build, make: MakeGoal) -> None:
    ids = build(
        owner,
        [
            {
                "name": "one",
                "children": [{"name": "x"}, {"name": "y", "children": [{"name": "z"}]}],
            },
            {"name": "two"},
        ],
    )
    make(other, "not mine")
    one, x, y, z, two = ids
    forest = service.forest(owner=owner)
    assert forest.roots == [one, two]
    assert forest.children[one] == [x, y]
    assert shape(forest) == [["one", [["x", []], ["y", [["z", []]]]]], ["two", []]]
    sub = service.subtree(caller=owner, goal_id=y)
    assert sub.roots == [y]
    assert set(sub.rows) == {y, z}
    assert sub.rows[y].parent_id == one
    items = orjson.loads(b"".join(flat_json(sub)))["items"]
    assert [(i["id"], i["depth"]) for i in items] == [(y, 0), (z, 1)]
    service.trash_goal(caller=owner, goal_id=z, retention=RETENTION)
    assert set(service.subtree(caller=owner, goal_id=y).rows) == {y}
    assert z not in service.forest(owner=owner).rows
    with pytest.raises(NotFound):
        service.subtree(caller=owner, goal_id=z)


# ---------------------------------------------------------------------------- owners


def test_another_owners_goal_is_not_found_everywhere(
    owner: User, other: User, make: MakeGoal
) -> None:
    theirs = make(other, "theirs")
    their_child = make(other, "child", theirs)
    mine = make(owner, "mine")
    attempts: list[Callable[[], Any]] = [
        lambda: service.get_goal(caller=owner, goal_id=theirs),
        lambda: service.subtree(caller=owner, goal_id=theirs),
        lambda: service.list_goals(owner=owner, query=GoalListQuery(parent=str(theirs))),
        lambda: service.update_goal(caller=owner, goal_id=theirs, changes=edit(name="mine now")),
        lambda: service.update_goal(caller=owner, goal_id=mine, changes=edit(parent_id=theirs)),
        lambda: service.update_goal(
            caller=owner, goal_id=their_child, changes=edit(parent_id=mine)
        ),
        lambda: service.create_goal(caller=owner, goal_in=new_goal(name="n", parent_id=theirs)),
        lambda: service.trash_goal(caller=owner, goal_id=theirs, retention=RETENTION),
        lambda: goal_trash.restore(owner=owner, goal_id=theirs, retention=RETENTION),
        lambda: goal_trash.purge(owner=owner, goal_id=theirs),
    ]
    for attempt in attempts:
        with pytest.raises(NotFound):
            attempt()
    assert set(service.forest(owner=owner).rows) == {mine}
    assert service.list_goals(owner=owner, query=GoalListQuery())[1] == 1
    assert results.stats_for([mine])[mine].descendants_count == 0
    # Their trash is theirs alone.
    service.trash_goal(caller=other, goal_id=theirs, retention=RETENTION)
    assert goal_trash.list_trash(owner=owner, retention=RETENTION) == []
    with pytest.raises(NotFound):
        goal_trash.restore(owner=owner, goal_id=theirs, retention=RETENTION)
    with pytest.raises(NotFound):
        goal_trash.purge(owner=owner, goal_id=theirs)
    assert (
        goal_trash.restore(owner=other, goal_id=theirs, retention=RETENTION).goal.name == "theirs"
    )
    assert service.get_goal(caller=other, goal_id=their_child).goal.parent_id == theirs


def test_deleting_an_owner_with_same_names_in_different_branches(
    owner: User, other: User, build: Build
) -> None:
    # The same name at the top level, under two parents, and in the trash under a purged parent.
    build(
        other,
        [
            {"name": "same", "children": [{"name": "same"}]},
            {"name": "p", "children": [{"name": "same", "children": [{"name": "same"}]}]},
            {"name": "q", "children": [{"name": "same"}, {"name": "x"}]},
        ],
    )
    keep = build(owner, [{"name": "same", "children": [{"name": "same"}]}])
    delete_user(owner, other.id)
    assert db.session.get(User, other.id) is None
    assert all_count(other) == 0
    assert set(service.forest(owner=owner).rows) == set(keep)


# ---------------------------------------------------------------------------- depth 10 000


def test_chain_reads_and_moves(owner: User, chain: list[int]) -> None:
    top, deepest = chain[0], chain[-1]
    forest = service.forest(owner=owner)
    assert forest.roots == [top]
    walk, current = [top], top
    while current in forest.children:
        (current,) = forest.children[current]
        walk.append(current)
    assert walk == chain
    stats = reference_tree.stats(forest)
    assert stats[top].descendants_count == CHAIN - 1

    sub = service.subtree(caller=owner, goal_id=chain[5000])
    assert sub.roots == [chain[5000]]
    assert len(sub.rows) == CHAIN - 5000
    items = orjson.loads(b"".join(flat_json(sub)))["items"]
    assert [i["depth"] for i in items] == list(range(CHAIN - 5000))

    rolled = results.stats_for([top, chain[5000], deepest])
    assert rolled[top].descendants_count == CHAIN - 1
    assert rolled[top].children_count == 1
    assert rolled[chain[5000]].descendants_count == CHAIN - 5001
    assert rolled[deepest].descendants_count == 0
    assert service.get_goal(caller=owner, goal_id=top).stats.descendants_count == CHAIN - 1

    # Completing the deepest goal completes every leaf of the chain.
    service.update_goal(caller=owner, goal_id=deepest, changes=edit(end=datetime.now(UTC)))
    assert service.get_goal(caller=owner, goal_id=top).stats.progress == 1.0

    with pytest.raises(CycleConflict) as info:
        service.update_goal(caller=owner, goal_id=top, changes=edit(parent_id=deepest))
    assert info.value.extra["path"] == chain
    with pytest.raises(CycleConflict) as info:
        service.update_goal(caller=owner, goal_id=chain[10], changes=edit(parent_id=chain[9000]))
    assert info.value.extra["path"] == chain[10:9001]

    view = service.update_goal(caller=owner, goal_id=deepest, changes=edit(parent_id=None))
    assert view.goal.parent_id is None
    forest = service.forest(owner=owner)
    assert forest.roots == [top, deepest]
    assert reference_tree.stats(forest)[top].descendants_count == CHAIN - 2
    assert chain[-2] not in forest.children


# ---------------------------------------------------------------------------- query counts


def _wide_forest(levels: tuple[int, ...], chain_length: int) -> list[dict[str, Any]]:
    """Roots with `levels` fan-out per level, and a chain hanging under the first leaf."""
    counter = iter(range(10**6))
    roots: list[dict[str, Any]] = []
    frontier: list[list[dict[str, Any]]] = [roots]
    for fan_out in levels:
        next_frontier: list[list[dict[str, Any]]] = []
        for siblings in frontier:
            for _ in range(fan_out):
                n = next(counter)
                goal: dict[str, Any] = {"name": f"g{n}", "children": []}
                if n % 3 == 0:
                    goal["end"] = T0
                siblings.append(goal)
                next_frontier.append(goal["children"])
        frontier = next_frontier
    tail = frontier[0]
    for i in range(chain_length):
        link: dict[str, Any] = {"name": f"chain {i}", "children": []}
        tail.append(link)
        tail = link["children"]
    return roots


def _count(nodes: list[dict[str, Any]]) -> int:
    return len(to_nodes(nodes))


def _query_counts(
    owner: User, build: Build, count_queries: Any, trees: list[dict[str, Any]]
) -> dict[str, int]:
    ids = build(owner, trees)
    root = ids[0]
    counts: dict[str, int] = {}
    calls: dict[str, Callable[[], Any]] = {
        "forest": lambda: reference_tree.stats(service.forest(owner=owner)),
        "subtree": lambda: reference_tree.stats(service.subtree(caller=owner, goal_id=root)),
        "get_goal": lambda: service.get_goal(caller=owner, goal_id=root).as_dict(),
        "list_goals": lambda: [
            v.as_dict() for v in service.list_goals(owner=owner, query=GoalListQuery())[0]
        ],
        "list_children": lambda: service.list_goals(
            owner=owner, query=GoalListQuery(parent=str(root))
        )[0],
        "stats_for": lambda: results.stats_for(ids[:50]),
    }
    for name, call in calls.items():
        with count_queries() as log:
            call()
        counts[name] = log.count
    return counts


def test_reads_use_a_fixed_number_of_queries(
    owner: User, other: User, build: Build, count_queries: Any
) -> None:
    small = _wide_forest((2, 2, 1), chain_length=0)
    big = _wide_forest((10, 9, 21), chain_length=10)
    assert _count(small) == 10
    assert _count(big) == 10 + 90 + 1890 + 10
    small_counts = _query_counts(owner, build, count_queries, small)
    big_counts = _query_counts(other, build, count_queries, big)
    big_forest = service.forest(owner=other)
    assert reference_tree.stats(big_forest)[big_forest.roots[0]].descendants_count > 190
    assert len(service.forest(owner=other).rows) == 2000
    assert small_counts == big_counts
    assert big_counts["forest"] <= 2
    assert big_counts["subtree"] <= 3
    assert big_counts["get_goal"] <= 3
    assert big_counts["list_goals"] <= 4
    assert big_counts["list_children"] <= 5
    assert big_counts["stats_for"] <= 1
