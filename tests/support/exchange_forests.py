"""Random forests for the export/import round trips: awkward names in every format's syntax."""

from __future__ import annotations

from datetime import timedelta
from itertools import count
from typing import Any

from hypothesis import strategies as st

from overachiever.core.errors import DomainError
from overachiever.goals.importing import ImportedNode, import_trees
from overachiever.goals.schemas import ImportFields
from overachiever.users.models import User
from overachiever.users.service import create_user
from tests.support.accounts import PASSWORD
from tests.support.services import T0

# Pieces of names: Markdown, XML and CSV syntax, escapes, emoji (a ZWJ sequence), RTL scripts.
NAME_PIECES = [
    "a",
    "Goal",
    " ",
    "*",
    "_",
    "**",
    "`",
    "[ ]",
    "[x]",
    "[",
    "]",
    "<",
    ">",
    "&",
    "&amp;",
    "&#10;",
    '"',
    "'",
    ",",
    ";",
    ":",
    "\\",
    "\\N",
    "#",
    "- ",
    "+ ",
    "1. ",
    "!",
    "|",
    "~",
    "=1+1",
    "🎉",
    "👩\u200d💻",
    "שלום",
    "مرحبا",
    "é",
    "\u00a0",
    "\u2028",
    "x" * 40,
]
# Pieces of descriptions: the same, and line breaks, indentation and list-like lines.
TEXT_PIECES = [*NAME_PIECES, "\n", "\r\n", "\r", "\t", "  ", "\n- item", "\n  * star", "\n\\"]

names = st.lists(st.sampled_from(NAME_PIECES), min_size=1, max_size=5).map("".join)
descriptions = st.one_of(
    st.just(""), st.lists(st.sampled_from(TEXT_PIECES), max_size=8).map("".join)
)
offsets = st.integers(min_value=0, max_value=400 * 86_400)


@st.composite
def forests(draw: Any, most: int = 12) -> list[dict[str, Any]]:
    """Goals in pre-order, each {parent (index or None), fields}: a forest of any shape."""
    size = draw(st.integers(min_value=1, max_value=most))
    goals: list[dict[str, Any]] = []
    depth: list[int] = []
    for i in range(size):
        # A parent on the path of the last goal (or none), so the list stays in pre-order.
        path: list[int | None] = [None]
        at: int | None = i - 1 if i else None
        while at is not None:
            path.append(at)
            at = goals[at]["parent"]
        parent = draw(st.sampled_from(path))
        start = T0 + timedelta(seconds=draw(offsets), microseconds=draw(st.integers(0, 999_999)))
        fields: dict[str, Any] = {
            "name": draw(names),
            "description": draw(descriptions),
            "start": start,
            "completion": draw(st.sampled_from(["manual", "manual", "cascade", "auto", "strict"])),
        }
        if draw(st.booleans()):
            fields["end"] = start + timedelta(seconds=draw(offsets))
        if draw(st.booleans()):
            fields["due"] = start + timedelta(seconds=draw(offsets))
        goals.append({"parent": parent, "fields": fields})
        depth.append(0 if parent is None else depth[parent] + 1)
    return goals


_users = count()


def new_user() -> User:
    """A user with an empty account."""
    n = next(_users)
    return create_user(f"user{n}", f"user{n}@example.com", PASSWORD, via_cli=True)


def build_forest(owner: User, goals: list[dict[str, Any]]) -> bool:
    """Create a generated forest; False when the rules refuse it (or a name is not valid)."""
    nodes: list[ImportedNode] = []
    positions: dict[int | None, int] = {}
    taken: dict[int | None, set[str]] = {}
    for i, goal in enumerate(goals):
        fields = dict(goal["fields"])
        if fields["completion"] == "auto":
            fields.pop("end", None)
        try:
            valid = ImportFields.model_validate(fields)
        except ValueError:
            return False
        parent = goal["parent"]
        names = taken.setdefault(parent, set())
        if valid.name in names:
            valid = valid.model_copy(update={"name": f"{valid.name} {i}"})
        names.add(valid.name)
        position = positions.get(parent, 0)
        positions[parent] = position + 1
        nodes.append(ImportedNode(valid, parent, position))
    try:
        import_trees(caller=owner, nodes=nodes, parent_id=None)
    except DomainError:
        return False
    return True
