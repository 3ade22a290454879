"""What every importer ends with: parsed entries checked into the import's ImportedNodes.

A parser reads its document into Entry objects in pre-order, each naming where it came from
(a line, an element); `build_nodes` validates their fields as the JSON import does, so every
format obeys the same rules and a 422 names the place in the document.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from pydantic import ValidationError

from ..core.errors import Invalid
from ..goals.importing import MAX_ERRORS, ImportedNode
from ..goals.schemas import ImportFields


@dataclass(slots=True)
class Entry:
    """One goal read from a document: its fields, its parent entry and where it was read."""

    fields: dict[str, Any]
    parent: int | None  # index of the parent entry (given before it), None at the top
    where: str  # "line 3", or an OPML element's own step "outline[2]"


def invalid(where: str, msg: str, field: str | None = None) -> Invalid:
    """A 422 about one place of the document."""
    loc = ["body", where] if field is None else ["body", where, field]
    return Invalid.from_errors([{"loc": loc, "msg": msg}])


def build_nodes(
    entries: Sequence[Entry], locate: Callable[[int], str] | None = None
) -> list[ImportedNode]:
    """Validate entries (given in pre-order) node by node into ImportedNodes.

    locate(i) spells out where entry i was read, for an error; by default its `where`.
    """
    if not entries:
        raise Invalid(
            "nothing to import", [{"loc": ["body"], "msg": "must hold at least one goal"}]
        )

    def place(i: int) -> str:
        return entries[i].where if locate is None else locate(i)

    errors: list[dict[str, Any]] = []
    nodes: list[ImportedNode] = []
    next_position: dict[int | None, int] = {}
    sibling_names: dict[int | None, set[str]] = {}
    for i, entry in enumerate(entries):
        if len(errors) >= MAX_ERRORS:
            break
        parent = entry.parent
        position = next_position.get(parent, 0)
        next_position[parent] = position + 1
        try:
            valid = ImportFields.model_validate(entry.fields)
        except ValidationError as exc:
            errors.extend(
                {"loc": ["body", place(i), *e["loc"]], "msg": e["msg"]} for e in exc.errors()
            )
            valid = None
        if valid is not None:
            names = sibling_names.setdefault(parent, set())
            if valid.name in names:
                errors.append(
                    {
                        "loc": ["body", place(i), "name"],
                        "msg": f"duplicate sibling name {valid.name!r}",
                    }
                )
            names.add(valid.name)
            if valid.start is not None and valid.end is not None and valid.end < valid.start:
                errors.append({"loc": ["body", place(i), "end"], "msg": "must not be before start"})
        # Placeholders keep the indexes of later entries' parents right while errors pile up.
        nodes.append(ImportedNode(valid, parent, position))  # type: ignore[arg-type]
    if errors:
        raise Invalid.from_errors(errors)
    return nodes
