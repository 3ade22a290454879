"""The history endpoints: a goal's events, operations, undo, the changes feed."""

from __future__ import annotations

from typing import Any

from apiflask import APIBlueprint

from ..web.auth import current_user, token_auth
from ..web.openapi import UNDO_PROBLEM_SCHEMA
from ..web.paging import link_header
from ..web.problems import PROBLEM_JSON
from . import service, undo
from .schemas import (
    Changes,
    EventPage,
    FeedQuery,
    OperationOut,
    OperationPage,
    PageQuery,
    UndoResult,
)

bp = APIBlueprint("history", __name__, url_prefix="/api/v2", tag="History")

# A description for the 404, a description and the refusal's own schema for the 409.
_UNDO_RESPONSES: Any = {
    404: "No such operation of yours",
    409: {
        "description": "Later operations changed the same goals (undo-conflict, with"
        " conflicts), a purge or baseline (not-undoable), already undone (already-undone,"
        " with undone_by), a name taken among siblings (name-conflict), or a goal put back"
        " under itself (cycle)",
        "content": {PROBLEM_JSON: {"schema": UNDO_PROBLEM_SCHEMA}},
    },
}


@bp.get("/goals/<id:goal_id>/history")
@bp.auth_required(token_auth)
@bp.input(PageQuery, location="query", arg_name="query")
@bp.output(EventPage)
@bp.doc(summary="A goal's history", responses={404: "No such goal of yours (live or trashed)"})
def goal_history(goal_id: int, query: PageQuery) -> tuple[dict[str, Any], int, dict[str, str]]:
    """The events of one of your goals, newest first (also for a trashed goal)."""
    items, total = service.goal_history(
        caller=current_user(), goal_id=goal_id, offset=query.offset, limit=query.limit
    )
    page = {"items": items, "total": total, "offset": query.offset, "limit": query.limit}
    return page, 200, link_header("history.goal_history", query, total, goal_id=goal_id)


@bp.get("/operations")
@bp.auth_required(token_auth)
@bp.input(PageQuery, location="query", arg_name="query")
@bp.output(OperationPage)
@bp.doc(summary="List operations")
def list_operations(query: PageQuery) -> tuple[dict[str, Any], int, dict[str, str]]:
    """Your operations (each request or command that changed goals), newest first."""
    items, total = service.list_operations(
        owner=current_user(), offset=query.offset, limit=query.limit
    )
    page = {"items": items, "total": total, "offset": query.offset, "limit": query.limit}
    return page, 200, link_header("history.list_operations", query, total)


@bp.get("/operations/<id:operation_id>")
@bp.auth_required(token_auth)
@bp.output(OperationOut)
@bp.doc(summary="Read an operation", responses={404: "No such operation of yours"})
def get_operation(operation_id: int) -> dict[str, Any]:
    """One of your operations."""
    return service.get_operation(owner=current_user(), operation_id=operation_id)


@bp.post("/operations/<id:operation_id>/undo")
@bp.auth_required(token_auth)
@bp.output(UndoResult, description="The undo operation (undo it to redo)")
@bp.doc(summary="Undo an operation", responses=_UNDO_RESPONSES)
def undo_operation(operation_id: int) -> dict[str, Any]:
    """Put back every goal the operation touched as it was before; an undo of an undo redoes."""
    return {"operation": undo.undo(owner=current_user(), operation_id=operation_id)}


@bp.get("/changes")
@bp.auth_required(token_auth)
@bp.input(FeedQuery, location="query", arg_name="query")
@bp.output(Changes)
@bp.doc(
    summary="The changes feed",
    responses={422: "Validation error, or a cursor this server did not give you"},
)
def changes(query: FeedQuery) -> dict[str, Any]:
    """Your events after a cursor, oldest first: poll with the cursor each answer gives."""
    return service.feed(owner=current_user(), after=query.after, limit=query.limit)
