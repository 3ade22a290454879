"""The record of changes, undo and the tree as it was, through the services.

After every kind of change, each goal's latest event must hold exactly its present fields (the
record misses nothing); an undo must put every goal back exactly as it was before the
operation (positions of shifted siblings included); the tree as of any instant must be the
tree that was read at that instant.
"""

from __future__ import annotations

import random
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import func, select

from overachiever import demo
from overachiever.core.db import db
from overachiever.core.errors import (
    AlreadyUndone,
    CycleConflict,
    Invalid,
    NameConflict,
    NotFound,
    NotUndoable,
    UndoConflict,
)
from overachiever.core.types import utcnow
from overachiever.goals import service, trash
from overachiever.goals.tree import flat_json
from overachiever.history import asof
from overachiever.history import service as history
from overachiever.history.models import GoalEvent, Operation
from overachiever.history.undo import undo
from overachiever.legacy import service as legacy
from overachiever.users.models import User
from overachiever.users.service import delete_user
from tests.support.history import (
    assert_record_matches,
    goal_state,
    last_operation,
    live_state,
    operations_of,
)
from tests.support.services import RETENTION, Build, MakeGoal, edit


def _undo_last(owner: User) -> dict[str, Any]:
    return undo(owner=owner, operation_id=last_operation(owner.id))


# ---------------------------------------------------------------------------- the record


def test_every_kind_of_change_is_recorded_as_the_goals_now_are(
    owner: User, make: MakeGoal, build: Build
) -> None:
    home = make(owner, "home")
    kitchen = make(owner, "kitchen", home)
    make(owner, "dishes", kitchen)
    make(owner, "first", home, position=0)  # shifts kitchen: a sibling event
    service.update_goal(caller=owner, goal_id=kitchen, changes=edit(name="cooking", end=utcnow()))
    service.update_goal(caller=owner, goal_id=kitchen, changes=edit(parent_id=None, position=0))
    ids = build(owner, [{"name": "trip", "children": [{"name": "pack"}]}], parent_id=home)
    service.trash_goal(caller=owner, goal_id=home, retention=RETENTION)
    trash.restore(owner=owner, goal_id=home, retention=RETENTION)
    service.trash_goal(caller=owner, goal_id=ids[0], retention=RETENTION)
    trash.purge(owner=owner, goal_id=ids[0])
    legacy.add_goal(owner, None, "legacy", None, "from v1.0")
    legacy.complete_goal(owner, None, "legacy")
    assert_record_matches(owner.id)
    kinds = [op.kind for op in operations_of(owner.id)]
    assert kinds == [
        *["create"] * 4,
        "update",
        "update",
        "import",
        "trash",
        "restore",
        "trash",
        "purge",
        "create",
        "update",
    ]


def test_a_create_at_a_position_records_the_siblings_it_moved(owner: User, make: MakeGoal) -> None:
    a, b = make(owner, "a"), make(owner, "b")
    c = make(owner, "c", position=0)
    events = db.session.execute(
        select(GoalEvent.goal_id, GoalEvent.kind, GoalEvent.position).where(
            GoalEvent.operation_id == last_operation(owner.id)
        )
    ).all()
    assert sorted(events) == sorted([(a, "updated", 1), (b, "updated", 2), (c, "created", 0)])


def test_changes_name_each_field_before_and_after(owner: User, make: MakeGoal) -> None:
    goal = make(owner, "paint", description="walls")
    service.update_goal(caller=owner, goal_id=goal, changes=edit(name="paint walls"))
    done_at = utcnow()
    service.update_goal(caller=owner, goal_id=goal, changes=edit(end=done_at))
    items, total = history.goal_history(caller=owner, goal_id=goal, offset=0, limit=10)
    assert total == 3
    assert [e["kind"] for e in items] == ["updated", "updated", "created"]
    assert items[0]["changes"] == {"end": [None, done_at]}
    assert items[1]["changes"] == {"name": ["paint", "paint walls"]}
    created = items[2]["changes"]
    assert created["name"] == [None, "paint"]
    assert created["description"] == [None, "walls"]
    assert "end" not in created
    assert "due" not in created
    assert items[0]["actor"] == {"id": owner.id, "name": owner.name}


def test_a_trashed_goal_has_a_history_and_a_foreign_one_has_none(
    owner: User, other: User, make: MakeGoal
) -> None:
    goal = make(owner, "g")
    service.trash_goal(caller=owner, goal_id=goal, retention=RETENTION)
    items, _ = history.goal_history(caller=owner, goal_id=goal, offset=0, limit=10)
    assert [e["kind"] for e in items] == ["trashed", "created"]
    with pytest.raises(NotFound):
        history.goal_history(caller=other, goal_id=goal, offset=0, limit=10)
    with pytest.raises(NotFound):
        history.get_operation(owner=other, operation_id=last_operation(owner.id))
    with pytest.raises(NotFound):
        undo(owner=other, operation_id=last_operation(owner.id))


def test_a_purge_keeps_a_tombstone_and_erases_the_fields(owner: User, make: MakeGoal) -> None:
    secret = make(owner, "secret plan", description="do not tell")
    kept = make(owner, "kept")
    service.trash_goal(caller=owner, goal_id=secret, retention=RETENTION)
    trash.purge(owner=owner, goal_id=secret)
    rows = (
        db.session.execute(
            select(GoalEvent).where(GoalEvent.goal_id == secret).order_by(GoalEvent.id)
        )
        .scalars()
        .all()
    )
    assert [r.kind for r in rows] == ["created", "trashed", "purged"]
    assert all(r.erased and r.name is None and r.description is None for r in rows)
    feed = history.feed(owner=owner, after=None, limit=100)["items"]
    assert "secret plan" not in repr(feed)
    assert "do not tell" not in repr(feed)
    assert [e["kind"] for e in feed if e["goal_id"] == secret] == ["created", "trashed", "purged"]
    assert live_state(owner.id).keys() == {kept}


def test_the_trash_expiry_is_an_operation_of_its_own_asked_by_no_one(
    owner: User, make: MakeGoal
) -> None:
    old, new = make(owner, "old"), make(owner, "new")
    service.trash_goal(caller=owner, goal_id=old, retention=RETENTION)
    # With no retention at all, the next trash purges the first one.
    service.trash_goal(caller=owner, goal_id=new, retention=timedelta(0))
    ops = operations_of(owner.id)
    # The purge began inside the trash's transaction, so after it.
    assert [(op.kind, op.actor_id) for op in ops[-2:]] == [("trash", owner.id), ("purge", None)]
    # The trash that triggered the purge can still be undone.
    undo(owner=owner, operation_id=ops[-2].id)
    assert new in live_state(owner.id)
    assert_record_matches(owner.id)


def test_the_cron_purge_is_recorded_per_owner(owner: User, other: User, make: MakeGoal) -> None:
    for who in (owner, other):
        goal = make(who, "old")
        service.trash_goal(caller=who, goal_id=goal, retention=RETENTION)
    db.session.commit()
    assert trash.purge_expired(retention=timedelta(0)) == 2
    for who in (owner, other):
        last = operations_of(who.id)[-1]
        assert (last.kind, last.actor_id) == ("purge", None)
        kinds = (
            db.session.execute(select(GoalEvent.kind).where(GoalEvent.operation_id == last.id))
            .scalars()
            .all()
        )
        assert kinds == ["purged"]
        assert_record_matches(who.id)


def test_generated_demo_goals_are_recorded(owner: User) -> None:
    generated = demo.generate(owner.name, 50, batch=20)
    assert_record_matches(generated.id)
    assert {op.kind for op in operations_of(generated.id)} == {"import"}


def test_deleting_a_user_deletes_their_history(owner: User, other: User, make: MakeGoal) -> None:
    make(other, "theirs")
    make(owner, "mine")
    delete_user(owner, other.id)
    for model in (Operation, GoalEvent):
        held = db.session.execute(
            select(func.count()).select_from(model).where(model.owner_id == other.id)
        ).scalar_one()
        assert held == 0
    assert len(operations_of(owner.id)) == 1


# ---------------------------------------------------------------------------- undo


@pytest.mark.parametrize(
    "change",
    [
        "create",
        "create_at_position",
        "rename_and_complete",
        "move_to_position",
        "trash",
        "restore",
        "import",
    ],
)
def test_undo_puts_every_goal_back_exactly_and_redo_again(
    owner: User, make: MakeGoal, build: Build, change: str
) -> None:
    home = make(owner, "home")
    kids = [make(owner, name, home) for name in ("a", "b", "c")]
    away = make(owner, "away")
    make(owner, "x", away)
    if change == "restore":
        service.trash_goal(caller=owner, goal_id=home, retention=RETENTION)
    before = goal_state(owner.id)
    if change == "create":
        make(owner, "new", home)
    elif change == "create_at_position":
        make(owner, "new", home, position=1)
    elif change == "rename_and_complete":
        service.update_goal(caller=owner, goal_id=kids[1], changes=edit(name="B", end=utcnow()))
    elif change == "move_to_position":
        service.update_goal(caller=owner, goal_id=kids[2], changes=edit(parent_id=away, position=0))
    elif change == "trash":
        service.trash_goal(caller=owner, goal_id=home, retention=RETENTION)
    elif change == "restore":
        trash.restore(owner=owner, goal_id=home, retention=RETENTION)
    elif change == "import":
        build(owner, [{"name": "t", "children": [{"name": "u"}, {"name": "v"}]}], parent_id=away)
    after = goal_state(owner.id)
    changed = last_operation(owner.id)
    undone = undo(owner=owner, operation_id=changed)
    assert undone["kind"] == "undo"
    assert undone["undoes"] == changed
    now = goal_state(owner.id)
    # Goals the change created are in the trash now; every other goal is exactly as before.
    assert {g: s for g, s in now.items() if g in before} == before
    assert all(now[g][-2] is not None for g in now.keys() - before.keys())
    assert_record_matches(owner.id)
    # The undo of the undo redoes: the live goals are as the change left them.
    undo(owner=owner, operation_id=undone["id"])
    redone = goal_state(owner.id)
    assert {g: s[:7] for g, s in redone.items()} == {g: s[:7] for g, s in after.items()}
    assert {g for g, s in redone.items() if s[-2] is None} == {
        g for g, s in after.items() if s[-2] is None
    }
    assert_record_matches(owner.id)


def test_an_undone_import_goes_to_the_trash_as_one_subtree(owner: User, build: Build) -> None:
    ids = build(owner, [{"name": "t", "children": [{"name": "u", "children": [{"name": "w"}]}]}])
    _undo_last(owner)
    listed = trash.list_trash(owner=owner, retention=RETENTION)
    assert [(i["id"], i["goals_count"]) for i in listed] == [(ids[0], 3)]
    trash.restore(owner=owner, goal_id=ids[0], retention=RETENTION)
    assert set(live_state(owner.id)) == set(ids)


def test_a_later_change_of_the_same_goal_blocks_the_undo_until_it_is_undone(
    owner: User, make: MakeGoal
) -> None:
    goal = make(owner, "g")
    service.update_goal(caller=owner, goal_id=goal, changes=edit(name="first"))
    first = last_operation(owner.id)
    service.update_goal(caller=owner, goal_id=goal, changes=edit(name="second"))
    second = last_operation(owner.id)
    with pytest.raises(UndoConflict) as caught:
        undo(owner=owner, operation_id=first)
    assert caught.value.extra["conflicts"] == [second]
    undo(owner=owner, operation_id=second)
    # The second change and its undo cancel out: nothing blocks the first's undo now.
    undo(owner=owner, operation_id=first)
    assert live_state(owner.id)[goal][0] == "g"


def test_a_change_of_other_goals_does_not_block_an_undo(owner: User, make: MakeGoal) -> None:
    a, b = make(owner, "a"), make(owner, "b")
    service.update_goal(caller=owner, goal_id=a, changes=edit(name="A"))
    renamed_a = last_operation(owner.id)
    service.update_goal(caller=owner, goal_id=b, changes=edit(name="B"))
    undo(owner=owner, operation_id=renamed_a)
    assert live_state(owner.id) == {a: ("a", None, None), b: ("B", None, None)}


def test_undo_twice_and_undo_of_a_purge_are_refused(owner: User, make: MakeGoal) -> None:
    goal = make(owner, "g")
    created = last_operation(owner.id)
    first_undo = undo(owner=owner, operation_id=created)
    with pytest.raises(AlreadyUndone) as caught:
        undo(owner=owner, operation_id=created)
    assert caught.value.extra["undone_by"] == first_undo["id"]
    trash.purge(owner=owner, goal_id=goal)
    with pytest.raises(NotUndoable):
        _undo_last(owner)
    # What the purge erased cannot come back by undoing what came before it either.
    with pytest.raises((NotUndoable, UndoConflict)):
        undo(owner=owner, operation_id=first_undo["id"])


def test_an_undo_that_would_make_a_cycle_is_refused(owner: User, make: MakeGoal) -> None:
    b = make(owner, "b")
    a = make(owner, "a", b)
    service.update_goal(caller=owner, goal_id=a, changes=edit(parent_id=None))
    moved_out = last_operation(owner.id)
    service.update_goal(caller=owner, goal_id=b, changes=edit(parent_id=a))
    before = goal_state(owner.id)
    with pytest.raises(CycleConflict):
        undo(owner=owner, operation_id=moved_out)
    assert goal_state(owner.id) == before


def test_an_undo_that_would_put_a_goal_under_a_trashed_parent_is_refused(
    owner: User, make: MakeGoal
) -> None:
    p, q = make(owner, "p"), make(owner, "q")
    a = make(owner, "a", p)
    service.update_goal(caller=owner, goal_id=a, changes=edit(parent_id=q))
    moved = last_operation(owner.id)
    service.trash_goal(caller=owner, goal_id=p, retention=RETENTION)
    trashed_p = last_operation(owner.id)
    with pytest.raises(UndoConflict) as caught:
        undo(owner=owner, operation_id=moved)
    assert caught.value.extra["conflicts"] == [trashed_p]
    assert live_state(owner.id)[a][1] == q


def test_an_undo_that_brings_back_a_taken_name_is_refused(owner: User, make: MakeGoal) -> None:
    goal = make(owner, "plan")
    service.trash_goal(caller=owner, goal_id=goal, retention=RETENTION)
    trashed = last_operation(owner.id)
    make(owner, "plan")
    with pytest.raises(NameConflict):
        undo(owner=owner, operation_id=trashed)
    assert goal not in live_state(owner.id)


# ---------------------------------------------------------------------------- as of


def _flat(forest: Any) -> bytes:
    return b"".join(flat_json(forest))


def test_the_tree_as_of_each_instant_is_the_tree_read_then(owner: User, make: MakeGoal) -> None:
    """A random walk of changes and undos; the tree as of each step equals the tree read then."""
    rng = random.Random(17)
    seen: list[tuple[Any, bytes]] = []
    for step in range(60):
        live = list(live_state(owner.id))
        action = rng.choice(["create", "create", "rename", "move", "complete", "trash", "undo"])
        try:
            if action == "create" or not live:
                parent = rng.choice([None, *live])
                make(owner, f"g{step}", parent)
            elif action == "rename":
                goal = rng.choice(live)
                service.update_goal(caller=owner, goal_id=goal, changes=edit(name=f"r{step}"))
            elif action == "move":
                goal = rng.choice(live)
                target = rng.choice([None, *live])
                service.update_goal(caller=owner, goal_id=goal, changes=edit(parent_id=target))
            elif action == "complete":
                goal = rng.choice(live)
                service.update_goal(caller=owner, goal_id=goal, changes=edit(end=utcnow()))
            elif action == "trash":
                service.trash_goal(caller=owner, goal_id=rng.choice(live), retention=RETENTION)
            else:
                ops = operations_of(owner.id)
                undo(owner=owner, operation_id=rng.choice(ops[-3:]).id)
        except (UndoConflict, AlreadyUndone, NameConflict, CycleConflict, NotFound):
            pass
        db.session.commit()
        seen.append((utcnow(), _flat(service.forest(owner=owner))))
        assert_record_matches(owner.id)
    for at, tree in seen:
        assert _flat(asof.forest_as_of(owner=owner, at=at)) == tree, at


def test_a_goal_and_its_subtree_as_of_an_instant(owner: User, make: MakeGoal) -> None:
    home = make(owner, "home")
    kid = make(owner, "kid", home)
    make(owner, "other kid", home)
    db.session.commit()
    early = utcnow()
    service.update_goal(caller=owner, goal_id=kid, changes=edit(end=utcnow(), name="done kid"))
    then = asof.goal_as_of(caller=owner, goal_id=home, at=early).as_dict()
    now = service.get_goal(caller=owner, goal_id=home).as_dict()
    assert (then["progress"], now["progress"]) == (0.0, 0.5)
    assert then["children_count"] == now["children_count"] == 2
    assert asof.goal_as_of(caller=owner, goal_id=kid, at=early).as_dict()["name"] == "kid"
    assert _flat(asof.subtree_as_of(caller=owner, goal_id=home, at=utcnow())) == _flat(
        service.subtree(caller=owner, goal_id=home)
    )


def test_as_of_refuses_the_future_and_finds_no_goal_before_it_existed(
    owner: User, make: MakeGoal
) -> None:
    before = utcnow()
    goal = make(owner, "g")
    with pytest.raises(NotFound):
        asof.goal_as_of(caller=owner, goal_id=goal, at=before)
    with pytest.raises(Invalid):
        asof.forest_as_of(owner=owner, at=utcnow() + timedelta(minutes=5))
    service.trash_goal(caller=owner, goal_id=goal, retention=RETENTION)
    with pytest.raises(NotFound):
        asof.goal_as_of(caller=owner, goal_id=goal, at=utcnow())


def test_a_purged_goal_is_absent_from_every_past_tree(owner: User, make: MakeGoal) -> None:
    goal = make(owner, "gone")
    db.session.commit()
    when = utcnow()
    service.trash_goal(caller=owner, goal_id=goal, retention=RETENTION)
    trash.purge(owner=owner, goal_id=goal)
    assert _flat(asof.forest_as_of(owner=owner, at=when)) == b'{"items":[]}'


@pytest.mark.parametrize("size", [10, 600])
def test_the_tree_as_of_an_instant_is_read_with_a_fixed_number_of_queries(
    owner: User, build: Build, count_queries: Any, size: int
) -> None:
    build(owner, [{"name": f"g{i}", "children": [{"name": "c"}]} for i in range(size // 2)])
    with count_queries() as log:
        _flat(asof.forest_as_of(owner=owner, at=utcnow()))
    assert log.count == 1, log.statements


# ---------------------------------------------------------------------------- the feed


def test_the_feed_pages_through_every_event_once_in_order(
    owner: User, other: User, make: MakeGoal
) -> None:
    for i in range(7):
        make(owner, f"g{i}")
        make(other, f"theirs {i}")
    seen: list[int] = []
    after = None
    while True:
        page = history.feed(owner=owner, after=after, limit=3)
        seen += [e["id"] for e in page["items"]]
        after = page["cursor"]
        if not page["more"]:
            break
    mine = (
        db.session.execute(
            select(GoalEvent.id).where(GoalEvent.owner_id == owner.id).order_by(GoalEvent.id)
        )
        .scalars()
        .all()
    )
    assert seen == list(mine)
    # Polling again gives nothing new until something changes.
    assert history.feed(owner=owner, after=after, limit=3)["items"] == []
    make(owner, "later")
    assert [e["name"] for e in history.feed(owner=owner, after=after, limit=3)["items"]] == [
        "later"
    ]


def test_a_cursor_cannot_be_edited_or_used_by_someone_else(
    owner: User, other: User, make: MakeGoal
) -> None:
    make(owner, "g")
    cursor = history.feed(owner=owner, after=None, limit=1)["cursor"]
    with pytest.raises(Invalid):
        history.feed(owner=other, after=cursor, limit=10)
    payload, signature = cursor.split(".")
    with pytest.raises(Invalid):
        history.feed(owner=owner, after=f"{payload}.{signature[::-1]}", limit=10)
    with pytest.raises(Invalid):
        history.feed(owner=owner, after="WzEsMF0", limit=10)


def test_a_goal_as_of_its_own_timestamps_is_that_goal(owner: User, make: MakeGoal) -> None:
    """A goal's created_at and updated_at are its operations' instants."""
    goal = make(owner, "g")
    created = service.get_goal(caller=owner, goal_id=goal).as_dict()
    then = asof.goal_as_of(caller=owner, goal_id=goal, at=created["created_at"]).as_dict()
    assert (then["name"], then["version"]) == ("g", 1)
    updated = service.update_goal(caller=owner, goal_id=goal, changes=edit(name="h")).as_dict()
    then = asof.goal_as_of(caller=owner, goal_id=goal, at=updated["updated_at"]).as_dict()
    assert then == updated
