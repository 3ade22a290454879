"""Import: validate a payload of nested trees node by node, then create them in one transaction.

Both halves are iterative (explicit stacks, one depth level at a time), so no depth of nesting
can exhaust the stack.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from pydantic import ValidationError
from sqlalchemy import insert, text
from sqlalchemy.exc import IntegrityError

from ..core.db import db
from ..core.errors import Invalid, NameConflict
from ..core.types import MAX_POSITION
from ..history.recording import operation
from ..sharing import access
from ..users.models import User
from .completion import refuse_explicit_end, settle
from .models import Goal
from .queries import PLANNER_ROWS
from .quota import check_room
from .rules import live_goal, new_goal_row, next_position, taken_names
from .schemas import ImportFields

MAX_ERRORS = 50
# The smallest import after which PostgreSQL's planner statistics are refreshed at once.
ANALYZE_AFTER = 1000


@dataclass(slots=True)
class ImportedNode:
    """One validated node of an import, with its place in the payload."""

    fields: ImportFields
    parent: int | None  # index of the parent node in the pre-order list, None for a top node
    position: int


def parse_import(payload: Any) -> list[ImportedNode]:
    """Validate a parsed JSON payload node by node (no recursion) into pre-order ImportedNodes."""
    tops: list[Any] = payload if isinstance(payload, list) else [payload]
    if not tops:
        raise Invalid(
            "nothing to import", [{"loc": ["body"], "msg": "must hold at least one node"}]
        )
    errors: list[dict[str, Any]] = []
    nodes: list[ImportedNode] = []
    root_loc: list[Any] = ["body"]
    # Stack of (raw node, location, parent index, position among siblings); reversed for pre-order.
    stack: list[tuple[Any, list[Any], int | None, int]] = [
        (raw, [*root_loc, i] if isinstance(payload, list) else root_loc, None, i)
        for i, raw in reversed(list(enumerate(tops)))
    ]
    sibling_names: dict[int | None, set[str]] = {}
    while stack and len(errors) < MAX_ERRORS:
        raw, loc, parent, position = stack.pop()
        if not isinstance(raw, dict):
            errors.append({"loc": loc, "msg": "must be an object"})
            continue
        children = raw.get("children", [])
        fields = {k: v for k, v in raw.items() if k != "children"}
        try:
            valid = ImportFields.model_validate(fields)
        except ValidationError as exc:
            errors.extend({"loc": [*loc, *e["loc"]], "msg": e["msg"]} for e in exc.errors())
            continue
        names = sibling_names.setdefault(parent, set())
        if valid.name in names:
            errors.append({"loc": [*loc, "name"], "msg": f"duplicate sibling name {valid.name!r}"})
            continue
        names.add(valid.name)
        if valid.start is not None and valid.end is not None and valid.end < valid.start:
            errors.append({"loc": [*loc, "end"], "msg": "must not be before start"})
            continue
        if not isinstance(children, list):
            errors.append({"loc": [*loc, "children"], "msg": "must be a list"})
            continue
        index = len(nodes)
        nodes.append(ImportedNode(valid, parent, position))
        for i, child in reversed(list(enumerate(children))):
            stack.append((child, [*loc, "children", i], index, i))
    if errors:
        raise Invalid.from_errors(errors)
    return nodes


def import_trees(
    *,
    caller: User,
    nodes: Sequence[ImportedNode],
    parent_id: int | None,
    max_goals: int = 0,
    kind: str = "import",
) -> list[int]:
    """Create validated nodes (given in pre-order) in one transaction; returns their ids.

    At the top level they are the caller's; under a parent, its owner's (see access.placing).
    max_goals: the most goals the owner may hold, trash included (0: no limit).
    """
    owner_id = access.placing(caller=caller, parent_id=parent_id)
    with operation(owner_id, kind=kind, actor_id=caller.id) as stamp:
        session = db.session
        if owner_id != caller.id:  # decided again under the lock: the share may be gone
            access.placing(caller=caller, parent_id=parent_id)
        if parent_id is not None:
            live_goal(owner_id, parent_id, "parent goal")
        check_room(owner_id=owner_id, adding=len(nodes), max_goals=max_goals)
        for node in nodes:
            if node.fields.completion == "auto" and node.fields.end is not None:
                raise refuse_explicit_end(name=node.fields.name)
        tops = [n for n in nodes if n.parent is None]
        clash = taken_names(owner_id, parent_id, [n.fields.name for n in tops])
        if clash:
            where = "at the top level" if parent_id is None else f"under goal {parent_id}"
            raise NameConflict(f"goals named {', '.join(map(repr, clash))} already exist {where}")
        base = next_position(owner_id, parent_id)

        # Insert one depth level at a time: each level's parents already have their ids.
        depth = [0] * len(nodes)
        for i, node in enumerate(nodes):
            depth[i] = 0 if node.parent is None else depth[node.parent] + 1
        ids: list[int] = [0] * len(nodes)
        levels: dict[int, list[int]] = {}
        for i, d in enumerate(depth):
            levels.setdefault(d, []).append(i)
        for d in sorted(levels):
            members = levels[d]
            params = []
            for i in members:
                node = nodes[i]
                if node.parent is None:
                    under, position = parent_id, min(base + node.position, MAX_POSITION)
                else:
                    under, position = ids[node.parent], node.position
                params.append(
                    new_goal_row(
                        owner_id,
                        node.fields,
                        stamp.at,
                        parent_id=under,
                        position=position,
                        operation_id=stamp.id,
                    )
                )
            # A level is a few multi-row INSERTs: NULLs are sent rather than left out (rows
            # leaving out different columns, a done goal's end, would each need a statement),
            # and new ids are matched by parent and name, unique among live siblings, rather
            # than by RETURNING order, which SQLite only keeps by inserting row by row.
            try:
                result = session.execute(
                    insert(Goal)
                    .returning(Goal.parent_id, Goal.name, Goal.id)
                    .execution_options(render_nulls=True),
                    params,
                )
            except IntegrityError as exc:
                raise NameConflict("two imported siblings share a name") from exc
            made = {(under, name): new_id for under, name, new_id in result}
            for i, row in zip(members, params, strict=True):
                ids[i] = made[row["parent_id"], row["name"]]
        # Manual goals at the top level: no parent, and no rule among them, for a rule to move.
        if parent_id is not None or any(n.fields.completion != "manual" for n in nodes):
            settle(stamp)
        _refresh_statistics(session, len(nodes))
    return ids


def _refresh_statistics(session: Any, added: int) -> None:
    """Re-analyze the goals table after an import that is a large part of it (PostgreSQL).

    Autovacuum catches up within a minute or so; until then the planner takes the table for
    the size it was, and may walk a deep tree with a scan of the table per level (seconds for
    a 10 000-deep chain instead of milliseconds).
    """
    if added < ANALYZE_AFTER or session.get_bind().dialect.name != "postgresql":
        return
    known = session.execute(PLANNER_ROWS).scalar()
    if known is None or known < 0 or added * 10 >= known:  # -1: never analyzed
        session.execute(text("ANALYZE goals"))
