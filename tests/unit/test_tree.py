"""Pure tests of the goal-tree algorithms: indexing, roll-ups, filters and the JSON writers.

Walks, roll-ups and filters are stated with the reference implementation (reference_tree), and
the writers, which do all three on their own, are checked against it.
"""

from __future__ import annotations

import json
import random
from collections.abc import Iterable
from datetime import UTC, datetime
from functools import partial
from typing import Any

import orjson
import pytest

from overachiever.goals.tree import Forest, Row, Stats, flat_json, nested_json
from tests.support import reference_tree as ref
from tests.support.deep_json import parse_deep

DONE = datetime(2024, 5, 1, 12, 0, tzinfo=UTC)
DUE = datetime(2024, 6, 1, 8, 30, tzinfo=UTC)


def row(
    goal_id: int, parent_id: int | None, *, done: bool = False, due: datetime | None = None
) -> Row:
    return Row(goal_id, parent_id, f"g{goal_id}", DONE if done else None, due)


def text(parts: Iterable[bytes]) -> bytes:
    return b"".join(parts)


def sample() -> Forest:
    """Two trees, rows given in sibling order (ids deliberately not in that order).

    1                     (open)
    ├── 3                 (open)
    │   ├── 5             (done leaf)
    │   └── 4             (open leaf)
    ├── 2                 (done, inner)
    │   ├── 6             (open leaf)
    │   └── 7             (open)
    │       └── 8         (open leaf)
    └── 9                 (open leaf)
    10                    (open leaf, second root)
    """
    return Forest(
        [
            row(1, None),
            row(10, None, due=DUE),
            row(3, 1),
            row(2, 1, done=True),
            row(9, 1),
            row(5, 3, done=True),
            row(4, 3),
            row(6, 2),
            row(7, 2),
            row(8, 7),
        ]
    )


# ---------------------------------------------------------------------------- Forest indexing


def test_forest_indexes_roots_and_children_in_given_sibling_order() -> None:
    forest = sample()
    assert forest.roots == [1, 10]
    assert forest.children[1] == [3, 2, 9]
    assert forest.children[3] == [5, 4]
    assert forest.children[2] == [6, 7]
    assert forest.children[7] == [8]
    assert 4 not in forest.children  # a leaf has no entry
    assert forest.rows[10].due == DUE


def test_forest_rows_whose_parent_is_absent_are_roots() -> None:
    # A subtree read: the root's parent (99) is not among the rows.
    forest = Forest([row(5, 99), row(6, 5), row(7, 5)])
    assert forest.roots == [5]
    assert forest.children == {5: [6, 7]}


def test_forest_explicit_roots_are_checked() -> None:
    forest = Forest([row(5, 99), row(6, 5)], roots=[6])
    assert forest.roots == [6]
    assert ref.breadth_first(forest) == [6]
    with pytest.raises(KeyError):
        Forest([row(5, None)], roots=[42])


def test_breadth_first_visits_parents_before_children() -> None:
    order = ref.breadth_first(sample())
    assert order == [1, 10, 3, 2, 9, 5, 4, 6, 7, 8]


def test_empty_forest() -> None:
    forest = Forest([])
    assert forest.roots == []
    assert ref.stats(forest) == {}
    assert orjson.loads(text(nested_json(forest))) == {"items": []}
    assert orjson.loads(text(flat_json(forest))) == {"items": []}


# ---------------------------------------------------------------------------- Stats roll-ups


def test_stats_progress_rules() -> None:
    assert Stats().progress == 0.0  # an open leaf
    assert Stats(done=True, done_leaves=1).progress == 1.0
    assert Stats(leaves=4, done_leaves=1).progress == 0.25
    # A done goal is 1.0 whatever its leaves say.
    assert Stats(leaves=4, done_leaves=0, done=True).progress == 1.0


def test_stats_of_hand_computed_tree() -> None:
    stats = ref.stats(sample())
    counts = {
        gid: (s.children_count, s.descendants_count, s.done_descendants_count)
        for gid, s in stats.items()
    }
    assert counts == {
        1: (3, 8, 2),  # descendants 3,5,4,2,6,7,8,9; done 5 and 2
        3: (2, 2, 1),
        2: (2, 3, 0),
        7: (1, 1, 0),
        4: (0, 0, 0),
        5: (0, 0, 0),
        6: (0, 0, 0),
        8: (0, 0, 0),
        9: (0, 0, 0),
        10: (0, 0, 0),
    }
    progress = {gid: s.progress for gid, s in stats.items()}
    # Leaves of 1: 5 (done), 4, 6 and 8 (done via done 2), 9 -> 3 of 5 done.
    assert progress[1] == pytest.approx(3 / 5)
    assert progress[3] == pytest.approx(1 / 2)
    assert progress[2] == 1.0  # done inner goal
    assert progress[7] == 0.0  # open inner goal whose only leaf is open
    assert progress[5] == 1.0
    assert progress[4] == 0.0
    assert progress[10] == 0.0
    assert (stats[1].leaves, stats[1].done_leaves) == (5, 3)
    assert (stats[2].leaves, stats[2].done_leaves) == (2, 2)


def test_done_inner_goal_counts_all_its_leaves_done() -> None:
    # 1 -> 2 (done) -> {3, 4 -> {5, 6}} and 1 -> 7 (open leaf).
    forest = Forest(
        [row(1, None), row(2, 1, done=True), row(7, 1), row(3, 2), row(4, 2), row(5, 4), row(6, 4)]
    )
    stats = ref.stats(forest)
    assert (stats[2].leaves, stats[2].done_leaves) == (3, 3)
    assert stats[4].progress == 0.0
    assert stats[1].progress == pytest.approx(3 / 4)
    assert stats[1].done_descendants_count == 1


def test_stats_of_a_fully_done_leaf_tree_and_partial_chain() -> None:
    forest = Forest([row(1, None), row(2, 1, done=True), row(3, 1, done=True)])
    stats = ref.stats(forest)
    assert stats[1].progress == 1.0
    assert stats[1].done is False
    assert stats[1].done_descendants_count == 2
    chain = Forest([row(1, None), row(2, 1), row(3, 2, done=True)])
    assert [ref.stats(chain)[i].progress for i in (1, 2, 3)] == [1.0, 1.0, 1.0]
    chain = Forest([row(1, None), row(2, 1), row(3, 2)])
    assert [ref.stats(chain)[i].progress for i in (1, 2, 3)] == [0.0, 0.0, 0.0]


def test_stats_only_cover_goals_reachable_from_the_roots() -> None:
    forest = Forest([row(1, None), row(2, 1), row(3, 2)], roots=[2])
    assert set(ref.stats(forest)) == {2, 3}
    assert ref.stats(forest)[2].descendants_count == 1


# ---------------------------------------------------------------------------- keep() filters


def test_keep_all_is_no_filter() -> None:
    forest = sample()
    assert ref.keep(forest, "all", ref.stats(forest)) is None


def test_keep_done_keeps_matches_and_their_ancestors() -> None:
    forest = sample()
    kept = ref.keep(forest, "done", ref.stats(forest))
    # 5 and 2 are done; 3 and 1 are their ancestors. 2's open children are not kept.
    assert kept == {1, 2, 3, 5}


def test_keep_open_keeps_matches_and_their_ancestors() -> None:
    forest = sample()
    kept = ref.keep(forest, "open", ref.stats(forest))
    # Every open goal, plus done 2 because open 6, 7, 8 sit under it; done leaf 5 goes.
    assert kept == {1, 2, 3, 4, 6, 7, 8, 9, 10}


def test_keep_done_drops_trees_without_done_goals() -> None:
    forest = Forest([row(1, None), row(2, 1), row(3, None), row(4, 3, done=True)])
    assert ref.keep(forest, "done", ref.stats(forest)) == {3, 4}


# ---------------------------------------------------------------------------- pre_order


def test_pre_order_with_depths() -> None:
    assert list(ref.pre_order(sample())) == [
        (1, 0),
        (3, 1),
        (5, 2),
        (4, 2),
        (2, 1),
        (6, 2),
        (7, 2),
        (8, 3),
        (9, 1),
        (10, 0),
    ]


def test_pre_order_max_depth() -> None:
    forest = sample()
    assert list(ref.pre_order(forest, max_depth=1)) == [(1, 0), (10, 0)]
    assert list(ref.pre_order(forest, max_depth=2)) == [(1, 0), (3, 1), (2, 1), (9, 1), (10, 0)]
    assert len(list(ref.pre_order(forest, max_depth=3))) == 9  # all but 8 (depth 3)
    assert len(list(ref.pre_order(forest, max_depth=100))) == 10


def test_pre_order_with_kept_set() -> None:
    assert list(ref.pre_order(sample(), kept={1, 2, 3, 5})) == [(1, 0), (3, 1), (5, 2), (2, 1)]


# ---------------------------------------------------------------------------- nested_json


def node(goal_id: int, progress: float, children: list[Any], end: bool = False) -> dict[str, Any]:
    return {
        "id": goal_id,
        "name": f"g{goal_id}",
        "end": "2024-05-01T12:00:00Z" if end else None,
        "due": None,
        "progress": progress,
        "completion": "manual",
        "children": children,
    }


def test_nested_json_whole_forest() -> None:
    out = orjson.loads(text(nested_json(sample())))
    n10 = node(10, 0.0, [])
    n10["due"] = "2024-06-01T08:30:00Z"
    assert out == {
        "items": [
            node(
                1,
                0.6,
                [
                    node(3, 0.5, [node(5, 1.0, [], end=True), node(4, 0.0, [])]),
                    node(
                        2,
                        1.0,
                        [node(6, 0.0, []), node(7, 0.0, [node(8, 0.0, [])])],
                        end=True,
                    ),
                    node(9, 0.0, []),
                ],
            ),
            n10,
        ]
    }


def test_nested_json_comes_in_chunks_that_join_to_valid_json() -> None:
    parts = list(nested_json(sample()))
    assert all(isinstance(p, bytes) for p in parts)
    json.loads(b"".join(parts))


def test_nested_json_status_done() -> None:
    out = orjson.loads(text(nested_json(sample(), status="done")))
    assert out == {
        "items": [
            node(
                1,
                0.6,  # progress is always of the whole subtree, not of the filtered view
                [
                    node(3, 0.5, [node(5, 1.0, [], end=True)]),
                    node(2, 1.0, [], end=True),
                ],
            )
        ]
    }


def test_nested_json_status_open() -> None:
    out = orjson.loads(text(nested_json(sample(), status="open")))
    ids = [n["id"] for n in out["items"]]
    assert ids == [1, 10]
    one = out["items"][0]
    assert [c["id"] for c in one["children"]] == [3, 2, 9]
    assert [c["id"] for c in one["children"][0]["children"]] == [4]  # 5 is done
    assert [c["id"] for c in one["children"][1]["children"]] == [6, 7]


def test_nested_json_depth_limit() -> None:
    out = orjson.loads(text(nested_json(sample(), max_depth=1)))
    assert [(n["id"], n["children"]) for n in out["items"]] == [(1, []), (10, [])]
    out = orjson.loads(text(nested_json(sample(), max_depth=2)))
    one = out["items"][0]
    assert [c["id"] for c in one["children"]] == [3, 2, 9]
    assert all(c["children"] == [] for c in one["children"])
    # Progress still reflects the whole subtree below the cut.
    assert one["progress"] == 0.6


def test_nested_json_unwrapped_is_the_single_root_node() -> None:
    forest = Forest([row(3, 1), row(5, 3, done=True), row(4, 3)], roots=[3])
    out = orjson.loads(text(nested_json(forest, wrap=False)))
    assert out == node(3, 0.5, [node(5, 1.0, [], end=True), node(4, 0.0, [])])


def test_nested_json_unwrapped_root_is_shown_whatever_the_filter() -> None:
    # An open root with only open goals under it, filtered by done: the root stays.
    forest = Forest([row(3, 1), row(4, 3)], roots=[3])
    out = orjson.loads(text(nested_json(forest, status="done", wrap=False)))
    assert out == node(3, 0.0, [])
    out = orjson.loads(text(nested_json(forest, status="open", wrap=False)))
    assert out == node(3, 0.0, [node(4, 0.0, [])])
    # And a done root filtered by open still shows itself, with its open children.
    forest = Forest([row(3, 1, done=True), row(4, 3), row(6, 3, done=True)], roots=[3])
    out = orjson.loads(text(nested_json(forest, status="open", wrap=False)))
    assert out == node(3, 1.0, [node(4, 0.0, [])], end=True)


def test_nested_json_unwrapped_depth_limit() -> None:
    forest = Forest([row(3, 1), row(4, 3), row(5, 4)], roots=[3])
    assert orjson.loads(text(nested_json(forest, wrap=False, max_depth=1))) == node(3, 0.0, [])
    out = orjson.loads(text(nested_json(forest, wrap=False, max_depth=2)))
    assert out == node(3, 0.0, [node(4, 0.0, [])])


# ---------------------------------------------------------------------------- flat_json


def flat(
    goal_id: int, parent_id: int | None, depth: int, progress: float, end: bool = False
) -> dict[str, Any]:
    return {
        "id": goal_id,
        "parent_id": parent_id,
        "depth": depth,
        "name": f"g{goal_id}",
        "end": "2024-05-01T12:00:00Z" if end else None,
        "due": None,
        "progress": progress,
        "completion": "manual",
    }


def test_flat_json_pre_order_with_depths() -> None:
    out = orjson.loads(text(flat_json(sample())))
    last = flat(10, None, 0, 0.0)
    last["due"] = "2024-06-01T08:30:00Z"
    assert out == {
        "items": [
            flat(1, None, 0, 0.6),
            flat(3, 1, 1, 0.5),
            flat(5, 3, 2, 1.0, end=True),
            flat(4, 3, 2, 0.0),
            flat(2, 1, 1, 1.0, end=True),
            flat(6, 2, 2, 0.0),
            flat(7, 2, 2, 0.0),
            flat(8, 7, 3, 0.0),
            flat(9, 1, 1, 0.0),
            last,
        ]
    }


def test_flat_json_filters() -> None:
    out = orjson.loads(text(flat_json(sample(), status="done")))
    assert [(i["id"], i["depth"]) for i in out["items"]] == [(1, 0), (3, 1), (5, 2), (2, 1)]
    out = orjson.loads(text(flat_json(sample(), max_depth=2)))
    assert [(i["id"], i["depth"]) for i in out["items"]] == [
        (1, 0),
        (3, 1),
        (2, 1),
        (9, 1),
        (10, 0),
    ]
    out = orjson.loads(text(flat_json(sample(), status="open", max_depth=3)))
    assert [i["id"] for i in out["items"]] == [1, 3, 4, 2, 6, 7, 9, 10]


def test_flat_json_pin_roots() -> None:
    # A subtree whose root (parent 1, outside the rows) does not match the filter.
    forest = Forest([row(3, 1), row(4, 3)], roots=[3])
    assert orjson.loads(text(flat_json(forest, status="done"))) == {"items": []}
    out = orjson.loads(text(flat_json(forest, status="done", pin_roots=True)))
    assert out == {"items": [flat(3, 1, 0, 0.0)]}
    out = orjson.loads(text(flat_json(forest, status="open", pin_roots=True)))
    assert out == {"items": [flat(3, 1, 0, 0.0), flat(4, 3, 1, 0.0)]}


def test_the_writers_tell_each_goals_completion_rule() -> None:
    # Rows may carry a sixth column, the rule; rows without it are manual.
    forest = Forest(
        [
            (1, None, "g1", None, None, "auto"),
            (2, 1, "g2", None, None, "strict"),
            (3, 1, "g3", None, None, "manual"),
            (4, None, "g4", None, None, "cascade"),
        ]
    )
    flat_rules = {i["id"]: i["completion"] for i in orjson.loads(text(flat_json(forest)))["items"]}
    assert flat_rules == {1: "auto", 2: "strict", 3: "manual", 4: "cascade"}
    nested = orjson.loads(text(nested_json(forest)))["items"]
    assert [n["completion"] for n in nested] == ["auto", "cascade"]
    assert [n["completion"] for n in nested[0]["children"]] == ["strict", "manual"]
    assert forest.rows[2].completion == "strict"
    plain = Forest([(1, None, "g1", None, None)])
    assert orjson.loads(text(flat_json(plain)))["items"][0]["completion"] == "manual"
    assert plain.rows[1] == Row(1, None, "g1", None, None, "manual")


# ---------------------------------------------------------------------------- against the reference


def random_forest(seed: int, size: int = 300) -> Forest:
    """Trees of random shape and completion, rows in random order."""
    rnd = random.Random(seed)
    rows = [
        row(
            i,
            None if i == 1 or rnd.random() < 0.1 else rnd.randint(1, i - 1),
            done=rnd.random() < 0.3,
        )
        for i in range(1, size + 1)
    ]
    rnd.shuffle(rows)
    return Forest(rows)


def walk_nested(nodes: list[dict[str, Any]]) -> list[tuple[int, int, float]]:
    """(id, depth, progress) of nested nodes in pre-order, iteratively."""
    out: list[tuple[int, int, float]] = []
    stack = [(n, 0) for n in reversed(nodes)]
    while stack:
        n, depth = stack.pop()
        out.append((n["id"], depth, n["progress"]))
        stack.extend((c, depth + 1) for c in reversed(n["children"]))
    return out


@pytest.mark.parametrize(
    "make",
    [sample, lambda: chain(50), *[partial(random_forest, seed) for seed in range(6)]],
    ids=["sample", "chain", *[f"random-{seed}" for seed in range(6)]],
)
def test_the_writers_walk_filter_and_roll_up_like_the_reference(make: Any) -> None:
    forest = make()
    rollups = ref.stats(forest)
    for status in ("all", "done", "open"):
        kept = ref.keep(forest, status, rollups)
        for max_depth in (None, 1, 2, 4):
            options: dict[str, Any] = {"status": status, "max_depth": max_depth}
            items = orjson.loads(text(flat_json(forest, **options)))["items"]
            listed = [(i["id"], i["depth"], i["progress"]) for i in items]
            assert listed == [
                (g, depth, rollups[g].progress)
                for g, depth in ref.pre_order(forest, max_depth, kept)
            ]
            nested = orjson.loads(text(nested_json(forest, **options)))["items"]
            assert walk_nested(nested) == listed


# ---------------------------------------------------------------------------- depth 10 000

CHAIN = 10_000


def chain(n: int = CHAIN, done_leaf: bool = True) -> Forest:
    rows = [row(1, None)] + [row(i, i - 1) for i in range(2, n + 1)]
    if done_leaf:
        rows[-1] = row(n, n - 1, done=True)
    return Forest(rows)


def nesting_depth(data: bytes) -> int:
    """Check that data is one JSON value with balanced brackets, iteratively; its max depth."""
    depth = deepest = 0
    in_string = escaped = False
    for byte in data:
        ch = chr(byte)
        if in_string:
            if escaped:
                escaped = False
            elif ch == "\\":
                escaped = True
            elif ch == '"':
                in_string = False
        elif ch == '"':
            in_string = True
        elif ch in "[{":
            depth += 1
            deepest = max(deepest, depth)
        elif ch in "]}":
            depth -= 1
            assert depth >= 0, "closing bracket without an opening one"
    assert depth == 0
    assert not in_string
    return deepest


def test_chain_stats_without_recursion() -> None:
    stats = ref.stats(chain())
    top = stats[1]
    assert top.children_count == 1
    assert top.descendants_count == CHAIN - 1
    assert top.done_descendants_count == 1
    assert top.progress == 1.0  # the one leaf is done
    assert stats[CHAIN // 2].descendants_count == CHAIN - CHAIN // 2
    assert stats[CHAIN].progress == 1.0
    assert ref.stats(chain(done_leaf=False))[1].progress == 0.0


def test_chain_nested_json_is_valid_and_10000_deep() -> None:
    data = text(nested_json(chain()))
    # {"items":[ + one object and one children list per goal.
    assert nesting_depth(data) == 2 + 2 * CHAIN
    value = parse_deep(data)
    current = value["items"]
    depth = 0
    # Walk down iteratively, checking every level.
    while current:
        assert len(current) == 1
        depth += 1
        goal = current[0]
        assert goal["id"] == depth
        assert goal["progress"] == 1.0
        current = goal["children"]
    assert depth == CHAIN
    assert goal["end"] == "2024-05-01T12:00:00Z"


def test_chain_nested_json_unwrapped_and_depth_limited() -> None:
    forest = chain()
    data = text(nested_json(forest, wrap=False))
    assert nesting_depth(data) == 2 * CHAIN
    assert data.startswith(b'{"id":1,')
    assert data.endswith(b"]}" * CHAIN)
    limited = orjson.loads(text(nested_json(forest, max_depth=50)))
    depth, current = 0, limited["items"]
    while current:
        depth += 1
        current = current[0]["children"]
    assert depth == 50


def test_chain_flat_json_lists_every_goal_with_its_depth() -> None:
    items = orjson.loads(text(flat_json(chain())))["items"]
    assert len(items) == CHAIN
    assert [i["depth"] for i in items] == list(range(CHAIN))
    assert [i["id"] for i in items] == list(range(1, CHAIN + 1))
    assert items[0]["parent_id"] is None
    assert all(items[k]["parent_id"] == items[k - 1]["id"] for k in range(1, CHAIN))
    done = orjson.loads(text(flat_json(chain(), status="done")))["items"]
    assert len(done) == CHAIN  # the done leaf keeps every ancestor
    assert orjson.loads(text(flat_json(chain(done_leaf=False), status="done"))) == {"items": []}
