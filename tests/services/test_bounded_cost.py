"""Requests whose cost follows what they read or write: no shape of forest makes one cost more.

The database's work is counted, not timed: on PostgreSQL the rows and index entries of the
goals table it read (its statistics), on SQLite the steps of its virtual machine.
"""

from __future__ import annotations

import itertools
import random
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import event, text

from overachiever.core.db import db
from overachiever.core.errors import NameConflict
from overachiever.goals import queries, results, service
from overachiever.goals.rules import ancestor_path, find_live
from overachiever.goals.schemas import GoalListQuery
from overachiever.goals.tree import Stats
from overachiever.users.models import User
from tests.support import reference_tree
from tests.support.services import RETENTION, T0, Build, bulk_create_chain

# Rows and index entries of the goals table read so far, once this connection's are counted in.
_ROWS_READ = text(
    "SELECT (SELECT coalesce(sum(seq_tup_read), 0) FROM pg_stat_user_tables"
    " WHERE relname = 'goals') + (SELECT coalesce(sum(idx_tup_read), 0)"
    " FROM pg_stat_user_indexes WHERE relname = 'goals')"
)


class Work:
    """What the database did while a block ran, in its own unit (see the module's docstring)."""

    done = 0


def _rows_read() -> int:
    """Rows of the goals table read so far (PostgreSQL), this session's work included."""
    # A backend adds its counts to the shared ones when it goes idle, and only now and then:
    # made to at once, they are in by the time its next statement runs.
    db.session.execute(text("SELECT pg_stat_force_next_flush()"))
    db.session.commit()
    rows = int(db.session.execute(_ROWS_READ).scalar_one())
    db.session.commit()
    return rows


@contextmanager
def measured() -> Iterator[Work]:
    """Count the database's work while the block runs, across its transactions."""
    work = Work()
    db.session.commit()  # the block starts without a connection, as a request does
    engine = db.engine
    if engine.dialect.name != "sqlite":
        before = _rows_read()
        yield work
        work.done = _rows_read() - before
        return
    steps = [0]
    touched: list[Any] = []

    def tick() -> int:
        steps[0] += 1
        return 0  # go on

    def count_on(dbapi_conn: Any, *_args: Any) -> None:
        dbapi_conn.set_progress_handler(tick, 10)
        touched.append(dbapi_conn)

    event.listen(engine, "checkout", count_on)
    try:
        yield work
        db.session.commit()
    finally:
        event.remove(engine, "checkout", count_on)
        for dbapi_conn in touched:
            dbapi_conn.set_progress_handler(None, 0)
    work.done = steps[0]


def cost(call: Callable[[], Any]) -> int:
    """The database's work for one call."""
    with measured() as work:
        call()
    return work.done


DEPTH = 2000


@pytest.fixture
def deep(owner: User) -> list[int]:
    """A chain of 2 000 goals, each under the previous one."""
    return bulk_create_chain(owner, (f"level {i}" for i in range(DEPTH)))


def test_roll_ups_of_a_page_along_a_chain_read_the_chain_once(owner: User, deep: list[int]) -> None:
    page = deep[::40]  # 50 goals, each above the next: their subtrees hold 50 000 goals in all
    one_walk = cost(lambda: results.stats_for(deep[:1]))
    page_walk = cost(lambda: results.stats_for(page))
    # Walked goal by goal, the page read its chain 25 times over (50 subtrees of 1 000 goals
    # on average); read as one union, about once.
    assert page_walk < 2 * one_walk, (page_walk, one_walk)
    got = results.stats_for(page)
    for i, goal_id in enumerate(page):
        below = DEPTH - 1 - 40 * i
        assert got[goal_id] == Stats(children_count=1, descendants_count=below), goal_id


def test_a_sorted_list_page_over_a_deep_chain_reads_each_goal_about_once(
    owner: User, deep: list[int], build: Build
) -> None:
    # The shape of a one-minute request: a deep chain with a wide leaf, listed by creation.
    build(owner, [{"name": f"leaf {i}"} for i in range(500)], parent_id=deep[-1])
    every_goal_once = cost(lambda: results.stats_for(deep[:1]))
    query = GoalListQuery(sort="created", limit=500)
    listing = cost(lambda: service.list_goals(owner=owner, query=query))
    # The page is the chain's first 500 goals, whose subtrees hold a million goals in all.
    # The count, the sorted page and the roll-ups each read every goal about once.
    assert listing < 5 * every_goal_once, (listing, every_goal_once)
    items, total = service.list_goals(owner=owner, query=query)
    assert total == DEPTH + 500
    assert [r.stats.descendants_count for r in items] == [DEPTH + 499 - i for i in range(500)]


# ---------------------------------------------------------------------------- stale statistics


def test_postgresql_walks_each_goal_once_on_a_table_it_has_no_statistics_of(
    owner: User, build: Build
) -> None:
    if db.engine.dialect.name != "postgresql":
        pytest.skip("PostgreSQL's planner statistics")
    # A new (or just restored) table, which autovacuum has not analyzed yet, grown by imports
    # too small to analyze it: the planner knows nothing of it.
    db.session.execute(text("ALTER TABLE goals SET (autovacuum_enabled = false)"))
    db.session.commit()
    chain: list[int] = []
    for part in range(4):
        link = [{"name": f"level {500 * part + i}"} for i in range(500)]
        for upper, lower in itertools.pairwise(reversed(link)):
            lower.setdefault("children", []).append(upper)
        chain += build(owner, [link[0]], parent_id=chain[-1] if chain else None)
    assert db.session.execute(queries.PLANNER_ROWS).scalar() == -1  # never analyzed
    top, middle, deepest = chain[0], chain[len(chain) // 2], chain[-1]
    reads: dict[str, Callable[[], Any]] = {
        "goal": lambda: service.get_goal(caller=owner, goal_id=top),
        "subtree": lambda: service.subtree(caller=owner, goal_id=top),
        "page": lambda: results.stats_for([top, middle, deepest]),
        "ancestors": lambda: ancestor_path(0, deepest),
        "goal in the middle": lambda: find_live(owner.id, middle),
    }
    costs = {name: cost(read) for name, read in reads.items()}
    # The partial sibling-name index holds every live goal, and looks tiny to a planner
    # without statistics: read whole at each level, a walk read 2 000 x 2 000 entries.
    assert all(rows < 4 * len(chain) for rows in costs.values()), costs
    assert costs["goal in the middle"] < 10, costs
    assert service.get_goal(caller=owner, goal_id=top).stats.descendants_count == len(chain) - 1


def test_postgresql_walks_a_wide_goal_once_after_analyze(owner: User, build: Build) -> None:
    if db.engine.dialect.name != "postgresql":
        pytest.skip("PostgreSQL's planner statistics")
    # Analyzed with nearly every goal under one parent, the planner took each goal for the
    # parent of all of them, and scanned the table for the children of each leaf it reached.
    top = build(owner, [{"name": "wide", "children": [{"name": f"c{i}"} for i in range(2000)]}])[0]
    db.session.commit()
    db.session.execute(text("ANALYZE goals"))
    db.session.commit()
    costs = {
        "subtree": cost(lambda: service.subtree(caller=owner, goal_id=top)),
        "goal": cost(lambda: service.get_goal(caller=owner, goal_id=top)),
    }
    assert all(rows < 10 * 2001 for rows in costs.values()), costs
    assert service.get_goal(caller=owner, goal_id=top).stats.children_count == 2000


# ---------------------------------------------------------------------------- against today's


def _random_trees(rnd: random.Random, size: int) -> list[dict[str, Any]]:
    """Nested import nodes of random shape (some of it chains), about a third of them done."""
    nodes: list[dict[str, Any]] = []
    tops: list[dict[str, Any]] = []
    for i in range(size):
        node: dict[str, Any] = {"name": f"g{i}", "children": []}
        if rnd.random() < 0.3:
            node.update(start=T0, end=T0 + timedelta(hours=1))
        if not nodes or rnd.random() < 0.05:
            tops.append(node)
        else:
            # Mostly under one of the last few goals: deep runs as well as bushes.
            parent = nodes[max(0, len(nodes) - 1 - int(rnd.expovariate(0.3)))]
            parent["children"].append(node)
        nodes.append(node)
    return tops


def _stats_goal_by_goal(goal_ids: list[int]) -> dict[int, Stats]:
    """Roll-ups as they were read before: each goal's subtree walked on its own."""
    conn = db.session.connection()
    rows = conn.execute(queries.STATS.on(conn), {"root_ids": goal_ids})
    return {row.root: queries.stats_of(row) for row in rows}


@pytest.mark.parametrize("seed", range(8))
def test_roll_ups_of_any_page_equal_those_of_each_goal_alone(
    owner: User, build: Build, seed: int
) -> None:
    rnd = random.Random(seed)
    ids = build(owner, _random_trees(rnd, 150))
    for goal_id in rnd.sample(ids, 6):  # trashed goals leave the roll-ups of their ancestors
        if service.forest(owner=owner).rows.get(goal_id) is not None:
            service.trash_goal(caller=owner, goal_id=goal_id, retention=RETENTION)
    live = list(service.forest(owner=owner).rows)
    expected = reference_tree.stats(service.forest(owner=owner))
    pages = [
        live,
        rnd.sample(live, 2),
        *(rnd.sample(live, rnd.randint(2, min(60, len(live)))) for _ in range(6)),
    ]
    for page in pages:
        got = results.stats_for(page)
        assert got == _stats_goal_by_goal(page)
        assert got == {goal_id: expected[goal_id] for goal_id in page}


# ---------------------------------------------------------------------------- text search


# Goals whose names hold what a pattern language would take for operators, and near misses.
_NAMES = ("a.c", "abc", "(x|y)*", "x", "***=x", "\\d", "1", "^$", "[ab]", "a", "50% done")
_NAMES += ("500 done", "snake_case", "snakecase", "été", "ete")
_DESCRIBED = {"name": "in description", "description": "a case study"}


@pytest.mark.parametrize(
    ("q", "found"),
    [
        ("A.C", ["a.c"]),  # no character is special: not "any character"
        ("(x|y)*", ["(x|y)*"]),
        ("***=", ["***=x"]),
        ("\\d", ["\\d"]),
        ("^$", ["^$"]),
        ("[ab]", ["[ab]"]),
        ("50%", ["50% done"]),
        ("_", ["snake_case"]),
        ("été", ["été"]),
        ("STUDY", ["in description"]),
    ],
)
def test_search_text_is_matched_literally_ignoring_case(
    owner: User, build: Build, q: str, found: list[str]
) -> None:
    build(owner, [*({"name": name} for name in _NAMES), _DESCRIBED])
    results_, total = service.list_goals(owner=owner, query=GoalListQuery(q=q))
    assert sorted(r.goal.name for r in results_) == found
    assert total == len(found)


# ---------------------------------------------------------------------------- import


def test_importing_under_a_wide_parent_looks_up_only_the_names_imported(
    owner: User, build: Build
) -> None:
    narrow, wide = build(owner, [{"name": "narrow"}, {"name": "wide"}])
    build(owner, [{"name": f"child {i}"} for i in range(3)], parent_id=narrow)
    build(owner, [{"name": f"child {i}"} for i in range(3000)], parent_id=wide)
    beside_3 = cost(lambda: build(owner, [{"name": "one more"}], parent_id=narrow))
    beside_3000 = cost(lambda: build(owner, [{"name": "one more"}], parent_id=wide))
    # Reading every sibling's name cost a thousand times more beside 3 000 children.
    assert beside_3000 < 2 * beside_3, (beside_3000, beside_3)
    with pytest.raises(NameConflict, match="'child 2999', 'child 7' already exist under goal"):
        build(owner, [{"name": "child 7"}, {"name": "new"}, {"name": "child 2999"}], parent_id=wide)


def test_an_import_of_done_and_open_goals_is_a_few_inserts(
    owner: User, build: Build, count_queries: Any
) -> None:
    done = {"start": T0, "end": T0 + timedelta(hours=1)}
    trees = [{"name": f"g{i}", **(done if i % 3 == 0 else {})} for i in range(600)]
    trees[1]["due"] = T0
    with count_queries() as log:
        ids = build(owner, trees)
    inserts = [s for s in log.statements if s.lstrip().upper().startswith("INSERT INTO GOALS")]
    # Rows that leave out different columns went in one statement per run: 400 here.
    assert len(inserts) <= 2, len(inserts)
    # The operation and all its events: one statement each.
    recorded = [s for s in log.statements if s.lstrip().upper().startswith("INSERT INTO")]
    assert len(recorded) - len(inserts) == 2, recorded
    forest = service.forest(owner=owner)
    assert [forest.rows[i].end is not None for i in ids] == [i % 3 == 0 for i in range(600)]
    assert [forest.rows[i].due for i in ids[:3]] == [None, T0, None]
