"""The generated OpenAPI 3.1 document and the offline interactive docs."""

from __future__ import annotations

import re
from collections.abc import Iterator
from html.parser import HTMLParser
from typing import Any

import pytest
from openapi_spec_validator import OpenAPIV31SpecValidator, validate

SPEC_URL = "/api/v2/openapi.json"
HTTP_METHODS = {"get", "put", "post", "delete", "patch", "head", "options", "trace"}
PROBLEM = "application/problem+json"


@pytest.fixture
def spec(client: Any) -> dict[str, Any]:
    resp = client.get(SPEC_URL)
    assert resp.status_code == 200
    assert resp.mimetype == "application/json"
    return resp.get_json()  # type: ignore[no-any-return]


def _operations(spec: dict[str, Any]) -> Iterator[tuple[str, str, dict[str, Any]]]:
    for path, item in spec["paths"].items():
        for method, operation in item.items():
            if method in HTTP_METHODS:
                yield path, method, operation


def _resolve(spec: dict[str, Any], schema: dict[str, Any]) -> dict[str, Any]:
    while "$ref" in schema:
        ref = schema["$ref"]
        assert ref.startswith("#/components/schemas/"), ref
        schema = spec["components"]["schemas"][ref.rsplit("/", 1)[1]]
    return schema


def _object_schemas(spec: dict[str, Any], schema: dict[str, Any]) -> list[tuple[str, Any]]:
    """Every object schema reachable from `schema`, following $refs (each visited once)."""
    found: list[tuple[str, Any]] = []
    seen: set[str] = set()
    stack: list[tuple[str, Any]] = [("body", schema)]
    while stack:
        where, node = stack.pop()
        if isinstance(node, list):
            stack.extend((where, n) for n in node)
            continue
        if not isinstance(node, dict):
            continue
        if "$ref" in node:
            if node["$ref"] in seen:
                continue
            seen.add(node["$ref"])
            where = node["$ref"]
            node = _resolve(spec, node)
        if node.get("type") == "object" or "properties" in node:
            found.append((where, node))
        for key in ("properties", "$defs"):
            stack.extend((where, v) for v in node.get(key, {}).values())
        for key in ("items", "additionalProperties", "anyOf", "oneOf", "allOf"):
            if key in node:
                stack.append((where, node[key]))
    return found


def test_document_is_valid_openapi_3_1(spec):
    assert spec["openapi"] == "3.1.0"
    assert spec["info"]["title"] == "Over Achiever"
    assert spec["info"]["version"]
    validate(spec)  # raises on the first problem
    assert list(OpenAPIV31SpecValidator(spec).iter_errors()) == []


def _app_routes(app: Any) -> dict[str, set[str]]:
    """The app's v2 API and health routes, as OpenAPI paths with their methods."""
    routes: dict[str, set[str]] = {}
    for rule in app.url_map.iter_rules():
        path = rule.rule
        if path == SPEC_URL:
            continue
        if not (path.startswith("/api/v2/") or path in ("/healthz", "/readyz")):
            continue
        openapi_path = re.sub(r"<(?:[^:<>]+:)?([^<>]+)>", r"{\1}", path)
        methods = {m.lower() for m in rule.methods or ()} - {"head", "options"}
        routes.setdefault(openapi_path, set()).update(methods)
    return routes


def test_every_v2_route_is_documented_with_its_methods(app, spec):
    routes = _app_routes(app)
    assert "/api/v2/goals/{goal_id}" in routes  # the conversion of rules works
    assert len(routes) >= 10
    documented = {
        path: {m for m in item if m in HTTP_METHODS} for path, item in spec["paths"].items()
    }
    for path, methods in routes.items():
        assert path in documented, f"{path} is missing from the OpenAPI document"
        assert methods <= documented[path], f"{path}: {methods - documented[path]} undocumented"
    # Nothing is documented that the app does not serve.
    for path, methods in documented.items():
        if path.startswith("/api/v2/"):
            assert methods <= routes.get(path, set()), path


def test_docs_and_static_routes_are_not_documented(spec):
    assert not [p for p in spec["paths"] if p.startswith(("/docs", "/static"))]
    assert SPEC_URL not in spec["paths"]


def test_every_operation_has_a_success_response_and_unique_id(spec):
    ids = []
    for path, method, operation in _operations(spec):
        codes = set(operation["responses"])
        assert any(c.startswith("2") for c in codes), f"{method.upper()} {path}: {codes}"
        assert operation.get("summary"), f"{method.upper()} {path} has no summary"
        ids.append(operation["operationId"])
    assert len(ids) == len(set(ids))


def test_path_id_parameters_are_integers(spec):
    checked = 0
    for path, method, operation in _operations(spec):
        params = [p for p in operation.get("parameters", []) if p.get("in") == "path"]
        assert {p["name"] for p in params} == set(re.findall(r"{([^}]+)}", path)), path
        for param in params:
            assert param["required"] is True
            schema = param["schema"]
            if param["name"] == "ref":  # a user id, or 'self'
                options = schema["anyOf"]
                assert {"type": "string", "enum": ["self"]} in options
                integer = next(o for o in options if o.get("type") == "integer")
            elif param["name"] == "secret":  # a calendar feed's URL: a string, not an id
                assert schema["type"] == "string", (method, path, param)
                assert re.fullmatch(schema["pattern"].strip("^$"), "A" * 43)
                continue
            else:
                assert param["name"].endswith("id"), (method, path, param)
                integer = schema
            assert integer["type"] == "integer", (method, path, param)
            assert integer["minimum"] == 1
            assert integer["maximum"] == 2**63 - 1
            checked += 1
    assert checked >= 10


@pytest.mark.parametrize(
    ("path", "method"),
    [
        ("/api/v2/goals", "post"),
        ("/api/v2/goals/{goal_id}", "patch"),
        ("/api/v2/goals/{goal_id}", "put"),
    ],
)
def test_goal_bodies_refuse_unknown_fields(spec, path, method):
    body = spec["paths"][path][method]["requestBody"]["content"]["application/json"]["schema"]
    assert "$ref" in body
    schema = _resolve(spec, body)
    assert schema["additionalProperties"] is False
    assert "name" in schema["properties"]
    for forbidden in ("id", "owner_id", "created_at", "updated_at", "version", "progress"):
        assert forbidden not in schema["properties"]


IMPORT_DOCUMENTS = {
    "text/markdown",
    "text/x-markdown",
    "text/x-opml",
    "application/xml",
    "text/xml",
    "text/csv",
}


def test_the_import_documents_its_document_types(spec):
    content = spec["paths"]["/api/v2/goals/import"]["post"]["requestBody"]["content"]
    for media_type in IMPORT_DOCUMENTS:
        assert content[media_type]["schema"]["type"] == "string"
        assert content[media_type]["schema"]["description"]


def test_the_export_documents_its_query_and_media_types(spec):
    operation = spec["paths"]["/api/v2/export"]["get"]
    params = {p["name"]: p for p in operation["parameters"]}
    assert params["format"]["schema"]["enum"] == ["json", "markdown", "opml", "csv", "ics"]
    assert params["root"]["schema"]["anyOf"][0]["minimum"] == 1
    assert set(operation["responses"]["200"]["content"]) == {
        "application/json",
        "text/markdown",
        "text/x-opml",
        "text/csv",
        "text/calendar",
    }
    assert "404" in operation["responses"]
    assert "422" in operation["responses"]


def test_every_request_body_refuses_unknown_fields(spec):
    bodies = 0
    for path, method, operation in _operations(spec):
        if "requestBody" not in operation:
            continue
        content = operation["requestBody"]["content"]
        assert next(iter(content)) == "application/json", (method, path)
        # Only the import reads documents besides JSON (text, checked by its own parsers).
        if path == "/api/v2/goals/import":
            assert set(content) == {"application/json", *IMPORT_DOCUMENTS}
        else:
            assert list(content) == ["application/json"], (method, path)
        objects = _object_schemas(spec, content["application/json"]["schema"])
        assert objects, (method, path)
        for where, schema in objects:
            assert schema.get("additionalProperties") is False, (method, path, where)
        bodies += 1
    assert bodies >= 7


def test_user_bodies_do_not_expose_hidden_fields(spec):
    schemas = spec["components"]["schemas"]
    for name in ("SignUp",):
        assert "is_admin" not in schemas[name]["properties"]
        assert "id" not in schemas[name]["properties"]
    for name, schema in schemas.items():
        assert "password_hash" not in schema.get("properties", {}), name
    for name in ("UserOut", "TokenOut"):
        out = next((s for n, s in schemas.items() if n.endswith(name)), None)
        assert out is not None, name
        assert "password" not in out["properties"]
        assert "token" not in out["properties"]
        assert "digest" not in out["properties"]


def test_error_responses_are_problem_json(spec):
    errors = 0
    for path, method, operation in _operations(spec):
        for status, response in operation["responses"].items():
            if status.startswith(("4", "5")):
                assert list(response.get("content", {})) == [PROBLEM], (method, path, status)
                schema = _resolve(spec, response["content"][PROBLEM]["schema"])
                assert {"type", "title", "status"} <= set(schema["properties"])
                errors += 1
            elif status in ("204", "304"):
                assert not response.get("content"), (method, path, status)
    assert errors >= 20


def test_operations_with_a_body_document_its_refusals(spec):
    with_body = [(p, m, op) for p, m, op in _operations(spec) if "requestBody" in op]
    assert len(with_body) >= 8
    for path, method, operation in with_body:
        for status in ("400", "413", "415", "422"):
            assert status in operation["responses"], (method, path, status)


def test_security_requirements(spec):
    schemes = spec["components"]["securitySchemes"]
    assert schemes["BearerAuth"] == {**schemes["BearerAuth"], "type": "http", "scheme": "bearer"}
    assert schemes["BasicAuth"] == {**schemes["BasicAuth"], "type": "http", "scheme": "basic"}
    ops = {(path, method): op for path, method, op in _operations(spec)}
    assert ops[("/api/v2/tokens", "post")]["security"] == [{"BasicAuth": []}]
    assert not ops[("/api/v2/users", "post")].get("security")
    assert not ops[("/healthz", "get")].get("security")
    open_ops = {("/api/v2/tokens", "post"), ("/api/v2/users", "post"), ("/healthz", "get")}
    open_ops.add(("/readyz", "get"))
    for key, op in ops.items():
        if key not in open_ops and key[0].startswith("/api/v2/"):
            assert op.get("security") == [{"BearerAuth": []}], key
            assert "401" in op["responses"], key


def test_spec_is_served_without_authentication(client, spec):
    resp = client.get(SPEC_URL)
    assert resp.get_json() == spec
    assert client.head(SPEC_URL).status_code == 200


# --- /docs -----------------------------------------------------------------------------------


class _AssetParser(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.urls: list[str] = []
        self.tags: dict[str, int] = {}

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = dict(attrs)
        self.tags[tag] = self.tags.get(tag, 0) + 1
        if tag == "script" and values.get("src") is not None:
            self.urls.append(values["src"] or "")
        if tag == "link" and values.get("href") is not None:
            self.urls.append(values["href"] or "")
        for name in ("src", "href"):
            value = values.get(name)
            if value and tag not in ("script", "link"):
                self.urls.append(value)


def _docs_assets(client: Any) -> list[str]:
    resp = client.get("/docs")
    assert resp.status_code == 200
    assert resp.mimetype == "text/html"
    parser = _AssetParser()
    parser.feed(resp.get_data(as_text=True))
    assert parser.tags.get("script", 0) >= 2
    assert parser.tags.get("link", 0) >= 1
    return parser.urls


def test_docs_load_only_local_assets(client):
    urls = _docs_assets(client)
    assert urls
    for url in urls:
        assert url.startswith("/docs/assets/"), url
        assert "http" not in url
        assert "//" not in url
    assert any(u.endswith(".js") for u in urls)
    assert any(u.endswith(".css") for u in urls)
    assert SPEC_URL in client.get("/docs").get_data(as_text=True)


def test_every_docs_asset_is_served(client):
    for url in _docs_assets(client):
        resp = client.get(url)
        assert resp.status_code == 200, url
        assert len(resp.get_data()) > 0, url
        if url.endswith(".js"):
            assert "javascript" in resp.mimetype
        elif url.endswith(".css"):
            assert resp.mimetype == "text/css"
        resp.close()  # send_from_directory streams the file; release it


@pytest.mark.parametrize(
    "path",
    [
        "/docs/assets/missing.js",
        "/docs/assets/../app.py",
        "/docs/assets/%2e%2e/%2e%2e/overachiever/app.py",
        "/docs/assets/..%2f..%2f__init__.py",
    ],
)
def test_docs_assets_do_not_escape_their_folder(client, path):
    resp = client.get(path)
    assert resp.status_code == 404
    assert b"import" not in resp.get_data()
