"""GET /api/v2/export: a forest or subtree as a document, streamed."""

from __future__ import annotations

from typing import Any

from apiflask import APIBlueprint
from flask import Response

from ..web.auth import current_user, token_auth
from .export import FORMATS, export_document
from .schemas import ExportQuery

bp = APIBlueprint("exchange", __name__, url_prefix="/api/v2", tag="Export")

# The JSON export document is an object (its nodes: docs/api.md); the other formats are text.
_EXPORT_DOCUMENT = {
    "type": "object",
    "required": ["format", "version", "exported_at", "goals"],
    "properties": {
        "format": {"const": "overachiever"},
        "version": {"const": 1},
        "exported_at": {"type": "string", "format": "date-time"},
        "goals": {"type": "array", "items": {"type": "object"}},
    },
}
_MEDIA_TYPES: dict[str, Any] = {
    media: {"schema": _EXPORT_DOCUMENT if media == "application/json" else {"type": "string"}}
    for media in (module.MEDIA_TYPE.split(";")[0] for module in FORMATS.values())
}


@bp.get("/export")
@bp.auth_required(token_auth)
@bp.input(ExportQuery, location="query", arg_name="query")
@bp.doc(
    summary="Export your goals",
    responses={  # type: ignore[arg-type]
        200: {
            "description": "The document, as an attachment: JSON (the export document), "
            "Markdown, OPML, CSV or iCalendar",
            "content": _MEDIA_TYPES,
        },
        404: "The root is not a live goal of yours or shared with you",
    },
)
def export(query: ExportQuery) -> Response:
    """Your whole live forest, or the subtree at `root`, as a JSON export document, a Markdown
    task list, OPML, CSV or iCalendar (VTODOs), streamed as it is read."""
    document = export_document(caller=current_user(), fmt=query.format, root_id=query.root)
    response = Response(document.chunks, mimetype=None, content_type=document.media_type)
    response.headers["Content-Disposition"] = f'attachment; filename="{document.filename}"'
    return response
