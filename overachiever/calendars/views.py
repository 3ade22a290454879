"""The calendar feeds API (/api/v2/calendar-feeds) and the feeds themselves (/calendar/…)."""

from __future__ import annotations

from typing import Any

from apiflask import APIBlueprint
from flask import Response

from ..exchange.export import export_document
from ..web.auth import current_user, token_auth, token_touch_interval
from ..web.bodies import documented_body, parse_optional_body
from ..web.jsonio import no_content
from ..web.limits import client_address, feed_limit, limiter
from . import service
from .schemas import FeedCreate, FeedCreated, FeedList

bp = APIBlueprint("calendars", __name__, tag="Calendar feeds")

# Calendar apps poll every few minutes to hours: let them (and only them) keep a copy a while.
FEED_CACHE = "private, max-age=300"


@bp.post("/api/v2/calendar-feeds")
@bp.auth_required(token_auth)
@documented_body(bp, FeedCreate)
@bp.output(FeedCreated, status_code=201, description="The feed; its URL is shown only now")
@bp.doc(
    summary="Create a calendar feed",
    responses={409: f"You have {service.MAX_FEEDS} feeds already (feed-limit)"},
)
def create_feed() -> tuple[dict[str, Any], int]:
    """A secret URL serving your live goals as iCalendar, for calendar apps that cannot sign
    in. Only a digest of its secret is kept: copy the URL now, it is never shown again."""
    body = parse_optional_body(FeedCreate)
    feed, secret = service.create_feed(owner=current_user(), name=body.name)
    created = {
        "id": feed.id,
        "name": feed.name,
        "url": service.feed_path(secret),
        "created_at": feed.created_at,
    }
    return created, 201


@bp.get("/api/v2/calendar-feeds")
@bp.auth_required(token_auth)
@bp.output(FeedList)
@bp.doc(summary="List your calendar feeds")
def list_feeds() -> dict[str, Any]:
    """Your calendar feeds, newest first, without their URLs."""
    return {"items": service.list_feeds(owner=current_user())}


@bp.delete("/api/v2/calendar-feeds/<id:feed_id>")
@bp.auth_required(token_auth)
@bp.output({}, status_code=204)
@bp.doc(summary="Revoke a calendar feed", responses={404: "No such feed of yours"})
def revoke_feed(feed_id: int) -> Response:
    """Revoke one of your feeds: its URL is not found from the next fetch on."""
    service.revoke(owner=current_user(), feed_id=feed_id)
    return no_content()


@bp.get("/calendar/<secret>.ics")
@limiter.limit(feed_limit, key_func=client_address, scope="calendar-feed")
@bp.doc(
    summary="Fetch a calendar feed",
    responses={  # type: ignore[arg-type]
        200: {
            "description": "The feed owner's live goals, a VTODO each (RFC 5545)",
            "content": {"text/calendar": {"schema": {"type": "string"}}},
        },
        404: "No such feed, or it was revoked",
        429: "Too many fetches from this address (OVERACHIEVER_FEED_LIMIT)",
    },
)
def fetch_feed(secret: str) -> Response:
    """The iCalendar feed at a secret URL from `POST /api/v2/calendar-feeds`: no credentials,
    since calendar apps cannot send them; the secret in the URL is the key."""
    owner = service.feed_owner(secret=secret, touch_after=token_touch_interval())
    document = export_document(caller=owner, fmt="ics", root_id=None)
    response = Response(document.chunks, mimetype=None, content_type=document.media_type)
    # Shown in a calendar app, not saved: no attachment disposition.
    response.headers["Cache-Control"] = FEED_CACHE
    return response
