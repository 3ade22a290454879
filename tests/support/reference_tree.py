"""A plain reference implementation of the goal-tree walks and roll-ups, for tests.

It reads a Forest only through its public views (roots, children, rows) and works goal by goal,
the slow and obvious way, so tests can state expectations with it and check the production
writers (which walk row numbers and roll up leaf counts in arrays) against it. Iterative, like
the production code, so a chain of any depth works.
"""

from __future__ import annotations

from collections.abc import Iterator

from overachiever.goals.tree import Forest, Stats, Status


def breadth_first(forest: Forest) -> list[int]:
    """Every goal reachable from the roots, parents before their children."""
    order = list(forest.roots)
    i = 0
    while i < len(order):
        order.extend(forest.children.get(order[i], []))
        i += 1
    return order


def stats(forest: Forest) -> dict[int, Stats]:
    """Roll-ups for every goal reachable from the roots, computed bottom-up."""
    result: dict[int, Stats] = {}
    for goal_id in reversed(breadth_first(forest)):
        s = Stats(done=forest.rows[goal_id].end is not None)
        kids = forest.children.get(goal_id)
        if kids:
            s.children_count = len(kids)
            s.leaves = 0
            for kid in kids:
                c = result[kid]
                s.descendants_count += 1 + c.descendants_count
                s.done_descendants_count += int(c.done) + c.done_descendants_count
                s.leaves += c.leaves
                s.done_leaves += c.done_leaves
        if s.done:
            s.done_leaves = s.leaves
        result[goal_id] = s
    return result


def keep(
    forest: Forest, status: Status, rollups: dict[int, Stats] | None = None
) -> set[int] | None:
    """Goals shown under a status filter: those that match, with their ancestors (None: all).

    Said with roll-ups: a goal is shown if it matches or some goal below it does.
    """
    if status == "all":
        return None
    rollups = stats(forest) if rollups is None else rollups
    if status == "done":
        return {g for g, s in rollups.items() if s.done or s.done_descendants_count}
    return {
        g
        for g, s in rollups.items()
        if not s.done or s.descendants_count > s.done_descendants_count
    }


def pre_order(
    forest: Forest, max_depth: int | None = None, kept: set[int] | None = None
) -> Iterator[tuple[int, int]]:
    """(goal id, depth) in pre-order, roots at depth 0; a goal not kept hides its subtree."""
    stack = [(g, 0) for g in reversed(forest.roots) if kept is None or g in kept]
    while stack:
        goal_id, depth = stack.pop()
        yield goal_id, depth
        if max_depth is not None and depth + 1 >= max_depth:
            continue
        kids = forest.children.get(goal_id, [])
        stack.extend((k, depth + 1) for k in reversed(kids) if kept is None or k in kept)
