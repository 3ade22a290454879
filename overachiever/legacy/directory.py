"""The user directory (/api/user), for administrators: `item` bodies, bulk creation that is
all or nothing, and {"code", "message"} acknowledgements, over the v2 users service.

Every failure inside the directory answers {"code": 1, "message": "FAILURE", "detail": ...}
with its 4xx status; a path or method the directory does not have gets the server-wide
problem+json 404/405.
"""

from __future__ import annotations

from typing import Any

from apiflask import APIBlueprint
from flask import Response, g, request
from pydantic import TypeAdapter, ValidationError
from werkzeug.exceptions import HTTPException

from ..core.errors import DomainError, Malformed, Unauthorized
from ..core.validation import Body, Email, Id, UserName
from ..tokens import service as tokens
from ..users.models import User
from ..web.auth import token_touch_interval
from ..web.jsonio import dumps
from ..web.problems import status_of
from . import service
from .service import Entry

bp = APIBlueprint("legacy_directory", __name__, url_prefix="/api/user", enable_openapi=False)

# Bulk requests are bounded so one request cannot hold the write lock for long.
MAX_ITEMS = 1000


class Item(Body):
    """A user as the directory writes it."""

    id: Id | None = None
    name: UserName
    mail: Email


class ItemPatch(Body):
    """Some of a user's attributes (PATCH)."""

    id: Id | None = None
    name: UserName | None = None
    mail: Email | None = None


_ITEMS = TypeAdapter(list[Item])


def _ack(status: int = 200, **extra: Any) -> Response:
    return Response(
        dumps({"code": 0, "message": "SUCCESS", **extra}), status, mimetype="application/json"
    )


def _failure(status: int, detail: str, **extra: Any) -> Response:
    body = {"code": 1, "message": "FAILURE", "detail": detail, **extra}
    return Response(dumps(body), status, mimetype="application/json")


@bp.errorhandler(DomainError)
def _on_domain_error(error: DomainError) -> Response:
    extra = {"errors": error.extra["errors"]} if error.extra.get("errors") else {}
    status = status_of(error)
    resp = _failure(status, error.detail, **extra)
    if status == 401:
        resp.headers["WWW-Authenticate"] = 'Bearer realm="overachiever"'
    return resp


@bp.errorhandler(HTTPException)
def _on_http_error(error: HTTPException) -> Response:
    resp = _failure(error.code or 400, error.description or error.name)
    for key, value in error.get_headers():
        if key.lower() != "content-type":
            resp.headers[key] = value
    return resp


@bp.before_request
def _authenticate() -> None:
    # Every directory route needs an administrator's bearer token; checked here, once, so no
    # route can forget it.
    auth = request.authorization
    user = None
    if auth and auth.type == "bearer":
        user = tokens.authenticate(auth.token or "", touch_after=token_touch_interval())
    if user is None:
        raise Unauthorized("a valid token is required: send 'Authorization: Bearer oa_...'")
    service.require_admin(user)
    g.directory_user = user


def _caller() -> User:
    user: User = g.directory_user
    return user


def _item_body() -> Any:
    """The `item` of the JSON body (an object, or a list of objects)."""
    if not request.get_data(cache=True).strip():
        raise Malformed(
            'the body is empty: send {"item": {...}}', [{"loc": ["body"], "msg": "required"}]
        )
    body = request.get_json()
    if not isinstance(body, dict) or "item" not in body:
        raise Malformed(
            'missing required field "item": send {"item": {...}}',
            [{"loc": ["body", "item"], "msg": "missing required field"}],
        )
    extra = sorted(set(body) - {"item"})
    if extra:
        raise Malformed(
            f"unknown fields: {', '.join(extra)}",
            [{"loc": ["body", k], "msg": "unknown field"} for k in extra],
        )
    return body["item"]


def _validate(adapter: Any, value: Any) -> Any:
    try:
        return adapter.validate_python(value)
    except ValidationError as exc:
        errors = []
        for err in exc.errors():
            missing = err["type"] == "missing"
            errors.append(
                {
                    "loc": ["body", "item", *err["loc"]],
                    "msg": "missing required field" if missing else err["msg"],
                }
            )
        detail = "; ".join(f"{'.'.join(map(str, e['loc'][1:]))}: {e['msg']}" for e in errors[:5])
        raise Malformed(detail, errors) from exc


@bp.post("")
@bp.post("/")
def create_users() -> Response:
    """Create one user (an item) or several (a list of items, all or nothing)."""
    item = _item_body()
    bulk = isinstance(item, list)
    if bulk and not 1 <= len(item) <= MAX_ITEMS:
        raise Malformed(f"a bulk request has 1 to {MAX_ITEMS} items, not {len(item)}")
    items = _validate(_ITEMS, item) if bulk else [_validate(TypeAdapter(Item), item)]
    entries = [Entry(i.name, str(i.mail), i.id) for i in items]
    return _ack(ids=service.directory_create(_caller(), entries, bulk))


@bp.get("")
@bp.get("/")
@bp.get("/<int:user_id>")
def show_users(user_id: int = 0) -> Response:
    """{"results": [{id, name, mail}]} of one user; of every user for id 0 (or no id)."""
    results = service.directory_entries(_caller(), user_id)
    return Response(dumps({"results": results}), mimetype="application/json")


@bp.put("/<int:user_id>")
def replace_user(user_id: int) -> Response:
    """Set a user's name and e-mail address."""
    item: Item = _validate(TypeAdapter(Item), _item_body())
    _check_id(item.id, user_id)
    service.directory_update(_caller(), user_id, item.name, str(item.mail))
    return _ack()


@bp.patch("/<int:user_id>")
def change_user(user_id: int) -> Response:
    """Change any one (or both) of a user's name and e-mail address."""
    item: ItemPatch = _validate(TypeAdapter(ItemPatch), _item_body())
    _check_id(item.id, user_id)
    if item.name is None and item.mail is None:
        raise Malformed(
            "send at least one of name and mail",
            [{"loc": ["body", "item"], "msg": "needs name or mail"}],
        )
    service.directory_update(
        _caller(), user_id, item.name, str(item.mail) if item.mail is not None else None
    )
    return _ack()


@bp.delete("/<int:user_id>")
def delete_user(user_id: int) -> Response:
    """Delete a user with their goals and tokens."""
    service.directory_delete(_caller(), user_id)
    return _ack()


def _check_id(item_id: int | None, user_id: int) -> None:
    if item_id is not None and item_id != user_id:
        raise Malformed(
            f"the item's id {item_id} is not the id in the path ({user_id})",
            [{"loc": ["body", "item", "id"], "msg": "must match the path"}],
        )
