"""The Postman collection generator: v2.1 structure, full coverage, and a run of the collection
through the test client against the demo data (what CI's newman run does on a live server)."""

from __future__ import annotations

import copy
import json
import re
from datetime import UTC, datetime, timedelta
from typing import Any

import jsonschema
import pytest

from overachiever import demo
from overachiever.contrib import postman
from overachiever.core.db import db
from overachiever.tokens import service as token_service
from tests.support.accounts import basic

# The parts of Postman's published v2.1.0 collection schema that this generator uses (no pip
# package ships that schema, so its rules for these objects are restated here).
_KV = {
    "type": "object",
    "required": ["key"],
    "properties": {"key": {"type": "string"}, "value": {"type": "string"}},
}
_AUTH = {
    "type": "object",
    "required": ["type"],
    "properties": {
        "type": {
            "enum": [
                "apikey",
                "awsv4",
                "basic",
                "bearer",
                "digest",
                "edgegrid",
                "hawk",
                "noauth",
                "oauth1",
                "oauth2",
                "ntlm",
            ]
        },
        "basic": {"type": "array", "items": _KV},
        "bearer": {"type": "array", "items": _KV},
    },
}
_EVENT = {
    "type": "object",
    "required": ["listen"],
    "properties": {
        "listen": {"enum": ["test", "prerequest"]},
        "script": {
            "type": "object",
            "properties": {
                "type": {"const": "text/javascript"},
                "exec": {"type": "array", "items": {"type": "string"}},
            },
        },
    },
}
_REQUEST = {
    "type": "object",
    "required": ["method", "url"],
    "properties": {
        "method": {"enum": ["GET", "PUT", "POST", "PATCH", "DELETE", "HEAD", "OPTIONS"]},
        "header": {"type": "array", "items": _KV},
        "auth": _AUTH,
        "description": {"type": "string"},
        "url": {
            "type": "object",
            "required": ["raw"],
            "properties": {
                "raw": {"type": "string"},
                "host": {"type": "array", "items": {"type": "string"}},
                "path": {"type": "array", "items": {"type": "string"}},
                "query": {
                    "type": "array",
                    "items": {
                        **_KV,
                        "properties": {**_KV["properties"], "disabled": {"type": "boolean"}},
                    },
                },
            },
        },
        "body": {
            "type": "object",
            "required": ["mode"],
            "properties": {
                "mode": {"enum": ["raw", "urlencoded", "formdata", "file", "graphql"]},
                "raw": {"type": "string"},
                "urlencoded": {"type": "array", "items": _KV},
            },
        },
    },
}
COLLECTION_SCHEMA = {
    "type": "object",
    "required": ["info", "item"],
    "properties": {
        "info": {
            "type": "object",
            "required": ["name", "schema"],
            "properties": {
                "name": {"type": "string"},
                "_postman_id": {"type": "string"},
                "schema": {"const": postman.SCHEMA_URL},
            },
        },
        "auth": _AUTH,
        "event": {"type": "array", "items": _EVENT},
        "variable": {
            "type": "array",
            "items": {
                "type": "object",
                "required": ["key"],
                "properties": {
                    "key": {"type": "string"},
                    "value": {},
                    "type": {"enum": ["string", "boolean", "any", "number"]},
                },
            },
        },
        "item": {"type": "array", "items": {"$ref": "#/$defs/entry"}},
    },
    "$defs": {
        "entry": {
            "oneOf": [
                {
                    "type": "object",
                    "required": ["name", "request"],
                    "not": {"required": ["item"]},
                    "properties": {
                        "name": {"type": "string"},
                        "request": _REQUEST,
                        "event": {"type": "array", "items": _EVENT},
                    },
                },
                {
                    "type": "object",
                    "required": ["name", "item"],
                    "properties": {"item": {"type": "array", "items": {"$ref": "#/$defs/entry"}}},
                },
            ]
        }
    },
}


@pytest.fixture
def spec(app):
    return copy.deepcopy(app.spec)


@pytest.fixture
def collection(spec):
    # Through the JSON text, as the CLI writes it.
    return json.loads(postman.dumps(postman.build_collection(spec)))


def _requests(collection: dict[str, Any]) -> list[dict[str, Any]]:
    found = []
    stack = list(reversed(collection["item"]))
    while stack:
        entry = stack.pop()
        if "item" in entry:
            stack.extend(reversed(entry["item"]))
        else:
            found.append(entry)
    return found


def _status(item: dict[str, Any]) -> int:
    (test,) = [e for e in item["event"] if e["listen"] == "test"]
    (status,) = re.findall(
        r"pm\.response\.to\.have\.status\((\d+)\)", "\n".join(test["script"]["exec"])
    )
    return int(status)


# ---------------------------------------------------------------------------- structure


def test_the_collection_is_postman_v2_1(collection):
    jsonschema.validate(collection, COLLECTION_SCHEMA)
    assert collection["info"]["schema"].endswith("/v2.1.0/collection.json")
    variables = {v["key"]: v["value"] for v in collection["variable"]}
    assert variables["baseUrl"] == "http://127.0.0.1:5000"
    assert variables["token"] == ""
    assert collection["auth"] == {
        "type": "bearer",
        "bearer": [{"key": "token", "value": "{{token}}", "type": "string"}],
    }


def test_every_request_checks_its_status_and_uses_the_variables(collection):
    requests = _requests(collection)
    assert len(requests) >= 40
    declared = {v["key"] for v in collection["variable"]}
    for item in requests:
        request = item["request"]
        assert 100 <= _status(item) <= 599, item["name"]
        url = request["url"]
        assert url["raw"].startswith("{{baseUrl}}/"), url
        assert url["host"] == ["{{baseUrl}}"]
        assert url["raw"].split("?")[0] == "{{baseUrl}}/" + "/".join(url["path"])
        # Every placeholder is a declared variable; no OpenAPI {param} is left.
        text = json.dumps(request)
        assert set(re.findall(r"\{\{(\w+)\}\}", text)) <= declared, item["name"]
        assert not re.search(r"(?<!\{)\{[a-z_]+\}(?!\})", url["raw"]), url["raw"]
        if request.get("body", {}).get("mode") == "raw":
            raw = re.sub(r"\{\{\w+\}\}", "1", request["body"]["raw"])
            json.loads(raw)  # valid JSON once the variables are filled in
            assert {"key": "Content-Type", "value": "application/json"} in request["header"]


def test_every_operation_of_the_openapi_document_is_requested(collection, spec):
    requested = set()
    for item in _requests(collection):
        path = "/" + "/".join(item["request"]["url"]["path"])
        requested.add((item["request"]["method"], path))
    for method, path, operation in postman.operations(spec):
        pattern = re.sub(r"\\\{\w+\\\}", r"[^/]+", re.escape(path))
        assert any(m == method and re.fullmatch(pattern, p) for m, p in requested), (
            f"{method} {path} ({operation['operationId']}) has no request"
        )


def test_every_legacy_route_is_requested(app, collection):
    requested = {
        (i["request"]["method"], "/" + "/".join(i["request"]["url"]["path"]))
        for i in _requests(collection)
    }
    for rule in app.url_map.iter_rules():
        if not rule.endpoint.startswith(("legacy_v1.", "legacy_directory.")):
            continue
        # "/api/user/" is the same route as "/api/user" to clients.
        pattern = re.sub(r"<[^>]+>", r"[^/]+", rule.rule.rstrip("/"))
        for method in rule.methods - {"OPTIONS", "HEAD"}:
            assert any(m == method and re.fullmatch(pattern, p) for m, p in requested), (
                method,
                rule.rule,
            )
    assert ("HEAD", "/api/user/{{dir_id}}") in requested


def test_documented_query_parameters_are_listed_switched_off(collection):
    (listing,) = [i for i in _requests(collection) if i["name"] == "List goals"]
    query = {q["key"]: q for q in listing["request"]["url"]["query"]}
    assert query["parent"]["value"] == "{{goal_id}}"
    assert "disabled" not in query["parent"]
    assert query["limit"]["disabled"] is True
    assert "limit=" not in listing["request"]["url"]["raw"]


def test_writes_list_an_idempotency_key_switched_off_that_is_fresh_per_send(collection):
    items = {i["name"]: i["request"] for i in _requests(collection)}
    (key,) = [h for h in items["Create a goal"]["header"] if h["key"] == "Idempotency-Key"]
    assert key["value"] == "{{$guid}}"
    assert key["disabled"] is True
    assert "24 hours" in key["description"]
    # Reads and token creation (HTTP Basic) take none.
    for name in ("List goals", "Create a token"):
        assert all(h["key"] != "Idempotency-Key" for h in items[name]["header"]), name


def test_an_undocumented_operation_without_a_request_is_an_error(spec):
    spec["paths"]["/api/v2/new-thing"] = {
        "get": {"operationId": "get_new_thing", "summary": "New", "responses": {"200": {}}}
    }
    with pytest.raises(ValueError, match="GET /api/v2/new-thing"):
        postman.build_collection(spec)


def test_a_request_for_an_operation_that_is_gone_is_an_error(spec):
    del spec["paths"]["/api/v2/trash"]
    with pytest.raises(ValueError, match="GET /api/v2/trash is not in the OpenAPI document"):
        postman.build_collection(spec)


def test_ids_are_put_in_json_bodies_unquoted():
    text = postman._json_text({"name": "x", "parent_id": postman.Raw("goal_id"), "n": None})
    assert '"parent_id": {{goal_id}}' in text
    assert json.loads(text.replace("{{goal_id}}", "7")) == {"name": "x", "parent_id": 7, "n": None}


def test_the_cli_writes_the_collection(app, tmp_path):
    out = tmp_path / "collection.json"
    runner = app.test_cli_runner()
    from overachiever.cli import postman as command

    result = runner.invoke(command, ["-o", str(out), "--base-url", "http://127.0.0.1:8123"])
    assert result.exit_code == 0, result.output
    written = json.loads(out.read_text())
    jsonschema.validate(written, COLLECTION_SCHEMA)
    assert {v["key"]: v["value"] for v in written["variable"]}["baseUrl"] == "http://127.0.0.1:8123"


# ---------------------------------------------------------------------------- a run


class _Runner:
    """Runs the collection's requests through the Flask test client, as newman would: the
    variables, the status each test expects, and the ids each test stores."""

    def __init__(self, client: Any, variables: dict[str, str]) -> None:
        self.client = client
        self.vars = variables

    def fill(self, text: str) -> str:
        return re.sub(r"\{\{(\w+)\}\}", lambda m: str(self.vars[m.group(1)]), text)

    def run(self, item: dict[str, Any]) -> tuple[int, int, Any]:
        request = item["request"]
        headers = {
            h["key"]: self.fill(h["value"]) for h in request["header"] if not h.get("disabled")
        }
        auth = request.get("auth") or {"type": "bearer", "bearer": [{"value": "{{token}}"}]}
        if auth["type"] == "bearer":
            headers["Authorization"] = "Bearer " + self.fill(auth["bearer"][0]["value"])
        elif auth["type"] == "basic":
            fields = {a["key"]: self.fill(a["value"]) for a in auth["basic"]}
            headers.update(basic(fields["username"], fields["password"]))
        kwargs: dict[str, Any] = {}
        body = request.get("body")
        if body and body["mode"] == "raw":
            kwargs["data"] = self.fill(body["raw"])
        elif body and body["mode"] == "urlencoded":
            kwargs["data"] = {f["key"]: self.fill(f["value"]) for f in body["urlencoded"]}
        url = self.fill(request["url"]["raw"]).removeprefix("{{baseUrl}}")
        url = url.removeprefix(self.vars["baseUrl"])
        resp = self.client.open(url, method=request["method"], headers=headers, **kwargs)
        data = resp.get_json(silent=True, force=True)
        (test,) = [e for e in item["event"] if e["listen"] == "test"]
        for var, path, start, end in re.findall(
            r'pm\.collectionVariables\.set\("(\w+)", body((?:\.\w+|\[\d+\])+?)'
            r"(?:\.slice\((-?\d+), (-?\d+)\))?\)",
            "\n".join(test["script"]["exec"]),
        ):
            value = data
            for key, index in re.findall(r"\.(\w+)|\[(\d+)\]", path):
                value = value[int(index)] if index else value[key]
            if start:  # a string's slice, as JavaScript's String.slice takes it
                value = value[int(start) : int(end)]
            self.vars[var] = value
        return resp.status_code, _status(item), data


def _run(app: Any, collection: dict[str, Any]) -> list[tuple[str, int, int, Any]]:
    """(name, status got, status wanted, body) of every request, run in order on demo data."""
    with app.app_context():
        user_1 = demo.load_article()
        _, token = token_service.issue(user_1, "demo")
        db.session.remove()
    now = datetime.now(UTC)
    variables = {v["key"]: v["value"] for v in collection["variable"]}
    variables.update(
        token=token,
        run="pytest",
        later=(now + timedelta(hours=1)).isoformat(),
        earlier=(now - timedelta(days=1)).isoformat(),
        recently=(now - timedelta(minutes=1)).isoformat(),
    )
    runner = _Runner(app.test_client(), variables)
    return [(item["name"], *runner.run(item)) for item in _requests(collection)]


def test_the_whole_collection_passes_against_the_demo_data(app, collection):
    outcomes = _run(app, collection)
    failed = [(name, got, want, body) for name, got, want, body in outcomes if got != want]
    assert failed == []
    # It ran every kind of answer: successes and the documented refusals.
    assert {want for _, _, want, _ in outcomes} >= {200, 201, 204, 400, 401, 404, 409, 422}


def test_the_history_requests_see_what_their_checks_expect(app, collection):
    """What newman's checks assert in the history folder, checked here on the same answers."""
    bodies = {name: body for name, _, _, body in _run(app, collection)}
    assert bodies["A goal's history"]["items"][0]["changes"] == {"name": ["Chapter", "Chapter one"]}
    undo = bodies["Undo the rename"]["operation"]
    assert bodies["The old name is back"]["name"] == "Chapter"
    refused = bodies["Undoing twice is refused"]
    assert refused["type"] == "urn:overachiever:problem:already-undone"
    assert refused["undone_by"] == undo["id"]
    assert bodies["Undo the undo: a redo"]["operation"]["undoes"] == undo["id"]
    assert bodies["The rename is back"]["name"] == "Chapter one"
    ids = [g["id"] for g in bodies["The forest as it was"]["items"]]
    assert bodies["Create a goal to follow"]["id"] in ids
    assert bodies["Create a goal after that instant"]["id"] not in ids
    first = bodies["The changes feed, from the start"]
    assert len(first["items"]) == 2
    assert first["more"] is True
    rest = bodies["The changes feed, after a cursor"]
    assert rest["more"] is False
    assert rest["items"][0]["id"] > first["items"][-1]["id"]
    assert rest["items"][-1]["changes"] == {"name": ["Chapter", "Chapter one"]}
    assert bodies["A forged cursor is refused"]["status"] == 422
