"""Personal access tokens: issue, check, list, revoke."""

from __future__ import annotations

import hashlib
import secrets
from collections.abc import Sequence
from datetime import datetime, timedelta

from sqlalchemy import bindparam, delete, or_, select, update
from sqlalchemy.orm import make_transient_to_detached

from ..core.db import db, write_if_free, write_transaction
from ..core.errors import Invalid, NotFound
from ..core.types import utcnow
from ..users.locks import owner_transaction
from ..users.models import User
from .models import Token

PREFIX = "oa_"


def digest(secret: str) -> str:
    """The SHA-256 digest under which a token is stored."""
    return hashlib.sha256(secret.encode("utf-8", "surrogatepass")).hexdigest()


def issue(user: User, name: str = "api", expires_at: datetime | None = None) -> tuple[Token, str]:
    """Create a token for a user; returns it with its secret, which is never stored."""
    now = utcnow()
    if expires_at is not None and expires_at <= now:
        raise Invalid(
            "expires_at must be in the future",
            [{"loc": ["body", "expires_at"], "msg": "must be in the future"}],
        )
    secret = PREFIX + secrets.token_urlsafe(32)
    # With the owner's lock: an account deleted meanwhile is a 404, not a foreign-key error.
    with owner_transaction(user.id) as session:
        token = Token(
            user_id=user.id, name=name, digest=digest(secret), created_at=now, expires_at=expires_at
        )
        session.add(token)
    return token, secret


def expiry_from_days(days: int | None) -> datetime | None:
    """The expiry of a token valid for this many days, or None for no expiry."""
    return utcnow() + timedelta(days=days) if days else None


# One indexed lookup by digest per request, prepared once: a revoked or expired token fails
# on its very next use, on every instance, because nothing is cached between requests.
_USER_COLUMNS = tuple(User.__table__.c)
BY_DIGEST = (
    select(*_USER_COLUMNS, Token.id, Token.expires_at, Token.last_used_at)
    .join(Token, Token.user_id == User.id)
    .where(Token.digest == bindparam("digest"))
)

# Record a token's use (:now) if the one on record is older than :stale_before. A row another
# transaction holds (PostgreSQL) is skipped rather than waited for.
TOUCH = (
    update(Token)
    .where(
        Token.id.in_(
            select(Token.id)
            .where(
                Token.id == bindparam("token_id"),
                or_(Token.last_used_at.is_(None), Token.last_used_at <= bindparam("stale_before")),
            )
            .with_for_update(skip_locked=True)
        )
    )
    .values(last_used_at=bindparam("now"))
)


def authenticate(secret: str, *, touch_after: timedelta) -> User | None:
    """The user a bearer token belongs to, if it is live (see authenticate_bearer)."""
    found = authenticate_bearer(secret, touch_after=touch_after)
    return found[0] if found is not None else None


def authenticate_bearer(secret: str, *, touch_after: timedelta) -> tuple[User, int] | None:
    """The user a bearer token belongs to and the token's id, if it is live; revocation is
    seen at once.

    The token's last use is recorded when the one on record is touch_after old or more, and
    only if that needs no wait for a writer: a read never waits, and the record catches up on
    a later request.
    """
    if not secret.startswith(PREFIX) or len(secret) > 128:
        return None
    # Run outside any transaction, like every single-statement read (core.db's default mode);
    # the request's later statements use the same pooled connection, a write turning it into a
    # transaction.
    # A Core row, not an ORM load: setting up ORM loading costs more than the query itself.
    row = db.session.connection().execute(BY_DIGEST, {"digest": digest(secret)}).first()
    if row is None:
        return None
    *fields, token_id, expires_at, last_used_at = row
    now = utcnow()
    if expires_at is not None and expires_at <= now:
        return None
    # Detached, with its identity: a service that changes the account loads it in its session.
    user = User(**{column.key: value for column, value in zip(_USER_COLUMNS, fields, strict=True)})
    make_transient_to_detached(user)
    if last_used_at is None or now - last_used_at >= touch_after:
        # Refreshed coarsely, so most authenticated reads stay free of writes.
        write_if_free(TOUCH, {"token_id": token_id, "stale_before": now - touch_after, "now": now})
    return user, token_id


def list_tokens(user: User) -> Sequence[Token]:
    """The user's tokens, newest first."""
    return (
        db.session.execute(select(Token).where(Token.user_id == user.id).order_by(Token.id.desc()))
        .scalars()
        .all()
    )


def revoke(user: User, token_id: int) -> None:
    """Delete one of the user's tokens; someone else's is reported as not found."""
    with write_transaction() as session:
        result = session.execute(
            delete(Token).where(Token.id == token_id, Token.user_id == user.id)
        )
        if result.rowcount == 0:  # type: ignore[attr-defined]
            raise NotFound(f"token {token_id} not found")
