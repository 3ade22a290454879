"""The OpenAPI links the schema fuzzer follows, and the spec details it relies on."""

from __future__ import annotations

import re
from typing import Any

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
    assert seen >= 15


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


def test_bodies_are_required_except_for_token_options(spec):
    for op_id, op in _operations(spec).items():
        if "requestBody" in op:
            assert op["requestBody"]["required"] is (op_id != "post_tokens_create_token"), op_id


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
