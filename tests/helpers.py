"""Helpers shared by test modules."""

from __future__ import annotations

import json
import sys
import threading
from collections.abc import Iterable
from typing import Any

from overachiever.goals.importing import ImportedNode, import_trees
from overachiever.goals.schemas import ImportFields
from overachiever.users.models import User


def parse_deep(raw: bytes) -> Any:
    """json.loads a document nested thousands of levels deep.

    The standard parser recurses, so it runs in a thread with a large stack and a raised
    recursion limit; an error in that thread is raised again here.
    """
    result: dict[str, Any] = {}

    def work() -> None:
        old = sys.getrecursionlimit()
        sys.setrecursionlimit(200_000)
        try:
            result["value"] = json.loads(raw)
        except BaseException as exc:
            result["error"] = exc
        finally:
            sys.setrecursionlimit(old)

    old_size = threading.stack_size(512 * 1024 * 1024)
    try:
        thread = threading.Thread(target=work)
        thread.start()
        thread.join()
    finally:
        threading.stack_size(old_size)
    if "error" in result:
        raise result["error"]
    return result["value"]


PROBLEM_JSON = "application/problem+json"

# Every writable field of a goal: the body of a PUT.
FULL_GOAL: dict[str, Any] = {
    "name": "replaced",
    "description": "",
    "parent_id": None,
    "start": "2024-01-01T00:00:00Z",
    "end": None,
    "due": None,
}


def assert_problem(resp: Any, status: int) -> dict[str, Any]:
    """The response is an RFC 9457 problem with this status; returns its body."""
    assert resp.status_code == status, (resp.status_code, resp.get_data(as_text=True)[:500])
    assert resp.mimetype == PROBLEM_JSON, resp.mimetype
    body = resp.get_json(force=True)
    assert isinstance(body, dict)
    for key in ("type", "title", "status", "detail"):
        assert key in body, body
    assert body["status"] == status
    assert isinstance(body["title"], str)
    assert body["title"]
    assert isinstance(body["detail"], str)
    assert body["detail"]
    return body


def assert_directory_failure(resp: Any, status: int) -> dict[str, Any]:
    """The response is the user directory's FAILURE acknowledgement with this status."""
    assert resp.status_code == status, (resp.status_code, resp.get_data(as_text=True)[:500])
    assert resp.mimetype == "application/json"
    body = resp.get_json()
    assert body["code"] == 1
    assert body["message"] == "FAILURE"
    assert isinstance(body["detail"], str)
    assert body["detail"]
    return body  # type: ignore[no-any-return]


def bulk_create_chain(owner: User, names: Iterable[str]) -> list[int]:
    """Create a chain of goals, each under the previous one, in one import; returns their ids."""
    nodes = [
        ImportedNode(ImportFields(name=n), i - 1 if i else None, 0) for i, n in enumerate(names)
    ]
    return import_trees(owner=owner, nodes=nodes, parent_id=None)
