"""Claim a caller's Idempotency-Key, keep the answer to its request, replay it to a repeat.

A request claims its key by inserting the key's row, unanswered; the database's key on
(user_id, key) decides between racing requests, on one instance or many. Every change is one
statement, a transaction of its own: no lock is held while the request itself runs.

Only the answer is committed durably. A claim needs not be: lost in a power cut before the
request's own change committed, nothing was done; once that change commits durably, the
database's log, written in order, has the claim on disk before it.
"""

from __future__ import annotations

import hashlib
import json
import time
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import and_, bindparam, delete, or_, select, update
from sqlalchemy.dialects import postgresql, sqlite

from ..core.db import db, write_transaction
from ..core.errors import Conflict, Invalid
from ..core.types import utcnow
from .models import IdempotencyKey

# How long an answer is kept, and a key bound to its request.
RETENTION = timedelta(hours=24)
# A claim still unanswered after this long was left by a process that died mid-request (a
# request runs at most gunicorn's 60 s worker timeout); a repeat may then claim the key anew.
LEASE = timedelta(minutes=5)
# The largest answer kept; above it a repeat is told the request completed (ResponseNotKept).
MAX_KEPT_BODY = 4 * 1024 * 1024
# The headers of an answer that are kept with it (a replay sets the others afresh).
KEPT_HEADERS = ("Content-Type", "Location", "ETag")
# Expired keys are purged by a claim at most this often per process (seconds).
PURGE_EVERY = 60.0

_keys = IdempotencyKey.__table__
_c = _keys.c
# Bound as :caller, :given_key and so on: SQLAlchemy keeps the column names for VALUES and SET.
_THIS_KEY = and_(_c.user_id == bindparam("caller"), _c.key == bindparam("given_key"))
_NEW_ROW = {
    "user_id": bindparam("caller"),
    "key": bindparam("given_key"),
    "fingerprint": bindparam("request_digest"),
    "created_at": bindparam("now", type_=_c.created_at.type),
}
# Insert the key unanswered, unless it exists (then no row: the row there says who has it).
CLAIM = {
    name: dialect.insert(_keys).values(_NEW_ROW).on_conflict_do_nothing().returning(_c.user_id)
    for name, dialect in (("sqlite", sqlite), ("postgresql", postgresql))
}
FIND = select(_c.fingerprint, _c.created_at, _c.completed_at, _c.status, _c.headers, _c.body).where(
    _THIS_KEY
)
# Take over a key whose answer expired, or whose claim was abandoned.
RECLAIM = (
    update(_keys)
    .where(
        _THIS_KEY,
        or_(
            _c.created_at < bindparam("expired_before", type_=_c.created_at.type),
            and_(
                _c.completed_at.is_(None),
                _c.created_at < bindparam("abandoned_before", type_=_c.created_at.type),
            ),
        ),
    )
    .values(**_NEW_ROW, completed_at=None, status=None, headers=None, body=None)
)
_OWN_CLAIM = and_(
    _THIS_KEY, _c.fingerprint == bindparam("request_digest"), _c.completed_at.is_(None)
)
COMPLETE = (
    update(_keys)
    .where(_OWN_CLAIM)
    .values(
        completed_at=bindparam("now", type_=_c.completed_at.type),
        status=bindparam("kept_status"),
        headers=bindparam("kept_headers"),
        body=bindparam("kept_body"),
    )
)
RELEASE = delete(_keys).where(_OWN_CLAIM)
PURGE = delete(_keys).where(_c.created_at < bindparam("before", type_=_c.created_at.type))

_next_purge = 0.0  # time.monotonic() after which a claim purges expired keys


class KeyReused(Invalid):
    """The key was used for another request (method, path, query or body)."""

    slug, title = "idempotency-key-reused", "Idempotency key reused"


class KeyInFlight(Conflict):
    """The request first sent with this key is still running."""

    slug, title = "idempotency-key-in-flight", "Request still in progress"


class ResponseNotKept(Conflict):
    """The request with this key completed, but its answer was too large to keep."""

    slug, title = "idempotency-response-not-kept", "Response not kept"


@dataclass(frozen=True, slots=True)
class KeptResponse:
    """The first answer to a key's request: status, kept headers and body."""

    status: int
    headers: dict[str, str]
    body: bytes


def fingerprint(*, method: str, path: str, query: bytes, body: bytes) -> str:
    """SHA-256 (hex) of a request's method, path, query string and body, each length-prefixed."""
    digest = hashlib.sha256()
    for part in (method.encode(), path.encode("utf-8", "surrogateescape"), query, body):
        digest.update(len(part).to_bytes(8, "big"))
        digest.update(part)
    return digest.hexdigest()


def claim(*, user_id: int, key: str, fingerprint: str) -> KeptResponse | None:
    """Claim the key for this request: None when the request may run, else the answer to replay.

    Raises KeyReused for a key of another request, KeyInFlight while its request runs. A key
    already known is answered from a read, without waiting for any writer.
    """
    now = utcnow()
    params = _key_params(user_id, key, fingerprint) | {"now": now}
    # A bounded number of rounds: the row may come or go between two statements.
    for _ in range(3):
        row = db.session.connection().execute(FIND, params).first()
        if row is None:
            _purge_now_and_then(now)
            with write_transaction(single_statement=True, durable=False) as session:
                conn = session.connection()
                if conn.execute(CLAIM[conn.dialect.name], params).first() is not None:
                    return None
            continue  # another request claimed it first
        if row.created_at < now - RETENTION or (
            row.completed_at is None and row.created_at < now - LEASE
        ):
            stale = {"expired_before": now - RETENTION, "abandoned_before": now - LEASE}
            with write_transaction(single_statement=True, durable=False) as session:
                if session.execute(RECLAIM, params | stale).rowcount:  # type: ignore[attr-defined]
                    return None
            continue
        if row.fingerprint != fingerprint:
            raise KeyReused(
                "this Idempotency-Key was used for another request (method, path, query or "
                "body); use a new key for a new request",
                [{"loc": ["header", "Idempotency-Key"], "msg": "used for another request"}],
            )
        if row.completed_at is None:
            raise KeyInFlight(
                "the request first sent with this Idempotency-Key is still running; "
                "repeat it in a moment to get its answer"
            )
        if row.body is None:
            raise ResponseNotKept(
                f"the request with this Idempotency-Key completed with status {row.status}, but "
                "its response was too large to keep; read the result instead",
                completed_status=row.status,
            )
        return KeptResponse(row.status, json.loads(row.headers or "{}"), row.body)
    raise KeyInFlight("this Idempotency-Key is changing hands; repeat the request in a moment")


def complete(
    *,
    user_id: int,
    key: str,
    fingerprint: str,
    status: int,
    headers: dict[str, str],
    body: bytes,
) -> None:
    """Keep the answer to a claimed key's request (its body only up to MAX_KEPT_BODY)."""
    kept = {name: value for name, value in headers.items() if name in KEPT_HEADERS}
    params = _key_params(user_id, key, fingerprint) | {
        "now": utcnow(),
        "kept_status": status,
        "kept_headers": json.dumps(kept),
        "kept_body": body if len(body) <= MAX_KEPT_BODY else None,
    }
    with write_transaction(single_statement=True) as session:
        session.execute(COMPLETE, params)


def release(*, user_id: int, key: str, fingerprint: str) -> None:
    """Give up a claim whose request failed, so that a repeat runs it again."""
    # Not durable: a claim a power cut brings back is taken over after its lease.
    with write_transaction(single_statement=True, durable=False) as session:
        session.execute(RELEASE, _key_params(user_id, key, fingerprint))


def _key_params(user_id: int, key: str, fingerprint: str) -> dict[str, Any]:
    return {"caller": user_id, "given_key": key, "request_digest": fingerprint}


def purge_expired(*, now: datetime) -> int:
    """Delete every key older than RETENTION, in one statement; returns how many went."""
    with write_transaction(single_statement=True, durable=False) as session:
        result = session.execute(PURGE, {"before": now - RETENTION})
    return int(result.rowcount)  # type: ignore[attr-defined]


def _purge_now_and_then(now: datetime) -> None:
    """Purge expired keys if this process has not done so for PURGE_EVERY seconds."""
    global _next_purge
    moment = time.monotonic()
    if moment < _next_purge:
        return
    _next_purge = moment + PURGE_EVERY
    purge_expired(now=now)
