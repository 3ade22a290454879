"""The export endpoint's query."""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from ..core.validation import Query, QueryId


class ExportQuery(Query):
    """What to export, and how."""

    format: Literal["json", "markdown", "opml", "csv", "ics"] = Field(
        "json", description="The document's format"
    )
    root: QueryId | None = Field(
        None, description="One of your goals: export its subtree (default: your whole forest)"
    )
