"""The application factory."""

from __future__ import annotations

import logging
import os
from pathlib import Path
from typing import Any

from apiflask import APIFlask
from flask import Response, send_from_directory
from werkzeug.middleware.proxy_fix import ProxyFix

from . import __version__
from .config import Config, Settings
from .core import passwords
from .core.db import configure_engine, db
from .web import idempotency, limits
from .web.jsonio import OrjsonProvider
from .web.openapi import DOCS_ASSETS, configure_openapi
from .web.problems import register_error_handlers
from .web.requests import ApiRequest, register_hooks
from .web.routing import IdConverter, UserRefConverter


def create_app(config: type[Config] | dict[str, Any] | None = None) -> APIFlask:
    """Build the Over Achiever application: Config, then the environment, then `config`.

    A junk environment variable raises SettingsError (a RuntimeError) naming it.
    """
    settings = Settings.from_env()
    app = APIFlask(
        "overachiever",
        title="Over Achiever",
        version=__version__,
        spec_path="/api/v2/openapi.json",
        docs_path="/docs",
        instance_path=str(settings.instance_path.resolve()) if settings.instance_path else None,
    )
    app.config.from_object(Config)
    app.config.update(settings.flask_config())
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

    passwords.init_app(app)
    db.init_app(app)
    with app.app_context():
        configure_engine(db.engine, app.config["SQLITE_BUSY_TIMEOUT_MS"])
    limits.init_app(app)

    from .calendars.views import bp as calendars_bp
    from .exchange.views import bp as exchange_bp
    from .goals.views import bp as goals_bp
    from .goals.views import trash_bp
    from .history.views import bp as history_bp
    from .progress.views import bp as progress_bp
    from .sharing.views import bp as sharing_bp
    from .tokens.views import bp as tokens_bp
    from .users.views import bp as users_bp
    from .web.health import bp as health_bp

    for blueprint in (
        users_bp,
        tokens_bp,
        goals_bp,
        trash_bp,
        history_bp,
        progress_bp,
        exchange_bp,
        sharing_bp,
        calendars_bp,
        health_bp,
    ):
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
    register_hooks(app)
    idempotency.init_app(app)  # after register_hooks: a refused body (415) claims no key

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
