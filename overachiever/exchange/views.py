"""GET /api/v2/export: a forest or subtree as a document, streamed."""

from __future__ import annotations

from typing import Any

from apiflask import APIBlueprint
from flask import Response

from ..web.auth import current_user, token_auth
from .export import FORMATS, export_document
from .schemas import ExportQuery

bp = APIBlueprint("exchange", __name__, url_prefix="/api/v2", tag="Export")

_MEDIA_TYPES: dict[str, Any] = {
    module.MEDIA_TYPE.split(";")[0]: {"schema": {"type": "string"}} for module in FORMATS.values()
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
