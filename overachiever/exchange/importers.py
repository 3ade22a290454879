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
