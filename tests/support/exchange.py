"""Export and import helpers: documents through the services, and their comparable forms."""

from __future__ import annotations

import csv
import io
import re
from typing import Any

from overachiever.exchange import deepjson
from overachiever.exchange.export import FORMATS, export_document
from overachiever.exchange.importers import parse_document, parse_json
from overachiever.goals.importing import ImportedNode, import_trees
from overachiever.users.models import User

# The request media type each importable format is sent as.
IMPORT_TYPES = {
    "json": "application/json",
    "markdown": "text/markdown",
    "opml": "text/x-opml",
    "csv": "text/csv",
}
IMPORTABLE = tuple(IMPORT_TYPES)


def export_bytes(owner: User, fmt: str, root_id: int | None = None) -> bytes:
    """The whole document of an export through the service."""
    return b"".join(export_document(caller=owner, fmt=fmt, root_id=root_id).chunks)


def parse(fmt: str, document: bytes) -> list[ImportedNode]:
    """A document's nodes, as the import endpoint reads that format."""
    if fmt == "json":
        return parse_json(deepjson.loads(document))
    return parse_document(IMPORT_TYPES[fmt], document)


def import_document(
    owner: User, fmt: str, document: bytes, parent_id: int | None = None
) -> list[int]:
    """Import a document through the services; the new ids in pre-order."""
    return import_trees(caller=owner, nodes=parse(fmt, document), parent_id=parent_id)


def _renumber(text: str, pattern: str) -> str:
    """Replace each distinct number matched by group 1 of pattern with its order of first use."""
    seen: dict[str, str] = {}

    def swap(match: re.Match[str]) -> str:
        number = seen.setdefault(match.group(1), str(len(seen) + 1))
        whole = match.group(0)
        return (
            whole[: match.start(1) - match.start(0)]
            + number
            + whole[match.end(1) - match.start(0) :]
        )

    return re.sub(pattern, swap, text)


def comparable(fmt: str, document: bytes) -> str:
    """A document with what differs between two accounts' exports (ids, export times) made equal."""
    text = document.decode()
    if fmt == "json":
        return re.sub(r'"exported_at":"[^"]*"', '"exported_at":""', text, count=1)
    if fmt == "opml":
        return re.sub(r"<dateCreated>[^<]*</dateCreated>", "<dateCreated/>", text, count=1)
    if fmt == "csv":
        return _renumber_csv(text)
    if fmt == "ics":
        text = re.sub(r"DTSTAMP:\S+", "DTSTAMP:", text)
        return _renumber(text, r"goal-(\d+)@")
    return text


def _renumber_csv(text: str) -> str:
    """The first two columns (a row's id and its parent's) numbered in order of first use."""
    rows = list(csv.reader(io.StringIO(text, newline="")))
    seen: dict[str, str] = {"": ""}
    for row in rows[1:]:
        row[0] = seen.setdefault(row[0], str(len(seen)))
        row[1] = seen.setdefault(row[1], str(len(seen)))
    out = io.StringIO()
    csv.writer(out, lineterminator="\r\n").writerows(rows)
    return out.getvalue()


def formats() -> tuple[str, ...]:
    """Every export format."""
    return tuple(FORMATS)


def fields_of(nodes: list[ImportedNode]) -> list[dict[str, Any]]:
    """Nodes as comparable dicts."""
    return [{"parent": n.parent, "position": n.position, **n.fields.model_dump()} for n in nodes]
