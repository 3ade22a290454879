"""Service-level helpers: goal builders' types, nested trees as import nodes, SQL statement logs."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from overachiever.goals.service import ImportedNode

# The `make` fixture: make(who, name, parent_id=None, **fields) -> the new goal's id.
MakeGoal = Callable[..., int]


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
        nodes.append(ImportedNode(fields, parent, position))
        for i, child in reversed(list(enumerate(tree.get("children", [])))):
            stack.append((child, index, i))
    return nodes


class QueryLog:
    """SQL statements sent while counting; transaction control is left out."""

    def __init__(self) -> None:
        self.statements: list[str] = []

    @property
    def count(self) -> int:
        return len(self.statements)
