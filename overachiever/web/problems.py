"""The one place where every error becomes an RFC 9457 problem+json answer."""

from __future__ import annotations

import logging
import uuid
from typing import Any

from apiflask import APIFlask, HTTPError
from flask import Response, current_app, g, request
from werkzeug.exceptions import HTTPException

from ..core.errors import (
    Conflict,
    DomainError,
    Forbidden,
    Invalid,
    Malformed,
    NotFound,
    PreconditionFailed,
    Unauthorized,
    summarise,
)
from ..web.jsonio import dumps

PROBLEM_JSON = "application/problem+json"
log = logging.getLogger(__name__)

# The HTTP status of each kind of domain error; a subclass takes its nearest listed ancestor's.
STATUS: dict[type[DomainError], int] = {
    Malformed: 400,
    Invalid: 422,
    NotFound: 404,
    Conflict: 409,
    Forbidden: 403,
    PreconditionFailed: 412,
    Unauthorized: 401,
    DomainError: 400,
}


def status_of(error: DomainError) -> int:
    """The HTTP status that answers a domain error."""
    for kind in type(error).__mro__:
        if kind in STATUS:
            return STATUS[kind]
    return 400


def problem(
    status: int, title: str, detail: str, type_: str = "about:blank", **extra: Any
) -> Response:
    """Build an application/problem+json response."""
    body: dict[str, Any] = {"type": type_, "title": title, "status": status, "detail": detail}
    body.update(extra)
    return Response(dumps(body), status=status, mimetype=PROBLEM_JSON)


def _problem_type(slug: str) -> str:
    return f"urn:overachiever:problem:{slug}"


def _validation_errors(detail: Any) -> list[dict[str, Any]]:
    """Turn APIFlask's {location: {field.path: [msgs]}} into a list of {loc, msg}."""
    errors: list[dict[str, Any]] = []
    if not isinstance(detail, dict):
        return errors
    for location, fields in detail.items():
        if not isinstance(fields, dict):
            continue
        for path, messages in fields.items():
            # "body" rather than APIFlask's "json", matching the errors the services raise.
            loc: list[Any] = ["body" if location == "json" else location]
            if path != "_schema":
                # An ASCII number is a list index; any other part (a field named "³", which
                # isdigit() accepts and int() refuses) is a name, kept as sent.
                loc += [int(p) if p.isascii() and p.isdigit() else p for p in str(path).split(".")]
            for msg in messages if isinstance(messages, list) else [messages]:
                errors.append({"loc": loc, "msg": str(msg)})
    return errors


def _http_error_response(error: HTTPError) -> Response:
    """APIFlask's errors (validation, authentication, abort) as problems."""
    status = error.status_code
    title = error.message or "Error"
    headers = dict(error.headers or {})
    if status == 422:
        errors = _validation_errors(error.detail)
        detail = summarise(errors)
        resp = problem(
            status,
            "Validation failed",
            detail or title,
            _problem_type("validation-error"),
            errors=errors,
        )
    elif status == 401:
        resp = problem(status, "Unauthorized", _unauthorized_detail())
    else:
        detail = error.detail if isinstance(error.detail, str) and error.detail else title
        resp = problem(status, title, detail)
    for key, value in headers.items():
        resp.headers[key] = value
    return resp


def _unauthorized_detail() -> str:
    if request.endpoint == "tokens.create_token":
        return "wrong name, e-mail or password (send them with HTTP Basic authentication)"
    return "a valid token is required: send 'Authorization: Bearer oa_...'"


def _werkzeug_response(error: HTTPException) -> Response:
    """Werkzeug's HTTP exceptions (404, 405, 413, 415, ...) as problems, keeping their headers."""
    status = error.code or 500
    resp = problem(status, error.name, error.description or error.name)
    for key, value in error.get_headers():
        if key.lower() != "content-type":
            resp.headers[key] = value
    return resp


def request_id() -> str:
    """The id of this request, as sent by a proxy or made up here."""
    rid = g.get("request_id")
    if rid is None:
        rid = request.headers.get("X-Request-ID", "")[:64] or uuid.uuid4().hex
        g.request_id = rid
    return str(rid)


def register_error_handlers(app: APIFlask) -> None:
    """Make every error, expected or not, an RFC 9457 problem."""

    @app.error_processor
    def _on_http_error(error: HTTPError) -> Response:
        return _http_error_response(error)

    @app.errorhandler(DomainError)
    def _on_domain_error(error: DomainError) -> Response:
        status = status_of(error)
        resp = problem(status, error.title, error.detail, _problem_type(error.slug), **error.extra)
        if status == 401:
            resp.headers["WWW-Authenticate"] = 'Bearer realm="overachiever"'
        return resp

    @app.errorhandler(HTTPException)
    def _on_werkzeug_error(error: HTTPException) -> Response:
        return _werkzeug_response(error)

    @app.errorhandler(Exception)
    def _on_unexpected(error: Exception) -> Response:
        if isinstance(error, HTTPException):
            return _werkzeug_response(error)
        rid = request_id()
        log.exception("unhandled error in request %s", rid)
        if current_app.testing and current_app.config.get("PROPAGATE_UNEXPECTED", True):
            raise error
        return problem(
            500,
            "Internal server error",
            f"The server failed to handle this request; its id is {rid}.",
            request_id=rid,
        )
