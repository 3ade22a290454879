"""Goal API helpers: a full goal body, Link parsing, timestamps and database snapshots."""

from __future__ import annotations

import re
from datetime import datetime
from typing import Any

from sqlalchemy import select

from overachiever.core.db import db
from overachiever.goals.models import Goal

API = "/api/v2"
# Every writable field of a goal: the body of a PUT.
FULL_GOAL: dict[str, Any] = {
    "name": "replaced",
    "description": "",
    "parent_id": None,
    "start": "2024-01-01T00:00:00Z",
    "end": None,
    "due": None,
}
_LINK = re.compile(r'<([^>]+)>;\s*rel="([a-z]+)"')


def error_locs(body: dict[str, Any]) -> list[list[Any]]:
    """The loc of every validation error of a 422 problem."""
    assert body["status"] == 422
    assert isinstance(body.get("errors"), list), body
    assert body["errors"], body
    return [e["loc"] for e in body["errors"]]


def links(resp: Any) -> dict[str, str]:
    """The Link header as {rel: url}."""
    return {rel: url for url, rel in _LINK.findall(resp.headers.get("Link", ""))}


def ts(value: str | None) -> datetime | None:
    """Parse a timestamp of the API (ISO 8601, UTC, trailing Z)."""
    if value is None:
        return None
    assert value.endswith("Z"), value
    return datetime.fromisoformat(value)


def snapshot(app: Any, owner_id: int) -> list[tuple[Any, ...]]:
    """Every goal row of an owner, live or trashed, with every stored column."""
    with app.app_context():
        rows = db.session.execute(
            select(
                Goal.id,
                Goal.parent_id,
                Goal.name,
                Goal.description,
                Goal.start,
                Goal.end,
                Goal.due,
                Goal.position,
                Goal.created_at,
                Goal.updated_at,
                Goal.version,
                Goal.deleted_at,
                Goal.trash_root_id,
            )
            .where(Goal.owner_id == owner_id)
            .order_by(Goal.id)
        ).all()
        db.session.remove()
    return [tuple(r) for r in rows]


def flat_tree(client: Any, account: Any, path: str = "/goals/tree") -> list[dict[str, Any]]:
    """The flat pre-order listing of a forest or subtree read over HTTP."""
    sep = "&" if "?" in path else "?"
    resp = client.get(f"{API}{path}{sep}format=flat", headers=account.headers)
    assert resp.status_code == 200, resp.get_data(as_text=True)[:500]
    return resp.get_json()["items"]  # type: ignore[no-any-return]
