"""The OpenAPI links the schema fuzzer follows, and the spec details it relies on."""

from __future__ import annotations

import re
from typing import Any

import jsonschema
import pytest

from overachiever.web.openapi import LINKS


@pytest.fixture
def spec(client: Any) -> dict[str, Any]:
    resp = client.get("/api/v2/openapi.json")
    assert resp.status_code == 200
    return resp.get_json()  # type: ignore[no-any-return]


def _operations(spec: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {
        op["operationId"]: op
        for methods in spec["paths"].values()
        for op in methods.values()
        if isinstance(op, dict) and "operationId" in op
    }


def test_every_link_leads_to_an_operation_and_its_parameters(spec):
    operations = _operations(spec)
    seen = 0
    for (source, status), links in LINKS.items():
        assert source in operations, source
        declared = operations[source]["responses"][status]["links"]
        assert set(declared) == set(links)
        for name, link in declared.items():
            target = operations.get(link["operationId"])
            assert target is not None, (source, name)
            names = {p.get("name") for p in target.get("parameters", [])}
            for parameter, expression in link["parameters"].items():
                assert parameter in names, (source, name, parameter)
                assert re.fullmatch(
                    r"\$(response\.body#/[a-z_/0-9]+|request\.path\.[a-z_]+)", expression
                )
            seen += 1
    assert seen >= 25


def test_create_read_update_delete_restore_chain_is_declared(spec):
    operations = _operations(spec)
    created = operations["post_goals_create_goal"]["responses"]["201"]["links"]
    targets = {link["operationId"] for link in created.values()}
    assert {"get_goals_get_goal", "patch_goals_patch_goal", "delete_goals_delete_goal"} <= targets
    deleted = operations["delete_goals_delete_goal"]["responses"]["204"]["links"]
    assert {link["operationId"] for link in deleted.values()} == {
        "post_trash_restore",
        "delete_trash_purge",
    }


def test_goal_history_operation_undo_redo_chain_is_declared(spec):
    operations = _operations(spec)

    def targets(operation_id: str, status: str = "200") -> set[str]:
        links = operations[operation_id]["responses"][status]["links"]
        return {link["operationId"] for link in links.values()}

    for source, status in (
        ("post_goals_create_goal", "201"),
        ("get_goals_get_goal", "200"),
        ("patch_goals_patch_goal", "200"),
        ("put_goals_put_goal", "200"),
        ("post_goals_import_goals", "201"),
    ):
        assert "get_history_goal_history" in targets(source, status), source
    reach_undo = {"get_history_get_operation", "post_history_undo_operation"}
    assert reach_undo <= targets("get_history_goal_history")
    assert reach_undo <= targets("get_history_list_operations")
    assert "post_history_undo_operation" in targets("get_history_get_operation")
    # An undo leads to undoing it (a redo) and to reading it, never back to the goals.
    assert targets("post_history_undo_operation") == reach_undo
    assert "get_history_changes" in targets("get_history_changes")


def _pointer(body: Any, expression: str) -> Any:
    """The value a `$response.body#/a/0/b` link expression names in an answer's body."""
    for part in expression.removeprefix("$response.body#/").split("/"):
        body = body[int(part)] if isinstance(body, list) else body[part]
    return body


def _follow(spec: dict[str, Any], source: str, status: str, name: str, body: Any) -> Any:
    """The parameter value a link of `source`'s answer gives its target."""
    link = _operations(spec)[source]["responses"][status]["links"][name]
    ((parameter, expression),) = link["parameters"].items()
    return link["operationId"], parameter, _pointer(body, expression)


def test_following_the_history_links_undoes_and_redoes(spec, client, alice):
    """create -> history -> undo the newest event's operation -> undo that (a redo) -> read."""
    h = alice.headers
    created = client.post("/api/v2/goals", json={"name": "Linked"}, headers=h)
    assert created.status_code == 201
    target, param, goal_id = _follow(
        spec, "post_goals_create_goal", "201", "GetHistory", created.get_json()
    )
    assert (target, param) == ("get_history_goal_history", "goal_id")
    history = client.get(f"/api/v2/goals/{goal_id}/history", headers=h)
    assert history.status_code == 200
    target, param, op_id = _follow(
        spec, "get_history_goal_history", "200", "UndoOperation", history.get_json()
    )
    assert (target, param) == ("post_history_undo_operation", "operation_id")
    undone = client.post(f"/api/v2/operations/{op_id}/undo", headers=h)
    assert undone.status_code == 200, undone.get_json()
    assert client.get(f"/api/v2/goals/{goal_id}", headers=h).status_code == 404
    _, _, undo_id = _follow(
        spec, "post_history_undo_operation", "200", "UndoOperation", undone.get_json()
    )
    _, _, undone_id = _follow(
        spec, "post_history_undo_operation", "200", "GetUndoneOperation", undone.get_json()
    )
    assert undone_id == op_id
    redone = client.post(f"/api/v2/operations/{undo_id}/undo", headers=h)
    assert redone.status_code == 200, redone.get_json()
    assert client.get(f"/api/v2/goals/{goal_id}", headers=h).status_code == 200
    read = client.get(f"/api/v2/operations/{undone_id}", headers=h)
    assert read.get_json()["undone_by"] == undo_id
    listed = client.get("/api/v2/operations", headers=h).get_json()
    _, _, newest = _follow(spec, "get_history_list_operations", "200", "GetOperation", listed)
    assert newest == redone.get_json()["operation"]["id"]


def test_following_the_changes_cursor_link_pages_on(spec, client, alice):
    for name in ("one", "two", "three"):
        client.post("/api/v2/goals", json={"name": name}, headers=alice.headers)
    page = client.get("/api/v2/changes?limit=2", headers=alice.headers).get_json()
    assert page["more"] is True
    target, param, after = _follow(spec, "get_history_changes", "200", "NextChanges", page)
    assert (target, param) == ("get_history_changes", "after")
    rest = client.get("/api/v2/changes", query_string={"after": after}, headers=alice.headers)
    assert rest.status_code == 200
    assert [e["name"] for e in rest.get_json()["items"]] == ["three"]


def _problem_schema(spec: dict[str, Any], operation: dict[str, Any], status: str) -> Any:
    schema = operation["responses"][status]["content"]["application/problem+json"]["schema"]
    while "$ref" in schema:
        schema = spec["components"]["schemas"][schema["$ref"].rsplit("/", 1)[1]]
    return schema


def test_history_operations_document_their_refusals(spec):
    operations = _operations(spec)
    expected = {
        "get_history_goal_history": {"401", "404", "422"},
        "get_history_list_operations": {"401", "422"},
        "get_history_get_operation": {"401", "404"},
        "post_history_undo_operation": {"401", "404", "409", "422"},
        "get_history_changes": {"401", "422"},
        # as_of: a goal that did not exist then is a 404, an instant to come a 422.
        "get_goals_forest": {"401", "422"},
        "get_goals_get_goal": {"401", "404", "422"},
        "get_goals_goal_tree": {"401", "404", "422"},
    }
    for operation_id, statuses in expected.items():
        assert statuses <= set(operations[operation_id]["responses"]), operation_id
    undo = operations["post_history_undo_operation"]["responses"]["409"]
    for slug in ("undo-conflict", "not-undoable", "already-undone", "name-conflict", "cycle"):
        assert slug in undo["description"], slug
    assert "cursor" in operations["get_history_changes"]["responses"]["422"]["description"]
    for operation_id in ("get_goals_forest", "get_goals_get_goal", "get_goals_goal_tree"):
        assert "as_of" in operations[operation_id]["responses"]["422"]["description"]


def test_undo_refusals_match_their_documented_schema(spec, client, alice):
    h = alice.headers
    undo = _operations(spec)["post_history_undo_operation"]
    schema = _problem_schema(spec, undo, "409")
    assert {"conflicts", "undone_by"} <= set(schema["properties"])
    goal = client.post("/api/v2/goals", json={"name": "Before"}, headers=h).get_json()
    client.patch(f"/api/v2/goals/{goal['id']}", json={"name": "After"}, headers=h)
    ops = client.get("/api/v2/operations", headers=h).get_json()["items"]
    rename, create = ops[0]["id"], ops[1]["id"]
    # The create is blocked by the later rename; the rename, once undone, cannot be again.
    blocked = client.post(f"/api/v2/operations/{create}/undo", headers=h)
    assert blocked.status_code == 409
    assert blocked.mimetype == "application/problem+json"
    jsonschema.validate(blocked.get_json(), schema)
    assert blocked.get_json()["type"].endswith(":undo-conflict")
    assert blocked.get_json()["conflicts"] == [rename]
    assert client.post(f"/api/v2/operations/{rename}/undo", headers=h).status_code == 200
    again = client.post(f"/api/v2/operations/{rename}/undo", headers=h)
    assert again.status_code == 409
    jsonschema.validate(again.get_json(), schema)
    assert again.get_json()["type"].endswith(":already-undone")
    assert isinstance(again.get_json()["undone_by"], int)


def test_bodies_are_required_except_for_token_and_feed_options(spec):
    optional = {"post_tokens_create_token", "post_calendars_create_feed"}
    for op_id, op in _operations(spec).items():
        if "requestBody" in op:
            assert op["requestBody"]["required"] is (op_id not in optional), op_id


def test_text_patterns_say_what_the_validators_accept(spec, client, alice):
    """A name the spec's pattern accepts is accepted; one it refuses is refused."""
    pattern = spec["components"]["schemas"]["GoalCreate"]["properties"]["name"]["pattern"]
    samples = {
        "plain": True,
        "  padded  ": True,
        "\t tabbed \n": True,
        "a" * 200: True,
        "  " + "b" * 200 + "  ": True,
        "a" * 201: False,
        "": False,
        "   ": False,
        "bell\x07": False,
        "next\x85line": False,
        "mid\tdle": False,
        "\u202eevil": False,
        "zero\u200bwidth": False,
        "\U0001f469\u200d\U0001f4bb": True,
    }
    for name, ok in samples.items():
        assert bool(re.search(pattern, name)) is ok, repr(name)
        resp = client.post("/api/v2/goals", json={"name": name}, headers=alice.headers)
        assert (resp.status_code == 201) is ok, (repr(name), resp.get_json())
