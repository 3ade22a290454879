"""The /api/v2/goals and /api/v2/trash endpoints: validate, call one service function, return."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import timedelta
from typing import Any

from apiflask import APIBlueprint
from flask import Response, current_app, request, url_for

from ..exchange import deepjson
from ..exchange.importers import (
    DOCUMENT_DESCRIPTIONS,
    DOCUMENT_TYPES,
    parse_document,
    parse_json,
)
from ..history import asof
from ..history.recording import dry_run
from ..web.auth import current_user, token_auth
from ..web.bodies import documented_body
from ..web.jsonio import dumps, no_content
from ..web.limits import caller_account, import_limit, limiter, max_goals
from ..web.paging import link_header
from ..web.requests import accepts_documents
from . import service, trash
from .importing import import_trees
from .results import GoalResult
from .rules import EtagCheck
from .schemas import (
    AsOfQuery,
    DryRunQuery,
    DryRunResult,
    Forest,
    GoalCreate,
    GoalListQuery,
    GoalOut,
    GoalPage,
    GoalPatch,
    GoalPut,
    ImportBody,
    ImportQuery,
    ImportResult,
    Subtree,
    TrashList,
    TreeQuery,
)
from .tree import flat_json, nested_json

bp = APIBlueprint("goals", __name__, url_prefix="/api/v2/goals", tag="Goals")
trash_bp = APIBlueprint("trash", __name__, url_prefix="/api/v2/trash", tag="Trash")

_CONFLICTS = {
    403: "Shared with you read-only, or a move across the share's boundary",
    404: "No such goal of yours or shared with you (or parent)",
    409: "Name taken among siblings, a cycle, or the account's goal limit",
}
_PRECONDITION = {412: "If-Match named a stale ETag"}
_AS_OF_NOT_FOUND = (
    "No such goal of yours or shared with you (with as_of: it did not exist or was in the trash "
    "then)"
)
_AS_OF_INVALID = "Validation error, or an as_of in the future"


def _if_match() -> EtagCheck:
    """A checker for the If-Match header, or None when the request has none."""
    if "If-Match" not in request.headers:
        return None
    return request.if_match.contains


def _retention() -> timedelta:
    """How long trashed goals are kept, as the server is configured."""
    return timedelta(days=int(current_app.config["TRASH_RETENTION_DAYS"]))


def _goal_response(
    result: GoalResult, status: int = 200, **headers: str
) -> tuple[dict[str, Any], int, dict[str, str]]:
    return result.as_dict(), status, {"ETag": f'"{result.etag}"', **headers}


def _stream(parts: Iterator[bytes]) -> Response:
    return Response(parts, mimetype="application/json")


def _dry_run_answer(change: Callable[[], object]) -> Response:
    """Run a change as a dry run: 200 with every field it would change, nothing stored."""
    planned = DryRunResult.model_validate({"dry_run": True, "changes": dry_run(change)})
    return Response(dumps(planned.model_dump(mode="json")), mimetype="application/json")


@bp.get("")
@bp.auth_required(token_auth)
@bp.input(GoalListQuery, location="query", arg_name="query")
@bp.output(GoalPage)
@bp.doc(summary="List goals", responses={404: "The parent is not one of your goals"})
def list_goals(query: GoalListQuery) -> tuple[dict[str, Any], int, dict[str, str]]:
    """Your live goals, flat and paged, with filters and sorting."""
    results, total = service.list_goals(owner=current_user(), query=query)
    page = {
        "items": [r.as_dict() for r in results],
        "total": total,
        "offset": query.offset,
        "limit": query.limit,
    }
    return page, 200, link_header("goals.list_goals", query, total)


@bp.post("")
@bp.auth_required(token_auth)
@bp.input(DryRunQuery, location="query", arg_name="query")
@bp.input(GoalCreate, arg_name="body")
@bp.output(GoalOut, status_code=201, description="The new goal")
@bp.doc(summary="Create a goal", responses=_CONFLICTS)
def create_goal(query: DryRunQuery, body: GoalCreate) -> Any:
    """Create a goal, at the top level or under a goal of yours or one you edit."""
    owner = current_user()
    if query.dry:
        return _dry_run_answer(
            lambda: service.create_goal(caller=owner, goal_in=body, max_goals=max_goals())
        )
    result = service.create_goal(caller=owner, goal_in=body, max_goals=max_goals())
    return _goal_response(result, 201, Location=url_for("goals.get_goal", goal_id=result.goal.id))


@bp.post("/import")
@accepts_documents(DOCUMENT_DESCRIPTIONS)
@bp.auth_required(token_auth)
@limiter.limit(import_limit, key_func=caller_account, scope="import")
@bp.input(ImportQuery, location="query", arg_name="query")
@documented_body(bp, ImportBody)
@bp.output(ImportResult, status_code=201, description="Ids of the new goals, in pre-order")
@bp.doc(
    summary="Import nested trees",
    responses={**_CONFLICTS, 429: "Too many imports (OVERACHIEVER_IMPORT_LIMIT)"},
)
def import_goals(query: ImportQuery) -> Any:
    """Create whole nested trees atomically: a node, or a list of nodes, with children; or a
    document: the JSON export, a Markdown task list, OPML or CSV, by Content-Type."""
    if request.mimetype in DOCUMENT_TYPES:
        nodes = parse_document(request.mimetype, request.get_data(cache=False))
    else:
        nodes = parse_json(deepjson.loads(request.get_data(cache=False)))
    owner = current_user()

    def run() -> list[int]:
        return import_trees(
            caller=owner, nodes=nodes, parent_id=query.parent_id, max_goals=max_goals()
        )

    if query.dry:
        return _dry_run_answer(run)
    ids = run()
    return {"ids": ids}, 201


@bp.get("/tree")
@bp.auth_required(token_auth)
@bp.input(TreeQuery, location="query", arg_name="query")
@bp.output(Forest, description="Nested nodes, or a pre-order list with format=flat")
@bp.doc(summary="Read your whole forest", responses={422: _AS_OF_INVALID})
def forest(query: TreeQuery) -> Response:
    """Your whole live forest with progress roll-ups, nested or flat; as it was at as_of."""
    if query.as_of is not None:
        tree = asof.forest_as_of(owner=current_user(), at=query.as_of)
    else:
        tree = service.forest(owner=current_user())
    if query.format == "flat":
        return _stream(flat_json(tree, status=query.status, max_depth=query.depth))
    return _stream(nested_json(tree, status=query.status, max_depth=query.depth))


@bp.get("/<id:goal_id>")
@bp.auth_required(token_auth)
@bp.input(AsOfQuery, location="query", arg_name="query")
@bp.output(GoalOut)
@bp.doc(
    summary="Read a goal",
    responses={
        304: "Not modified (If-None-Match)",
        404: _AS_OF_NOT_FOUND,
        422: _AS_OF_INVALID,
    },
)
def get_goal(goal_id: int, query: AsOfQuery) -> Any:
    """One goal with its roll-ups; honours If-None-Match; as it was at as_of."""
    if query.as_of is not None:
        # A past state has no ETag: it is not something a write could be conditional on.
        return asof.goal_as_of(caller=current_user(), goal_id=goal_id, at=query.as_of).as_dict()
    result = service.get_goal(caller=current_user(), goal_id=goal_id)
    etag = result.etag
    if request.if_none_match.contains_weak(etag):
        return Response(status=304, headers={"ETag": f'"{etag}"'})
    return _goal_response(result)


@bp.get("/<id:goal_id>/tree")
@bp.auth_required(token_auth)
@bp.input(TreeQuery, location="query", arg_name="query")
@bp.output(Subtree, description="The goal as a nested node, or {items} with format=flat")
@bp.doc(summary="Read a subtree", responses={404: _AS_OF_NOT_FOUND, 422: _AS_OF_INVALID})
def goal_tree(goal_id: int, query: TreeQuery) -> Response:
    """The subtree rooted at one goal, nested or flat; as it was at as_of."""
    if query.as_of is not None:
        tree = asof.subtree_as_of(caller=current_user(), goal_id=goal_id, at=query.as_of)
    else:
        tree = service.subtree(caller=current_user(), goal_id=goal_id)
    if query.format == "flat":
        return _stream(flat_json(tree, status=query.status, max_depth=query.depth, pin_roots=True))
    return _stream(nested_json(tree, status=query.status, max_depth=query.depth, wrap=False))


def _update(goal_id: int, query: DryRunQuery, body: GoalPatch | GoalPut) -> Any:
    owner, if_match = current_user(), _if_match()

    def run() -> GoalResult:
        return service.update_goal(caller=owner, goal_id=goal_id, changes=body, if_match=if_match)

    if query.dry:
        return _dry_run_answer(run)
    return _goal_response(run())


@bp.patch("/<id:goal_id>")
@bp.auth_required(token_auth)
@bp.input(DryRunQuery, location="query", arg_name="query")
@bp.input(GoalPatch, arg_name="body")
@bp.output(GoalOut)
@bp.doc(summary="Change or move a goal", responses={**_CONFLICTS, **_PRECONDITION})
def patch_goal(goal_id: int, query: DryRunQuery, body: GoalPatch) -> Any:
    """Change some fields: parent_id moves, end completes (null reopens); honours If-Match."""
    return _update(goal_id, query, body)


@bp.put("/<id:goal_id>")
@bp.auth_required(token_auth)
@bp.input(DryRunQuery, location="query", arg_name="query")
@bp.input(GoalPut, arg_name="body")
@bp.output(GoalOut)
@bp.doc(summary="Replace a goal", responses={**_CONFLICTS, **_PRECONDITION})
def put_goal(goal_id: int, query: DryRunQuery, body: GoalPut) -> Any:
    """Replace every writable field; honours If-Match."""
    return _update(goal_id, query, body)


@bp.delete("/<id:goal_id>")
@bp.auth_required(token_auth)
@bp.input(DryRunQuery, location="query", arg_name="query")
@bp.output({}, status_code=204)
@bp.doc(
    summary="Move a goal to the trash",
    responses={
        403: "Shared with you read-only, or the shared goal itself",
        404: "No such goal of yours or shared with you",
        **_PRECONDITION,
    },
)
def delete_goal(goal_id: int, query: DryRunQuery) -> Response:
    """Move a goal and its subtree to the trash; honours If-Match."""
    owner, if_match, retention = current_user(), _if_match(), _retention()

    def run() -> None:
        service.trash_goal(caller=owner, goal_id=goal_id, retention=retention, if_match=if_match)

    if query.dry:
        return _dry_run_answer(run)
    run()
    return no_content()


@trash_bp.get("")
@trash_bp.auth_required(token_auth)
@trash_bp.output(TrashList)
@trash_bp.doc(summary="List the trash")
def list_trash() -> dict[str, Any]:
    """Your trashed subtrees, by their root goal's id, until they are purged."""
    return {"items": trash.list_trash(owner=current_user(), retention=_retention())}


@trash_bp.post("/<id:goal_id>/restore")
@trash_bp.auth_required(token_auth)
@trash_bp.output(GoalOut, description="The restored goal")
@trash_bp.doc(
    summary="Restore from the trash", responses={404: "Not in your trash", 409: "Name taken"}
)
def restore(goal_id: int) -> tuple[dict[str, Any], int, dict[str, str]]:
    """Put a trashed subtree back with the same ids (at the top level if its parent is gone)."""
    result = trash.restore(owner=current_user(), goal_id=goal_id, retention=_retention())
    return _goal_response(result)


@trash_bp.delete("/<id:goal_id>")
@trash_bp.auth_required(token_auth)
@trash_bp.output({}, status_code=204)
@trash_bp.doc(summary="Purge from the trash", responses={404: "Not in your trash"})
def purge(goal_id: int) -> Response:
    """Delete a trashed subtree for good."""
    trash.purge(owner=current_user(), goal_id=goal_id)
    return no_content()
