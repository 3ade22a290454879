"""Idempotency-Key on the v2 API's writes: claim the key before the view, keep its answer after.

A write under /api/v2 that needs a token and carries the header claims the caller's key before
the view runs; a repeat of the same request gets the kept answer (Idempotent-Replayed: true)
without the view running. Without the header a request costs nothing more than a look-up of
a header.
"""

from __future__ import annotations

import logging
import re

from flask import Flask, Response, current_app, g, request
from sqlalchemy.exc import DBAPIError

from ..core.db import db
from ..core.errors import Invalid
from ..idempotency import service
from .auth import bearer_user, token_auth

HEADER = "Idempotency-Key"
REPLAYED = "Idempotent-Replayed"
WRITE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})
PREFIX = "/api/v2/"
# 1 to 255 printable ASCII characters (space to tilde).
_VALID_KEY = re.compile(r"[\x20-\x7e]{1,255}")

log = logging.getLogger(__name__)


def init_app(app: Flask) -> None:
    """Install the hooks; register after the hooks that refuse a body (415) before any claim."""
    app.before_request(_claim)
    app.after_request(_finish)
    app.teardown_request(_abandon)


def _needs_token() -> bool:
    """Whether the matched view is one that requires a bearer token."""
    view = current_app.view_functions.get(request.endpoint or "")
    spec = getattr(view, "_spec", None) or {}
    return spec.get("auth") is token_auth


def _key() -> str:
    """The request's Idempotency-Key, or a 422 that says what is wrong with it.

    (Servers join repeated headers into one value, separated by commas.)
    """
    value = request.headers[HEADER]
    if _VALID_KEY.fullmatch(value):
        return value
    msg = "must be 1 to 255 printable ASCII characters"
    raise Invalid(f"header Idempotency-Key: {msg}", [{"loc": ["header", HEADER], "msg": msg}])


def _claim() -> Response | None:
    if request.method not in WRITE_METHODS or HEADER not in request.headers:
        return None
    if not request.path.startswith(PREFIX) or not _needs_token():
        return None
    user = bearer_user()
    if user is None:
        return None  # the view answers 401
    key = _key()
    digest = service.fingerprint(
        method=request.method,
        path=request.path,
        query=request.query_string,
        body=request.get_data(cache=True),
    )
    kept = service.claim(user_id=user.id, key=key, fingerprint=digest)
    if kept is not None:
        replay = Response(kept.body, status=kept.status, headers=kept.headers)
        if "Content-Type" not in kept.headers:
            del replay.headers["Content-Type"]  # as the first answer (a 204 has none)
        replay.headers[REPLAYED] = "true"
        return replay
    g.idempotency_claim = {"user_id": user.id, "key": key, "fingerprint": digest}
    return None


def _finish(response: Response) -> Response:
    """Keep the answer to a claimed request, or give the claim up when it failed.

    A 5xx and a 429 say the request did not run to its end (or may run later): the key is
    released, and a repeat runs it. Every other answer, a 4xx too, is the request's result.
    """
    claim = g.pop("idempotency_claim", None)
    if claim is None:
        return response
    try:
        if response.status_code >= 500 or response.status_code == 429:
            service.release(**claim)
        else:
            service.complete(
                **claim,
                status=response.status_code,
                headers=dict(response.headers.items()),
                body=response.get_data(),
            )
    except DBAPIError:
        # The answer stands; the key stays claimed until its lease ends (service.LEASE).
        db.session.rollback()
        log.exception("could not record the answer to Idempotency-Key %r", claim["key"])
    return response


def _abandon(error: BaseException | None) -> None:
    """Release the claim of a request that raised past every error handler."""
    claim = g.pop("idempotency_claim", None)
    if claim is None:
        return
    try:
        db.session.rollback()
        service.release(**claim)
    except DBAPIError:
        log.exception("could not release Idempotency-Key %r", claim["key"])
