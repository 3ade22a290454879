"""Offset/limit paging: the RFC 8288 Link header of a page."""

from __future__ import annotations

from typing import Any

from flask import url_for
from pydantic import BaseModel


def link_header(endpoint: str, query: BaseModel, total: int, **path_args: Any) -> dict[str, str]:
    """Headers with next/prev links for a page of `total` items described by `query`."""
    params = query.model_dump(mode="json", exclude_none=True)
    offset, limit = int(params["offset"]), int(params["limit"])
    links = []
    if offset + limit < total:
        links.append((offset + limit, "next"))
    if offset > 0:
        links.append((max(offset - limit, 0), "prev"))
    if not links:
        return {}
    parts = []
    for new_offset, rel in links:
        url = url_for(endpoint, **path_args, **{**params, "offset": new_offset})
        parts.append(f'<{url}>; rel="{rel}"')
    return {"Link": ", ".join(parts)}
