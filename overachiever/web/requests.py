"""Rules every request and response share: JSON bodies under /api/, security headers."""

from __future__ import annotations

import io
from collections.abc import Callable
from typing import IO, Any, TypeVar

from flask import Flask, Request, Response, current_app, request
from werkzeug.exceptions import BadRequest, RequestEntityTooLarge, UnsupportedMediaType
from werkzeug.utils import cached_property
from werkzeug.wsgi import get_input_stream

from ..core.errors import Invalid
from .problems import request_id

BODY_METHODS = frozenset({"POST", "PUT", "PATCH"})
# Set on every response that does not set them itself.
SECURITY_HEADERS = (
    ("X-Content-Type-Options", "nosniff"),
    ("X-Frame-Options", "DENY"),
    ("Referrer-Policy", "no-referrer"),
)


View = TypeVar("View", bound=Callable[..., Any])


# The views that take documents besides JSON, by function name: media type -> description,
# for the OpenAPI document (web/openapi.py).
DOCUMENT_BODIES: dict[str, dict[str, str]] = {}


def accepts_documents(media_types: dict[str, str]) -> Callable[[View], View]:
    """Let a view take bodies of these media types besides JSON (it reads them itself);
    media_types maps each to its description in the OpenAPI document."""

    def mark(view: View) -> View:
        view.document_types = frozenset(media_types)  # type: ignore[attr-defined]
        DOCUMENT_BODIES[view.__name__] = dict(media_types)
        return view

    return mark


def _document_types() -> frozenset[str]:
    """The non-JSON media types the matched view takes (none for most)."""
    view = current_app.view_functions.get(request.endpoint or "")
    return getattr(view, "document_types", frozenset())


class ApiRequest(Request):
    """A request whose body is refused over the size limit however it is framed, and whose
    JSON parse errors say what is wrong."""

    @cached_property
    def stream(self) -> IO[bytes]:
        """The body, refused with 413 when it is longer than MAX_CONTENT_LENGTH.

        Werkzeug checks a Content-Length against the limit, but a body without one (chunked)
        it reads up to the limit and silently drops the rest. Such a body is read here, at
        most one byte more than the limit, so that a longer one is refused.
        """
        if self.shallow:
            raise RuntimeError("reading the body of a shallow request is disabled")
        limit = self.max_content_length
        if (
            limit is None
            or self.content_length is not None
            or not self.environ.get("wsgi.input_terminated")
        ):
            return get_input_stream(self.environ, max_content_length=limit)
        raw = self.environ["wsgi.input"]
        parts: list[bytes] = []
        size = 0
        while size <= limit:
            part = raw.read(limit + 1 - size)
            if not part:
                break
            parts.append(part)
            size += len(part)
        if size > limit:
            raise RequestEntityTooLarge()
        return io.BytesIO(b"".join(parts))

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
                documents = _document_types()
                if request.mimetype in documents:
                    return
                if documents:
                    listed = ", ".join(["application/json", *sorted(documents)])
                    raise UnsupportedMediaType(f"send the body as one of {listed}")
                raise UnsupportedMediaType("send the body as application/json")

    @app.after_request
    def _plain_options(response: Response) -> Response:
        # Flask answers OPTIONS itself with an empty 200 that claims to be HTML: say the
        # same (the Allow header) with 204 and no content type.
        rule = request.url_rule
        if request.method == "OPTIONS" and getattr(rule, "provide_automatic_options", False):
            response.status_code = 204
            response.headers.pop("Content-Type", None)
            response.headers.pop("Content-Length", None)
        return response

    @app.after_request
    def _security_headers(response: Response) -> Response:
        headers = response.headers
        # Headers.setdefault raises and catches a KeyError per missing header: look up once.
        present = {name.lower() for name, _value in headers.items()}
        defaults = list(SECURITY_HEADERS)
        # Every API answer holds someone's data (v1.0 too): no cache may keep it. A calendar
        # feed sets its own short private caching; its refusals (a revoked feed) are not kept.
        if request.path.startswith(("/api/", "/v1.0/", "/calendar/")):
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
