"""Rate limits: Flask-Limiter, created unbound, the limits and the keys it counts by."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar, cast

from flask import Flask, current_app, request
from flask_limiter import Limiter
from flask_limiter.util import get_remote_address

from ..users import service as users
from .auth import current_user

View = TypeVar("View", bound=Callable[..., Any])

# Flask-Limiter settings whose limits its before-request hook enforces (not a decorator).
MIDDLEWARE_SETTINGS = ("RATELIMIT_DEFAULT", "RATELIMIT_APPLICATION", "RATELIMIT_META")


def login_limit() -> str:
    """Password checks allowed per client address and per account (OVERACHIEVER_LOGIN_LIMIT)."""
    return str(current_app.config["LOGIN_LIMIT"])


def signup_limit() -> str:
    """Sign-ups allowed per client address (OVERACHIEVER_SIGNUP_LIMIT)."""
    return str(current_app.config["SIGNUP_LIMIT"])


def client_address() -> str:
    """Rate-limit key: the client address (after ProxyFix, when proxies are trusted)."""
    return get_remote_address() or "unknown"


def login_account() -> str:
    """Rate-limit key: the account the HTTP Basic credentials name, by name or e-mail alike."""
    auth = request.authorization
    return users.login_key((auth.username or "") if auth else "")


def password_check_limits(
    account: Callable[[], str], *, exempt_when: Callable[[], bool] | None = None
) -> Callable[[View], View]:
    """The sign-in limits, per client address and per account (its key: `account`).

    The account's count is shared by every route that checks a password, so guesses spread
    over sign-in and a password change count against one allowance. The rate-limit headers
    show the address's count, never the account's: they cannot tell that two logins name one
    account, nor that someone else tried it. exempt_when: requests that check no password.
    """

    def decorate(view: View) -> View:
        limited: Callable[..., Any] = limiter.shared_limit(
            login_limit, scope="login-account", key_func=account, exempt_when=exempt_when
        )(view)
        limited = limiter.limit(
            login_limit, scope="login-address", key_func=client_address, exempt_when=exempt_when
        )(limited)
        return cast(View, limited)

    return decorate


def caller_account() -> str:
    """Rate-limit key: the account of the request's bearer token (checked before the limit)."""
    return f"user:{current_user().id}"


def import_limit() -> str:
    """Imports per account (OVERACHIEVER_IMPORT_LIMIT)."""
    return str(current_app.config["IMPORT_LIMIT"])


def feed_limit() -> str:
    """Calendar feed fetches per client address (OVERACHIEVER_FEED_LIMIT)."""
    return str(current_app.config["FEED_LIMIT"])


def share_limit() -> str:
    """Shares made per account and per client address (OVERACHIEVER_SHARE_LIMIT)."""
    return str(current_app.config["SHARE_LIMIT"])


def share_limits(view: View) -> View:
    """The sharing limits, per caller account and per client address, like sign-in's: a share
    tells whether a name or e-mail address has an account."""
    limited: Callable[..., Any] = limiter.limit(
        share_limit, scope="share-account", key_func=caller_account
    )(view)
    limited = limiter.limit(share_limit, scope="share-address", key_func=client_address)(limited)
    return cast(View, limited)


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
