"""The application factory."""

from __future__ import annotations

import logging
import os
from pathlib import Path
from typing import Any

from apiflask import APIFlask
from flask import Request, Response, request, send_from_directory
from werkzeug.exceptions import BadRequest, UnsupportedMediaType
from werkzeug.middleware.proxy_fix import ProxyFix

from . import __version__
from .config import Config
from .db import configure_engine
from .errors import Invalid, register_error_handlers, request_id
from .extensions import db, limiter
from .jsonio import OrjsonProvider
from .openapi import DOCS_ASSETS, configure_openapi
from .routing import IdConverter, UserRefConverter

BODY_METHODS = frozenset({"POST", "PUT", "PATCH"})
# Set on every response that does not set them itself.
SECURITY_HEADERS = (
    ("X-Content-Type-Options", "nosniff"),
    ("X-Frame-Options", "DENY"),
    ("Referrer-Policy", "no-referrer"),
)
# Flask-Limiter settings whose limits its before-request hook enforces (not a decorator).
LIMITER_MIDDLEWARE_SETTINGS = ("RATELIMIT_DEFAULT", "RATELIMIT_APPLICATION", "RATELIMIT_META")


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


def create_app(config: type[Config] | dict[str, Any] | None = None) -> APIFlask:
    """Build the Over Achiever application: Config, then the environment, then `config`."""
    instance_path = os.environ.get("OVERACHIEVER_INSTANCE_PATH")
    app = APIFlask(
        "overachiever",
        title="Over Achiever",
        version=__version__,
        spec_path="/api/v2/openapi.json",
        docs_path="/docs",
        instance_path=str(Path(instance_path).resolve()) if instance_path else None,
    )
    app.config.from_object(Config)
    app.config.update(Config.from_env())
    app.config.update(_overrides(config))
    if not app.config.get("SQLALCHEMY_DATABASE_URI"):
        Path(app.instance_path).mkdir(parents=True, exist_ok=True)
        app.config["SQLALCHEMY_DATABASE_URI"] = "sqlite:///" + os.path.join(
            app.instance_path, "overachiever.db"
        )

    logging.basicConfig(
        level=app.config["LOG_LEVEL"], format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )
    app.request_class = ApiRequest
    app.json = OrjsonProvider(app)
    app.url_map.converters["id"] = IdConverter
    app.url_map.converters["user_ref"] = UserRefConverter
    if app.config["TRUSTED_PROXIES"]:
        hops = int(app.config["TRUSTED_PROXIES"])
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=hops, x_proto=hops, x_host=hops)  # type: ignore[method-assign]

    db.init_app(app)
    with app.app_context():
        configure_engine(db.engine, app.config["SQLITE_BUSY_TIMEOUT_MS"])
    limiter.init_app(app)
    _skip_limiter_middleware(app)

    from .goals.views import bp as goals_bp
    from .goals.views import trash_bp
    from .health import bp as health_bp
    from .tokens.views import bp as tokens_bp
    from .users.views import bp as users_bp

    for blueprint in (users_bp, tokens_bp, goals_bp, trash_bp, health_bp):
        app.register_blueprint(blueprint)
    from .legacy.directory import bp as directory_bp
    from .legacy.v1 import bp as v1_bp

    app.register_blueprint(v1_bp)  # the article's /v1.0 API
    app.register_blueprint(directory_bp)  # the user directory at /api/user
    from .ui import bp as ui_bp
    from .ui import secure_docs

    app.register_blueprint(ui_bp)  # the browser UI at /
    secure_docs(app)  # /docs without inline script, under a strict CSP

    register_error_handlers(app)
    configure_openapi(app)
    _register_hooks(app)

    @app.get("/docs/assets/<path:filename>")
    @app.doc(hide=True)
    def docs_asset(filename: str) -> Response:
        """Swagger UI's files, served by the app so the docs work offline."""
        return send_from_directory(DOCS_ASSETS, filename, max_age=86400)

    return app


def _overrides(config: type[Config] | dict[str, Any] | None) -> dict[str, Any]:
    """The settings a caller passed: a dict, or a config class's non-None upper-case attributes."""
    if config is None:
        return {}
    if isinstance(config, dict):
        return config
    return {
        k: getattr(config, k) for k in dir(config) if k.isupper() and getattr(config, k) is not None
    }


def _register_hooks(app: APIFlask) -> None:
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


def _skip_limiter_middleware(app: APIFlask) -> None:
    """Unhook Flask-Limiter's check before every request when only decorated views are limited.

    A view decorated with limiter.limit checks its limits itself when it runs; the hook only
    adds default, application and meta limits, of which there are none unless configured, yet
    it costs every request a walk through the limiter's tables.
    """
    if any(app.config.get(key) for key in LIMITER_MIDDLEWARE_SETTINGS):
        return
    app.before_request_funcs[None].remove(limiter._check_request_limit)
