"""Request bodies a view validates itself: optional ones, and ones described but not parsed."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

from flask import request
from pydantic import BaseModel, ValidationError

from ..core.errors import Invalid
from ..core.validation import Body

BodyT = TypeVar("BodyT", bound=Body)
View = TypeVar("View", bound=Callable[..., Any])


def parse_optional_body(model: type[BodyT]) -> BodyT:
    """Validate a JSON body that may be absent (an empty body means all defaults)."""
    if not request.get_data(cache=True).strip():
        return model()
    try:
        return model.model_validate(request.get_json())
    except ValidationError as exc:
        errors = [{"loc": ["body", *err["loc"]], "msg": err["msg"]} for err in exc.errors()]
        raise Invalid.from_errors(errors) from exc


def documented_body(blueprint: Any, model: type[BaseModel]) -> Callable[[View], View]:
    """Describe a JSON request body in the OpenAPI document without APIFlask validating it.

    For bodies the view validates itself: optional bodies, and import trees that are checked
    node by node so no depth of nesting can exhaust the stack.
    """

    def decorator(view: View) -> View:
        blueprint.input(model)(view)  # records the schema on the view; drops the validating wrapper
        return view

    return decorator
