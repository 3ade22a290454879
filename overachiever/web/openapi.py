"""The OpenAPI 3.1 document: problem+json errors, typed path ids, offline docs assets."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import flask_swagger_ui
from apiflask import APIFlask

from ..core.types import MAX_ID
from .requests import DOCUMENT_BODIES

# Swagger UI 5 (OpenAPI 3.1 capable), as shipped inside the flask-swagger-ui wheel.
DOCS_ASSETS = str(Path(flask_swagger_ui.__file__).parent / "dist")

PROBLEM_SCHEMA: dict[str, Any] = {
    "type": "object",
    "description": "An RFC 9457 problem",
    "properties": {
        "type": {"type": "string"},
        "title": {"type": "string"},
        "status": {"type": "integer"},
        "detail": {"type": "string"},
        "errors": {
            "type": "array",
            "items": {
                "type": "object",
                "properties": {
                    "loc": {"type": "array", "items": {"type": ["string", "integer"]}},
                    "msg": {"type": "string"},
                },
                "required": ["loc", "msg"],
            },
        },
    },
    "required": ["type", "title", "status"],
}

# The undo refusals (409) carry what the client needs to act on them: the later operations to
# undo first (undo-conflict), the undo to undo for a redo (already-undone), the loop (cycle).
UNDO_PROBLEM_SCHEMA: dict[str, Any] = {
    **PROBLEM_SCHEMA,
    "description": "An RFC 9457 problem; `type` is urn:overachiever:problem: followed by"
    " undo-conflict, not-undoable, already-undone, name-conflict or cycle",
    "properties": {
        **PROBLEM_SCHEMA["properties"],
        "conflicts": {
            "type": "array",
            "items": {"type": "integer"},
            "description": "undo-conflict: the later operations to undo first",
        },
        "undone_by": {
            "type": "integer",
            "description": "already-undone: the undo (undo it to redo)",
        },
        "path": {
            "type": "array",
            "items": {"type": "integer"},
            "description": "cycle: the goals that would loop",
        },
    },
}

# The answer of a change sent with dry_run=true (goals.views), beside its usual 200 if any.
DRY_RUN_SCHEMA: dict[str, Any] = {
    "type": "object",
    "description": "dry_run=true: every field of every goal the change would set; nothing"
    " is stored",
    "properties": {
        "dry_run": {"type": "boolean", "const": True},
        "changes": {
            "type": "array",
            "items": {
                "type": "object",
                "properties": {
                    "goal_id": {
                        "type": ["integer", "null"],
                        "description": "null: a goal the change would create",
                    },
                    "field": {"type": "string"},
                    "before": {},
                    "after": {},
                },
                "required": ["goal_id", "field", "before", "after"],
            },
        },
    },
    "required": ["dry_run", "changes"],
}

# A change refused by a completion rule (409) names the open goals in the way (strict).
RULE_PROBLEM_SCHEMA: dict[str, Any] = {
    **PROBLEM_SCHEMA,
    "description": "An RFC 9457 problem; among others, urn:overachiever:problem:rule-conflict"
    " (an end set by hand on an auto goal) or open-descendants (a strict goal with open"
    " descendants, listed in `open`)",
    "properties": {
        **PROBLEM_SCHEMA["properties"],
        "open": {
            "type": "array",
            "items": {"type": "integer"},
            "maxItems": 100,
            "description": "open-descendants: open descendants in the way (at most 100)",
        },
    },
}

# Every operation that takes a body can refuse it before validation.
_BODY_ERRORS = {
    "400": "The body is not valid JSON",
    "413": "The body is larger than the configured limit",
    "415": "The body is not sent as application/json",
}

_ID_SCHEMA = {"type": "integer", "minimum": 1, "maximum": MAX_ID}

# Idempotency-Key, accepted by every write under /api/v2 that needs a token (web.idempotency).
IDEMPOTENT_METHODS = frozenset({"post", "put", "patch", "delete"})
IDEMPOTENCY_KEY_REF = "#/components/parameters/IdempotencyKey"
IDEMPOTENCY_KEY: dict[str, Any] = {
    "name": "Idempotency-Key",
    "in": "header",
    "required": False,
    "description": (
        "Makes a retry safe: the first answer to a request with this key is kept for 24 hours "
        "and given again, with `Idempotent-Replayed: true`, to a repeat of the same method, "
        "path, query and body by the same user, which changes nothing. The same key with "
        "another request is a 422 (`idempotency-key-reused`); a repeat while the first still "
        "runs, a 409 (`idempotency-key-in-flight`). Use a new random key (a UUID) per change."
    ),
    "schema": {"type": "string", "minLength": 1, "maxLength": 255, "pattern": "^[\\x20-\\x7E]+$"},
}
IDEMPOTENT_REPLAYED: dict[str, Any] = {
    "description": "`true` when this is the kept answer to an earlier request with the same "
    "Idempotency-Key (nothing was changed again)",
    "schema": {"type": "string", "enum": ["true"]},
}
_IDEMPOTENCY_ERRORS = {
    "409": "the request first sent with this Idempotency-Key is still running (or its "
    "answer was too large to keep)",
    "422": "a malformed Idempotency-Key, or one used for another request",
}

# OpenAPI links: how the answer of one operation feeds the next (create -> read -> change ->
# delete -> restore or purge; a goal -> its history -> the operation -> undo -> undo again, a
# redo), so clients and stateful API testers can follow a resource's life.
# A restore brings a deleted goal back under its old id, so no link leads on from it: testers
# that check "deleted means gone" could not tell it from a deleted goal that did not go. For
# the same reason no link leads from an undo to the goals it touched (an undone create is in
# the trash, a redone one is back), only on to the operations.
_GOAL_FROM_BODY = {"goal_id": "$response.body#/id"}
_GOAL_FROM_PATH = {"goal_id": "$request.path.goal_id"}
_GOAL_LINKS = {
    "GetGoal": ("get_goals_get_goal", _GOAL_FROM_BODY),
    "GetSubtree": ("get_goals_goal_tree", _GOAL_FROM_BODY),
    "GetHistory": ("get_history_goal_history", _GOAL_FROM_BODY),
    "GetBurnup": ("get_progress_goal_burnup", _GOAL_FROM_BODY),
    "PatchGoal": ("patch_goals_patch_goal", _GOAL_FROM_BODY),
    "PutGoal": ("put_goals_put_goal", _GOAL_FROM_BODY),
    "DeleteGoal": ("delete_goals_delete_goal", _GOAL_FROM_BODY),
    "ImportUnderGoal": ("post_goals_import_goals", {"parent_id": "$response.body#/id"}),
}


def _operation_links(pointer: str) -> dict[str, tuple[str, dict[str, str]]]:
    """Read and undo the operation whose id is at `pointer` in the answer."""
    parameters = {"operation_id": f"$response.body#{pointer}"}
    return {
        "GetOperation": ("get_history_get_operation", parameters),
        "UndoOperation": ("post_history_undo_operation", parameters),
    }


_USER_LINKS = {
    name: (operation, {"ref": "$response.body#/id"})
    for name, operation in (
        ("GetUser", "get_users_get_user"),
        ("PatchUser", "patch_users_patch_user"),
        ("PutUser", "put_users_put_user"),
        ("DeleteUser", "delete_users_delete_user"),
    )
}
OPTIONAL_BODIES = frozenset({"post_tokens_create_token", "post_calendars_create_feed"})
LINKS: dict[tuple[str, str], dict[str, tuple[str, dict[str, str]]]] = {
    ("post_calendars_create_feed", "201"): {
        "RevokeFeed": ("delete_calendars_revoke_feed", {"feed_id": "$response.body#/id"}),
    },
    ("post_goals_create_goal", "201"): _GOAL_LINKS,
    ("get_goals_get_goal", "200"): _GOAL_LINKS,
    ("patch_goals_patch_goal", "200"): _GOAL_LINKS,
    ("put_goals_put_goal", "200"): _GOAL_LINKS,
    ("post_goals_import_goals", "201"): {
        "GetFirstGoal": ("get_goals_get_goal", {"goal_id": "$response.body#/ids/0"}),
        "GetFirstGoalHistory": (
            "get_history_goal_history",
            {"goal_id": "$response.body#/ids/0"},
        ),
        "DeleteFirstGoal": ("delete_goals_delete_goal", {"goal_id": "$response.body#/ids/0"}),
    },
    ("delete_goals_delete_goal", "204"): {
        "RestoreGoal": ("post_trash_restore", _GOAL_FROM_PATH),
        "PurgeGoal": ("delete_trash_purge", _GOAL_FROM_PATH),
    },
    # The newest event's operation, the newest operation, the operation read, the undo made.
    ("get_history_goal_history", "200"): _operation_links("/items/0/operation_id"),
    ("get_history_list_operations", "200"): _operation_links("/items/0/id"),
    ("get_history_get_operation", "200"): {
        "UndoOperation": ("post_history_undo_operation", {"operation_id": "$response.body#/id"}),
    },
    ("post_history_undo_operation", "200"): {
        **_operation_links("/operation/id"),
        "GetUndoneOperation": (
            "get_history_get_operation",
            {"operation_id": "$response.body#/operation/undoes"},
        ),
    },
    ("get_history_changes", "200"): {
        "NextChanges": ("get_history_changes", {"after": "$response.body#/cursor"}),
        "GetFirstChangeOperation": (
            "get_history_get_operation",
            {"operation_id": "$response.body#/items/0/operation_id"},
        ),
    },
    ("post_users_sign_up", "201"): _USER_LINKS,
    ("post_tokens_create_token", "201"): {
        "RevokeToken": ("delete_tokens_revoke_token", {"token_id": "$response.body#/id"}),
    },
}
# The secret of a calendar feed's URL (calendars.service.SECRET).
_FEED_SECRET_SCHEMA = {"type": "string", "pattern": "^[A-Za-z0-9_-]{20,128}$"}
_USER_REF_SCHEMA = {"anyOf": [_ID_SCHEMA, {"type": "string", "enum": ["self"]}]}


def configure_openapi(app: APIFlask) -> None:
    """Point the docs at bundled assets and post-process the generated document."""
    app.config.update(
        HTTP_ERROR_SCHEMA=PROBLEM_SCHEMA,
        VALIDATION_ERROR_SCHEMA=PROBLEM_SCHEMA,
        SWAGGER_UI_CSS="/docs/assets/swagger-ui.css",
        SWAGGER_UI_BUNDLE_JS="/docs/assets/swagger-ui-bundle.js",
        SWAGGER_UI_STANDALONE_PRESET_JS="/docs/assets/swagger-ui-standalone-preset.js",
        DOCS_FAVICON="/docs/assets/favicon-32x32.png",
        INFO={
            "description": "Goals that nest arbitrarily deep. Errors are RFC 9457 problems.",
            "license": {"name": "MIT", "identifier": "MIT"},
        },
        SECURITY_SCHEMES={
            "BearerAuth": {
                "type": "http",
                "scheme": "bearer",
                "description": "A personal access token",
            },
            "BasicAuth": {
                "type": "http",
                "scheme": "basic",
                "description": "Name or e-mail, and password",
            },
        },
    )

    @app.spec_processor
    def _process(spec: Any) -> Any:
        components = spec.setdefault("components", {})
        components.setdefault("parameters", {})["IdempotencyKey"] = IDEMPOTENCY_KEY
        components.setdefault("headers", {})["IdempotentReplayed"] = IDEMPOTENT_REPLAYED
        for path, operations in spec.get("paths", {}).items():
            for method, operation in operations.items():
                if not isinstance(operation, dict):
                    continue
                # Before the idempotency headers, which every success of a write carries.
                if any(p.get("name") == "dry_run" for p in operation.get("parameters", [])):
                    _document_dry_run(operation)
                if method in IDEMPOTENT_METHODS and _takes_idempotency_key(path, operation):
                    _document_idempotency(operation)
                for param in operation.get("parameters", []):
                    if param.get("in") != "path":
                        continue
                    if param["name"] == "ref":
                        param["schema"] = _USER_REF_SCHEMA
                    elif param["name"] == "secret":
                        param["schema"] = dict(_FEED_SECRET_SCHEMA)
                    elif param["name"].endswith("_id"):
                        param["schema"] = dict(_ID_SCHEMA)
                    param["required"] = True
                if "requestBody" in operation:
                    _document_bodies(operation)
                    # Only token creation may be sent without a body (its options all default).
                    optional = operation.get("operationId") in OPTIONAL_BODIES
                    operation["requestBody"]["required"] = not optional
                    responses = operation.setdefault("responses", {})
                    for status, text in _BODY_ERRORS.items():
                        responses.setdefault(status, {"description": text})
                for status, response in operation.get("responses", {}).items():
                    links = LINKS.get((operation.get("operationId", ""), str(status)), {})
                    if links:
                        response["links"] = {
                            name: {"operationId": target, "parameters": dict(parameters)}
                            for name, (target, parameters) in links.items()
                        }
                    content: dict[str, Any] = response.get("content") or {}
                    if str(status).startswith(("4", "5")):
                        media: dict[str, Any] = next(iter(content.values()), {})
                        schema = media.get("schema")
                        response["content"] = {
                            "application/problem+json": {"schema": schema or PROBLEM_SCHEMA}
                        }
                    elif str(status) in ("204", "304"):
                        response.pop("content", None)
        return spec


def _document_bodies(operation: dict[str, Any]) -> None:
    """Add the media types besides JSON that an operation's view reads (accepts_documents)."""
    operation_id = operation.get("operationId", "")
    for view, media_types in DOCUMENT_BODIES.items():
        if operation_id.endswith(f"_{view}"):
            content = operation["requestBody"].setdefault("content", {})
            for media_type, description in media_types.items():
                content[media_type] = {"schema": {"type": "string", "description": description}}


def _document_dry_run(operation: dict[str, Any]) -> None:
    """A change that takes dry_run may answer 200 with its planned changes, and 409 refusals
    of the completion rules."""
    responses = operation.setdefault("responses", {})
    usual = responses.get("200")
    if usual is None:
        responses["200"] = {
            "description": "dry_run=true: what the change would do; nothing stored",
            "content": {"application/json": {"schema": DRY_RUN_SCHEMA}},
        }
    else:
        media = usual.setdefault("content", {}).setdefault("application/json", {})
        media["schema"] = {"oneOf": [media.get("schema", {}), DRY_RUN_SCHEMA]}
        usual["description"] += "; with dry_run=true, what the change would do"
    if "409" in responses:  # a change that can conflict can also break a rule
        conflict = responses["409"]
        conflict["description"] += ", or a completion rule (rule-conflict, open-descendants)"
        conflict["content"] = {"application/problem+json": {"schema": RULE_PROBLEM_SCHEMA}}


def _takes_idempotency_key(path: str, operation: dict[str, Any]) -> bool:
    """Whether a write accepts Idempotency-Key: under /api/v2 and needing a bearer token."""
    return path.startswith("/api/v2/") and operation.get("security") == [{"BearerAuth": []}]


def _document_idempotency(operation: dict[str, Any]) -> None:
    """Add the Idempotency-Key parameter, its errors, and Idempotent-Replayed on successes."""
    operation.setdefault("parameters", []).append({"$ref": IDEMPOTENCY_KEY_REF})
    responses = operation.setdefault("responses", {})
    for status, text in _IDEMPOTENCY_ERRORS.items():
        response = responses.setdefault(status, {"description": ""})
        described = response.get("description", "")
        response["description"] = (
            f"{described}; or {text}" if described else text[:1].upper() + text[1:]
        )
    for status, response in responses.items():
        if str(status).startswith("2"):
            response.setdefault("headers", {})["Idempotent-Replayed"] = {
                "$ref": "#/components/headers/IdempotentReplayed"
            }
