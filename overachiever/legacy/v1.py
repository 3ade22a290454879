"""The article's v1.0 API (/v1.0/goals, /v1.0/users): goals addressed by name, form or JSON
bodies, answered from the v2 services. Errors are RFC 9457 problems, as on v2."""

from __future__ import annotations

from typing import Any, TypeVar

from apiflask import APIBlueprint
from flask import Response, request
from pydantic import BaseModel, ConfigDict, ValidationError

from ..core.errors import Malformed
from ..core.validation import Description, Email, GoalName, UserName
from ..goals.results import GoalResult
from ..users.models import User
from ..users.schemas import Password
from ..web.auth import current_user, token_auth
from ..web.limits import max_goals
from . import service

bp = APIBlueprint("legacy_v1", __name__, url_prefix="/v1.0", enable_openapi=False)


class _Fields(BaseModel):
    # Unknown fields are ignored, as the article's RequestParser did; only these are read.
    model_config = ConfigDict(extra="ignore")


class GoalAdd(_Fields):
    """POST /v1.0/goals."""

    user: UserName | None = None
    name: GoalName
    parent_name: GoalName | None = None
    description: Description | None = None


class GoalComplete(_Fields):
    """PUT /v1.0/goals."""

    user: UserName | None = None
    name: GoalName


class AccountAdd(_Fields):
    """POST /v1.0/users."""

    name: UserName
    email: Email
    password: Password


FieldsT = TypeVar("FieldsT", bound=_Fields)


def _fields(model: type[FieldsT], *, query: bool = True) -> FieldsT:
    """The request's fields from a JSON object or a form (or the query string), validated."""
    data: dict[str, Any] = {}
    if request.is_json:
        body = request.get_json()
        if not isinstance(body, dict):
            raise Malformed(
                "the body must be a JSON object of fields",
                [{"loc": ["body"], "msg": "must be an object"}],
            )
        data.update(body)
    else:
        data.update(request.form.to_dict())
    if query:
        for key, value in request.args.items():
            data.setdefault(key, value)
    # An empty optional field means "not given", as in the article (`if args.parent_name:`).
    for key in ("user", "parent_name", "description"):
        if data.get(key) == "":
            data.pop(key)
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        errors: list[dict[str, Any]] = []
        details: list[str] = []
        for err in exc.errors():
            field = ".".join(map(str, err["loc"]))
            missing = err["type"] == "missing"
            msg = "missing required field" if missing else err["msg"]
            details.append(f"missing required field {field!r}" if missing else f"{field}: {msg}")
            errors.append({"loc": ["body", *err["loc"]], "msg": msg})
        raise Malformed("; ".join(details), errors) from exc


@bp.get("/goals")
@bp.auth_required(token_auth)
def get_goals() -> Response:
    """Every goal the caller may see, by user and in hierarchy, keyed by name."""
    return Response(service.goal_trees(current_user()), mimetype="application/json")


@bp.post("/goals")
@bp.auth_required(token_auth)
def add_goal() -> dict[str, Any]:
    """Create a goal for `user` (the caller unless an admin says otherwise) under `parent_name`."""
    f = _fields(GoalAdd)
    view = service.add_goal(
        current_user(), f.user, f.name, f.parent_name, f.description, max_goals=max_goals()
    )
    return _goal(view)


@bp.put("/goals")
@bp.auth_required(token_auth)
def complete_goal() -> dict[str, Any]:
    """Complete the goal called `name` of `user` (its end becomes now)."""
    f = _fields(GoalComplete)
    return _goal(service.complete_goal(current_user(), f.user, f.name))


@bp.get("/users")
@bp.auth_required(token_auth)
def get_users() -> list[dict[str, Any]]:
    """The users the caller may see: everyone for an admin, else only the caller."""
    return [_user(u) for u in service.visible_users(current_user())]


@bp.post("/users")
@bp.auth_required(token_auth)
def add_user() -> dict[str, Any]:
    """An administrator creates a user from `name`, `email` and `password`."""
    f = _fields(AccountAdd, query=False)  # a password never travels in a URL
    return _user(service.create_account(current_user(), f.name, str(f.email), f.password))


def _user(user: User) -> dict[str, Any]:
    return {"id": user.id, "name": user.name, "email": user.email, "is_admin": user.is_admin}


def _goal(result: GoalResult) -> dict[str, Any]:
    g = result.goal
    end = g.end.isoformat().replace("+00:00", "Z") if g.end else None  # UTC, as on v2
    return {"id": g.id, "name": g.name, "parent_id": g.parent_id, "end": end}
