"""Fast JSON in and out (orjson), shared by the Flask provider and hand-written responses."""

from __future__ import annotations

from typing import Any

import orjson
from flask import Response
from flask.json.provider import JSONProvider

_OPTIONS = orjson.OPT_NON_STR_KEYS


def dumps(obj: Any) -> bytes:
    """Serialise to JSON bytes."""
    return orjson.dumps(obj, option=_OPTIONS)


class OrjsonProvider(JSONProvider):
    """Flask's JSON provider backed by orjson; a parse error is a ValueError, hence a 400."""

    mimetype = "application/json"

    def dumps(self, obj: Any, **kwargs: Any) -> str:
        """Serialise to a JSON string."""
        return orjson.dumps(obj, option=_OPTIONS).decode()

    def loads(self, s: str | bytes, **kwargs: Any) -> Any:
        """Parse JSON; orjson refuses nesting past 1024 levels instead of overflowing the stack."""
        return orjson.loads(s)

    def response(self, *args: Any, **kwargs: Any) -> Any:
        """Build a JSON response without a second encoding pass."""
        obj = self._prepare_response_obj(args, kwargs)
        return self._app.response_class(dumps(obj), mimetype=self.mimetype)  # type: ignore[arg-type]


def no_content() -> Response:
    """An empty 204 response without a Content-Type."""
    response = Response(status=204)
    del response.headers["Content-Type"]
    return response
