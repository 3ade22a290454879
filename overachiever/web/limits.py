"""Rate limits: Flask-Limiter, created unbound, and the keys it counts by."""

from __future__ import annotations

from flask import Flask, current_app, request
from flask_limiter import Limiter
from flask_limiter.util import get_remote_address

from .auth import current_user

# Flask-Limiter settings whose limits its before-request hook enforces (not a decorator).
MIDDLEWARE_SETTINGS = ("RATELIMIT_DEFAULT", "RATELIMIT_APPLICATION", "RATELIMIT_META")


def client_address() -> str:
    """Rate-limit key: the client address (after ProxyFix, when proxies are trusted)."""
    return get_remote_address() or "unknown"


def login_account() -> str:
    """Rate-limit key: the account named in the HTTP Basic credentials."""
    auth = request.authorization
    name = (auth.username or "") if auth else ""
    return "account:" + name.strip().lower()


def caller_account() -> str:
    """Rate-limit key: the account of the request's bearer token (checked before the limit)."""
    return f"user:{current_user().id}"


def import_limit() -> str:
    """Imports per account (OVERACHIEVER_IMPORT_LIMIT)."""
    return str(current_app.config["IMPORT_LIMIT"])


def max_goals() -> int:
    """Goals per account, trash included (OVERACHIEVER_MAX_GOALS; 0: no limit)."""
    return int(current_app.config["MAX_GOALS"])


limiter = Limiter(key_func=client_address)


def init_app(app: Flask) -> None:
    """Attach the limiter; unhook its check before every request when nothing needs it.

    A view decorated with limiter.limit checks its limits itself when it runs; the hook only
    adds default, application and meta limits, of which there are none unless configured, yet
    it costs every request a walk through the limiter's tables.
    """
    limiter.init_app(app)
    if any(app.config.get(key) for key in MIDDLEWARE_SETTINGS):
        return
    hooks = app.before_request_funcs[None]
    hooks[:] = [hook for hook in hooks if getattr(hook, "__self__", None) is not limiter]
