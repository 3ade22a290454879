"""Import documents by media type: JSON nodes or the JSON export, Markdown, OPML, CSV.

Each parser turns its document into the pre-order ImportedNode list that goals.importing
creates (all-or-nothing, the same limits, dry runs and history as a JSON import).
"""

from __future__ import annotations

from typing import Any

from ..core.errors import Invalid
from ..goals.importing import ImportedNode, parse_import
from .formats import csvfile, jsondoc, markdown, opml
from .nodes import build_nodes

# The media types the import endpoint reads, besides JSON (application/json, */*+json).
MARKDOWN_TYPES = frozenset({"text/markdown", "text/x-markdown"})
OPML_TYPES = frozenset({"text/x-opml", "application/xml", "text/xml"})
CSV_TYPES = frozenset({"text/csv"})
DOCUMENT_TYPES = MARKDOWN_TYPES | OPML_TYPES | CSV_TYPES
# How the OpenAPI document describes each.
DOCUMENT_DESCRIPTIONS = {
    "text/markdown": "A Markdown task list: `- [ ] name` / `- [x] name`, nested by indentation, "
    "a description as the lines indented under its item",
    "text/x-markdown": "The same as text/markdown",
    "text/x-opml": 'OPML 2.0: outline text = name, _note = description, _complete="true" '
    "for a done goal (DOCTYPEs and entities are refused)",
    "application/xml": "The same as text/x-opml",
    "text/xml": "The same as text/x-opml",
    "text/csv": "CSV with a header line naming some of the columns id, parent_id, name, "
    "description, start, end, due, completion (depth and progress are ignored); ids tie rows "
    "together, rows in any order",
}


def parse_json(payload: Any) -> list[ImportedNode]:
    """JSON nodes (a node or a list of them), or the JSON export document."""
    if jsondoc.is_document(payload):
        return jsondoc.read(payload)
    return parse_import(payload)


def _text(body: bytes) -> str:
    try:
        return body.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise Invalid.from_errors(
            [{"loc": ["body"], "msg": f"is not UTF-8 (byte {exc.start})"}]
        ) from exc


def parse_document(media_type: str, body: bytes) -> list[ImportedNode]:
    """The nodes of a Markdown, OPML or CSV document (media_type without parameters)."""
    if media_type in MARKDOWN_TYPES:
        return build_nodes(markdown.read(_text(body)))
    if media_type in CSV_TYPES:
        return build_nodes(csvfile.read(_text(body)))
    if media_type in OPML_TYPES:
        entries = opml.read(body)
        return build_nodes(entries, lambda i: opml.path(entries, i))
    raise ValueError(f"not a document type: {media_type}")
