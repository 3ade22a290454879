"""Schemathesis hooks for the schema fuzzer (`.ci/fuzz`): an account that heals itself.

The fuzzer acts as an administrator with a bearer token. Fuzzed requests may legitimately
revoke that token, rename the account, change its password, demote or delete it; when a
request then gets a 401 (or has just demoted the account), this provider signs in anew. If
the account cannot sign in or is no longer an administrator, a keeper administrator (one the
fuzzer never acts as) restores its name, password and role, so the fuzzer keeps its identity
and the goals it made: a goal one step created stays found by the next, whatever ran between.
Only an account that is gone is replaced by a fresh one (and the CLI, straight in the
database, makes a new keeper when the fuzzer has deleted or demoted the old one).
The counts of such renewals are written to FUZZ_STATS (a JSON file) for the run's summary.

With FUZZ_IDENTITY=recipient the fuzzer is a second identity instead: an ordinary user to
whom a neighbour (an account it never acts as) has shared one subtree to edit and one to view,
and who also holds none of the neighbour's other goals. The neighbour's goals come first in a
fresh database, so the small ids the fuzzer favours reach them, inside and outside the shares.
FUZZ_NEIGHBOUR names a JSON file where the neighbour's account and goals are written, so that
the run can check afterwards that the goals outside the shares are untouched
(tests/adversarial/fuzz_neighbour.py).
"""

from __future__ import annotations

import base64
import itertools
import json
import os
import re
import secrets
import subprocess
import threading
import uuid
from collections.abc import Callable
from typing import Any
from urllib.parse import urlencode

import requests
import schemathesis

BASE_URL = os.environ.get("FUZZ_BASE_URL", "http://127.0.0.1:5000")
# admin (the default) or recipient: see the module's docstring.
IDENTITY = os.environ.get("FUZZ_IDENTITY", "admin")
PASSWORD = "fuzzing password 0"
TOKEN_PATH = "/api/v2/tokens"
_names = itertools.count(1)
_lock = threading.Lock()
_stats = {"tokens_issued": 0, "accounts_created": 0, "accounts_restored": 0}
_account = {"name": "", "keeper": "", "token": "", "id": "", "demoted": ""}
_neighbour: dict[str, Any] = {}


def _basic(name: str, password: str) -> str:
    return "Basic " + base64.b64encode(f"{name}:{password}".encode()).decode()


def _save_stats() -> None:
    if path := os.environ.get("FUZZ_STATS"):
        with open(path, "w") as f:
            json.dump(_stats, f)


def _token_for(name: str) -> str | None:
    """A new bearer token for `name` (None if it cannot sign in)."""
    resp = requests.post(
        BASE_URL + TOKEN_PATH, headers={"Authorization": _basic(name, PASSWORD)}, timeout=30
    )
    if resp.status_code != 201:
        return None
    _stats["tokens_issued"] += 1
    return str(resp.json()["token"])


def _cli_admin() -> str:
    """A new administrator made by the CLI in the served database (no HTTP state needed)."""
    for _ in range(5):
        name = _fresh_name("keeper")
        command = [os.environ.get("FUZZ_CLI", "overachiever"), "users", "create", name]
        command += ["--email", f"{name}@example.com", "--password", PASSWORD, "--admin"]
        done = subprocess.run(command, check=False, capture_output=True, timeout=60)
        if done.returncode == 0:
            _stats["accounts_created"] += 1
            return name
    raise RuntimeError(f"could not create an administrator: {done.stderr.decode()[-500:]}")


def _fresh_name(kind: str) -> str:
    # Random: the fuzzer reuses values it has seen, so it may have given an old account's
    # name or e-mail address to another account.
    return f"{kind}-{next(_names)}-{secrets.token_hex(4)}"


def _http_user(keeper_token: str, kind: str = "fuzzer") -> tuple[str, int] | None:
    """A new ordinary account made over HTTP by the keeper: its name and id (None if the keeper
    lost its rights)."""
    auth = {"Authorization": f"Bearer {keeper_token}"}
    name = _fresh_name(kind)
    body = {"name": name, "email": f"{name}@example.com", "password": PASSWORD}
    resp = requests.post(BASE_URL + "/api/v2/users", json=body, headers=auth, timeout=30)
    if resp.status_code != 201:
        return None
    _stats["accounts_created"] += 1
    return name, int(resp.json()["id"])


def _http_recipient(keeper_token: str) -> str | None:
    """A new ordinary account for the fuzzer (None if the keeper lost its rights)."""
    made = _http_user(keeper_token)
    return made[0] if made else None


def _http_neighbour(keeper_token: str) -> str | None:
    """The recipient's neighbour, an ordinary account (None if the keeper lost its rights)."""
    made = _http_user(keeper_token, "neighbour")
    return made[0] if made else None


def _http_admin(keeper_token: str) -> str | None:
    """A new administrator made over HTTP by the keeper (None if the keeper lost its rights)."""
    made = _http_user(keeper_token)
    if made is None:
        return None
    name, user_id = made
    resp = requests.patch(
        f"{BASE_URL}/api/v2/users/{user_id}",
        json={"is_admin": True},
        headers={"Authorization": f"Bearer {keeper_token}"},
        timeout=30,
    )
    if resp.status_code != 200:
        return None
    return name


def _by_keeper(act: Callable[[str], str | None]) -> str | None:
    """act(keeper's token), done by a keeper administrator the fuzzer never acts as (cheap),
    or by a new one the CLI makes when the fuzzer has deleted or demoted the keeper."""
    for _ in range(3):
        if not _account["keeper"]:
            _account["keeper"] = _cli_admin()
        keeper_token = _token_for(_account["keeper"])
        done = act(keeper_token) if keeper_token else None
        if done:
            return done
        _account["keeper"] = ""
    return None


def _create_account() -> str:
    """A fresh account for the fuzzer: an administrator, or an ordinary recipient."""
    name = _by_keeper(_http_admin if IDENTITY == "admin" else _http_recipient)
    if name is None:
        raise RuntimeError(f"could not make an account ({IDENTITY}) for the fuzzer")
    return name


def _restore(keeper_token: str) -> str | None:
    """The fuzzer's own account, made an administrator with its name and password again."""
    body = {"name": _account["name"], "password": PASSWORD, "is_admin": IDENTITY == "admin"}
    resp = requests.patch(
        f"{BASE_URL}/api/v2/users/{_account['id']}",
        json=body,
        headers={"Authorization": f"Bearer {keeper_token}"},
        timeout=30,
    )
    if resp.status_code in (401, 403):
        return None  # the keeper lost its rights: _by_keeper finds another
    # 404: the account is gone; 409: another account took its name. It must be replaced.
    return "restored" if resp.status_code == 200 else "replace"


def _renew(new_account: bool) -> None:
    """Sign the fuzzer in again: as itself, restored by a keeper if it must, else anew."""
    token = None if new_account or not _account["name"] else _token_for(_account["name"])
    if token is None and _account["id"] and _by_keeper(_restore) == "restored":
        _stats["accounts_restored"] += 1
        token = _token_for(_account["name"])
    if token is None:
        _account["name"] = _create_account()
        token = _token_for(_account["name"])
    if token is None:
        raise RuntimeError("a fresh account could not sign in")
    resp = requests.get(
        BASE_URL + "/api/v2/users/self", headers={"Authorization": f"Bearer {token}"}, timeout=30
    )
    _account.update(token=token, id=str(resp.json()["id"]), demoted="")
    if IDENTITY == "recipient":
        _share_with(_account["name"])
    _save_stats()


def _neighbour_call(method: str, path: str, body: Any = None) -> Any:
    headers = {"Authorization": f"Bearer {_neighbour['token']}"}
    resp = requests.request(method, BASE_URL + path, json=body, headers=headers, timeout=30)
    if resp.status_code >= 300:
        raise RuntimeError(f"neighbour: {method} {path} -> {resp.status_code} {resp.text[:300]}")
    return resp.json()


def _make_neighbour() -> None:
    """The neighbour and its goals: two subtrees to share, one to keep (made once, first)."""
    name = _by_keeper(_http_neighbour)
    token = _token_for(name) if name else None
    if token is None:
        raise RuntimeError("could not make the fuzzer's neighbour")
    _neighbour.update(name=name, token=token, goals={})

    def goal(key: str, parent: str | None = None) -> None:
        body = {"name": f"neighbour-{key}", "parent_id": _neighbour["goals"].get(parent)}
        _neighbour["goals"][key] = _neighbour_call("POST", "/api/v2/goals", body)["id"]

    for key, parent in (
        ("edited", None),
        ("edited-child", "edited"),
        ("edited-grandchild", "edited-child"),
        ("viewed", None),
        ("viewed-child", "viewed"),
        ("private", None),
        ("private-child", "private"),
    ):
        goal(key, parent)
    private = _neighbour["goals"]["private"]
    _neighbour["private_tree"] = _neighbour_call("GET", f"/api/v2/goals/{private}/tree")
    if path := os.environ.get("FUZZ_NEIGHBOUR"):
        with open(path, "w") as f:
            json.dump({"base_url": BASE_URL, **_neighbour}, f)


def _share_with(name: str) -> None:
    """The neighbour shares one subtree to edit and one to view with the fuzzer's account."""
    if not _neighbour:
        _make_neighbour()
    for key, role in (("edited", "editor"), ("viewed", "viewer")):
        goal_id = _neighbour["goals"][key]
        _neighbour_call("POST", f"/api/v2/goals/{goal_id}/shares", {"user": name, "role": role})


@schemathesis.auth(refresh_interval=600)
class HealingAdmin:
    """A bearer token of a live administrator, renewed whenever a request is refused."""

    def get(self, case: Any, context: Any) -> str:
        """Sign in again, or make a new administrator when the old one cannot sign in."""
        with _lock:
            _renew(new_account=False)
            return _account["token"]

    def set(self, case: Any, data: str, context: Any) -> None:
        """Bearer on every operation; HTTP Basic where the operation asks for it."""
        with _lock:
            if _account["demoted"]:
                _renew(new_account=True)
            token, name = _account["token"], _account["name"]
        case.headers = case.headers or {}
        if case.operation.path == TOKEN_PATH and case.method.upper() == "POST":
            case.headers["Authorization"] = _basic(name, PASSWORD)
        else:
            case.headers["Authorization"] = f"Bearer {token}"


@schemathesis.hook
def after_call(context: Any, case: Any, response: Any) -> None:
    """Notice when a fuzzed request took the fuzzer's own administrator rights away.

    Its later requests would otherwise run as an ordinary user, and a user created by one step
    would be "not found" by the next (which only an administrator may read).
    """
    if case.method.upper() not in ("PATCH", "PUT") or response.status_code != 200:
        return
    if not case.path.startswith("/api/v2/users/"):
        return
    try:
        body = response.json()
    except ValueError:
        return
    if (
        isinstance(body, dict)
        and str(body.get("id")) == _account.get("id")
        and not body.get("is_admin", True)
    ):
        with _lock:
            _account["demoted"] = "yes"


# gunicorn refuses a request line over 4094 bytes with its own HTML 414 before the app sees
# it (docs/RELIABILITY.md, "Known limits"); generated query strings stay well below that.
QUERY_LIMIT = 3000


@schemathesis.hook
def filter_query(context: Any, query: Any) -> bool:
    """Keep query strings that fit in the HTTP server's request line."""
    try:
        return len(urlencode(query or {}, doseq=True)) <= QUERY_LIMIT
    except (TypeError, ValueError):
        return True  # not a mapping: the request is sent as generated


_VALID_KEY = re.compile(r"[\x20-\x7e]{1,255}")


@schemathesis.hook
def before_call(context: Any, case: Any, **kwargs: Any) -> None:
    """Give every request a valid Idempotency-Key of its own; a malformed one stays as generated.

    The fuzzer sends the short values it favours ("0", "a") again and again: the first answer
    kept for such a key would be replayed to its repeats, and every other request with it
    refused (422), so the rest of the run would exercise the replay instead of the operations.
    tests/api/test_idempotency.py covers repeats and reuse.
    """
    headers = case.headers or {}
    for name, value in list(headers.items()):
        fit = isinstance(value, str) and _VALID_KEY.fullmatch(value)
        if name.lower() == "idempotency-key" and fit:
            headers[name] = str(uuid.uuid4())
