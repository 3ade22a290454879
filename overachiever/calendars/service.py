"""Calendar feeds: create, list, revoke, and find the owner of a feed by its secret."""

from __future__ import annotations

import re
import secrets
from collections.abc import Sequence
from datetime import timedelta

from sqlalchemy import bindparam, delete, func, or_, select, update
from sqlalchemy.orm import make_transient_to_detached

from ..core.db import db, write_if_free, write_transaction
from ..core.errors import Conflict, NotFound
from ..core.types import utcnow
from ..tokens.service import digest
from ..users.locks import owner_transaction
from ..users.models import User
from .models import CalendarFeed

# Feeds per account: each is a standing read of the whole forest by calendar apps.
MAX_FEEDS = 20

# What a secret looks like (secrets.token_urlsafe(32) gives 43 such characters); anything else
# in a feed URL is not found without a query.
SECRET = re.compile(r"[A-Za-z0-9_-]{20,128}")


class FeedLimitReached(Conflict):
    """The account has as many feeds as it may."""

    slug, title = "feed-limit", "Calendar feed limit reached"


def feed_path(secret: str) -> str:
    """The root-relative URL of the feed with this secret."""
    return f"/calendar/{secret}.ics"


def create_feed(*, owner: User, name: str = "calendar") -> tuple[CalendarFeed, str]:
    """A new feed of the owner's goals, with its secret, which is never stored."""
    secret = secrets.token_urlsafe(32)
    # The owner's lock: two creates at once cannot both take the last place, and an account
    # deleted meanwhile is a 404 rather than a foreign-key error.
    with owner_transaction(owner.id) as session:
        held = session.execute(
            select(func.count()).select_from(CalendarFeed).where(CalendarFeed.user_id == owner.id)
        ).scalar_one()
        if held >= MAX_FEEDS:
            raise FeedLimitReached(
                f"your account has {held} calendar feeds, the most it may have; "
                "revoke one you no longer use first",
                limit=MAX_FEEDS,
            )
        feed = CalendarFeed(user_id=owner.id, name=name, digest=digest(secret), created_at=utcnow())
        session.add(feed)
    return feed, secret


def list_feeds(*, owner: User) -> Sequence[CalendarFeed]:
    """The owner's feeds, newest first."""
    return (
        db.session.execute(
            select(CalendarFeed)
            .where(CalendarFeed.user_id == owner.id)
            .order_by(CalendarFeed.id.desc())
        )
        .scalars()
        .all()
    )


def revoke(*, owner: User, feed_id: int) -> None:
    """Delete one of the owner's feeds: its URL is not found from now on. Someone else's feed is
    reported as not found."""
    with write_transaction() as session:
        result = session.execute(
            delete(CalendarFeed).where(CalendarFeed.id == feed_id, CalendarFeed.user_id == owner.id)
        )
        if result.rowcount == 0:  # type: ignore[attr-defined]
            raise NotFound(f"calendar feed {feed_id} not found")


_USER_COLUMNS = tuple(User.__table__.c)
BY_DIGEST = (
    select(*_USER_COLUMNS, CalendarFeed.id, CalendarFeed.last_used_at)
    .join(CalendarFeed, CalendarFeed.user_id == User.id)
    .where(CalendarFeed.digest == bindparam("digest"))
)
# Record a feed's use (:now) if the one on record is older than :stale_before, skipping a row
# another transaction holds (PostgreSQL), as tokens do.
TOUCH = (
    update(CalendarFeed)
    .where(
        CalendarFeed.id.in_(
            select(CalendarFeed.id)
            .where(
                CalendarFeed.id == bindparam("feed_id"),
                or_(
                    CalendarFeed.last_used_at.is_(None),
                    CalendarFeed.last_used_at <= bindparam("stale_before"),
                ),
            )
            .with_for_update(skip_locked=True)
        )
    )
    .values(last_used_at=bindparam("now"))
)


def feed_owner(*, secret: str, touch_after: timedelta) -> User:
    """The user whose feed has this secret; NotFound for an unknown or revoked one.

    One indexed lookup by digest, nothing cached: a revoked feed is not found on its very next
    fetch. The feed's last use is recorded at most every touch_after, and only if that needs no
    wait for a writer (tokens.service.authenticate_bearer does the same).
    """
    if SECRET.fullmatch(secret) is None:
        raise NotFound("no such calendar feed")
    row = db.session.connection().execute(BY_DIGEST, {"digest": digest(secret)}).first()
    if row is None:
        raise NotFound("no such calendar feed")
    *fields, feed_id, last_used_at = row
    user = User(**{column.key: value for column, value in zip(_USER_COLUMNS, fields, strict=True)})
    make_transient_to_detached(user)
    now = utcnow()
    if last_used_at is None or now - last_used_at >= touch_after:
        write_if_free(TOUCH, {"feed_id": feed_id, "stale_before": now - touch_after, "now": now})
    return user
