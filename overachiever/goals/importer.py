"""Iterative validation of an import payload: a node or a list of nodes, nested to any depth."""

from __future__ import annotations

from typing import Any

from flask import request
from pydantic import ValidationError

from ..core.errors import Invalid
from ..core.types import utcnow
from .schemas import ImportFields
from .service import ImportedNode

MAX_ERRORS = 50


def parse_import() -> list[ImportedNode]:
    """Validate the request body node by node (no recursion) into pre-order ImportedNodes."""
    payload = request.get_json(silent=False)
    tops: list[Any] = payload if isinstance(payload, list) else [payload]
    if not tops:
        raise Invalid(
            "nothing to import", [{"loc": ["body"], "msg": "must hold at least one node"}]
        )
    now = utcnow()
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
        # The start defaults to now (as for POST /goals), so an end in the past needs a start.
        if valid.end is not None and valid.end < (valid.start or now):
            errors.append({"loc": [*loc, "end"], "msg": "must not be before start"})
            continue
        if not isinstance(children, list):
            errors.append({"loc": [*loc, "children"], "msg": "must be a list"})
            continue
        index = len(nodes)
        nodes.append(ImportedNode(valid.model_dump(exclude_unset=True), parent, position))
        for i, child in reversed(list(enumerate(children))):
            stack.append((child, [*loc, "children", i], index, i))
    if errors:
        raise Invalid.from_errors(errors)
    return nodes
