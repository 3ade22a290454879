"""Service-level tests of the import: a payload checked node by node, trees created at once."""

from __future__ import annotations

import pytest

from overachiever.core.errors import Invalid, NameConflict, NotFound
from overachiever.goals import importing, service
from overachiever.goals.importing import ImportedNode, parse_import
from overachiever.goals.schemas import ImportFields
from overachiever.users.models import User
from tests.support.services import T0, Build, MakeGoal, all_count, children, shape

# ---------------------------------------------------------------------------- import


def test_import_trees_in_pre_order(owner: User, make: MakeGoal, build: Build) -> None:
    make(owner, "existing")
    trees = [
        {
            "name": "A",
            "description": "top",
            "children": [
                {"name": "A1", "children": [{"name": "A1a", "end": T0, "start": T0}]},
                {"name": "A2"},
            ],
        },
        {"name": "B", "due": T0},
    ]
    ids = build(owner, trees)
    a, a1, a1a, a2, b = ids
    assert [service.get_goal(caller=owner, goal_id=g).goal.name for g in ids] == [
        "A",
        "A1",
        "A1a",
        "A2",
        "B",
    ]
    assert shape(service.forest(owner=owner)) == [
        ["existing", []],
        ["A", [["A1", [["A1a", []]]], ["A2", []]]],
        ["B", []],
    ]
    assert service.get_goal(caller=owner, goal_id=a).goal.description == "top"
    assert service.get_goal(caller=owner, goal_id=a1a).goal.end == T0
    assert service.get_goal(caller=owner, goal_id=b).goal.due == T0
    assert service.get_goal(caller=owner, goal_id=a).stats.progress == 0.5
    assert service.get_goal(caller=owner, goal_id=a2).goal.parent_id == a
    assert service.get_goal(caller=owner, goal_id=a1).goal.position == 0
    assert service.get_goal(caller=owner, goal_id=a2).goal.position == 1


def test_import_under_a_parent(owner: User, make: MakeGoal, build: Build) -> None:
    p = make(owner, "P")
    make(owner, "first", p)
    ids = build(owner, [{"name": "x", "children": [{"name": "y"}]}], parent_id=p)
    assert service.get_goal(caller=owner, goal_id=ids[0]).goal.parent_id == p
    assert children(owner, p) == ["first", "x"]
    assert service.get_goal(caller=owner, goal_id=p).stats.descendants_count == 3


def test_import_clash_creates_nothing(owner: User, make: MakeGoal, build: Build) -> None:
    p = make(owner, "P")
    make(owner, "taken", p)
    with pytest.raises(NameConflict, match="'taken'"):
        build(owner, [{"name": "fine", "children": [{"name": "deep"}]}, {"name": "taken"}], p)
    with pytest.raises(NameConflict):
        build(owner, [{"name": "P"}])
    # Siblings inside the payload that share a name (the importer normally catches these).
    nodes = [
        ImportedNode(ImportFields(name="new"), None, 0),
        ImportedNode(ImportFields(name="twin"), 0, 0),
        ImportedNode(ImportFields(name="twin"), 0, 1),
    ]
    with pytest.raises(NameConflict):
        importing.import_trees(caller=owner, nodes=nodes, parent_id=None)
    assert all_count(owner) == 2


def test_import_under_unreachable_parent(
    owner: User, other: User, make: MakeGoal, build: Build
) -> None:
    theirs = make(other, "theirs")
    with pytest.raises(NotFound):
        build(owner, [{"name": "x"}], parent_id=theirs)
    assert all_count(owner) == 0
    assert service.get_goal(caller=other, goal_id=theirs).stats.children_count == 0


# ---------------------------------------------------------------------------- payload


def test_parse_import_reads_a_payload_in_pre_order() -> None:
    payload = [{"name": "A", "children": [{"name": "A1"}, {"name": "A2"}]}, {"name": "B"}]
    nodes = parse_import(payload)
    assert [(n.fields.name, n.parent, n.position) for n in nodes] == [
        ("A", None, 0),
        ("A1", 0, 0),
        ("A2", 0, 1),
        ("B", None, 1),
    ]


def test_parse_import_names_each_bad_node() -> None:
    with pytest.raises(Invalid) as info:
        parse_import({"name": "A", "children": [{"name": "x"}, {"name": "x"}, "no"]})
    assert info.value.extra["errors"] == [
        {"loc": ["body", "children", 1, "name"], "msg": "duplicate sibling name 'x'"},
        {"loc": ["body", "children", 2], "msg": "must be an object"},
    ]
