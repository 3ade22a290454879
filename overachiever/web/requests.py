"""Rules every request and response share: JSON bodies under /api/, security headers."""

from __future__ import annotations

from typing import Any

from flask import Flask, Request, Response, request
from werkzeug.exceptions import BadRequest, UnsupportedMediaType

from ..core.errors import Invalid
from .problems import request_id

BODY_METHODS = frozenset({"POST", "PUT", "PATCH"})
# Set on every response that does not set them itself.
SECURITY_HEADERS = (
    ("X-Content-Type-Options", "nosniff"),
    ("X-Frame-Options", "DENY"),
    ("Referrer-Policy", "no-referrer"),
)


class ApiRequest(Request):
    """A request whose JSON parse errors say what is wrong."""

    def on_json_loading_failed(self, e: ValueError | None) -> Any:
        """Refuse a body that is not valid JSON with a 400 that says so."""
        if e is None:  # wrong content type: Flask's own 415
            return super().on_json_loading_failed(e)
        raise BadRequest(f"the body is not valid JSON: {e}")

    def get_json(self, force: bool = False, silent: bool = False, cache: bool = True) -> Any:
        """Parse the JSON body, refusing a literal null.

        APIFlask validates a null body as if it were {}, so `PATCH` with `null` would succeed
        as an empty change.
        """
        data = super().get_json(force=force, silent=silent, cache=cache)
        if data is None and not silent:
            raise Invalid(
                "the body must be a JSON object, not null",
                [{"loc": ["body"], "msg": "must not be null"}],
            )
        return data


def register_hooks(app: Flask) -> None:
    """Refuse non-JSON bodies under /api/, and set the security headers on every answer."""

    @app.before_request
    def _require_json_bodies() -> None:
        # A body sent to the API must say it is JSON; anything else is refused before parsing.
        if request.method in BODY_METHODS and request.path.startswith("/api/"):
            has_body = bool(request.content_length) or "chunked" in request.headers.get(
                "Transfer-Encoding", ""
            )
            if has_body and not request.is_json:
                raise UnsupportedMediaType("send the body as application/json")

    @app.after_request
    def _security_headers(response: Response) -> Response:
        headers = response.headers
        # Headers.setdefault raises and catches a KeyError per missing header: look up once.
        present = {name.lower() for name, _value in headers.items()}
        defaults = list(SECURITY_HEADERS)
        # Every API answer holds someone's data (v1.0 too): no cache may keep it.
        if request.path.startswith(("/api/", "/v1.0/")):
            defaults.append(("Cache-Control", "no-store"))
        if request.is_secure:
            defaults.append(("Strict-Transport-Security", "max-age=31536000; includeSubDomains"))
        for name, value in defaults:
            if name.lower() not in present:
                headers.add(name, value)
        if "x-request-id" in present:
            headers.set("X-Request-ID", request_id())
        else:
            headers.add("X-Request-ID", request_id())
        return response
