"""GET /api/v2/export: five formats, streamed, with media types and file names."""

from __future__ import annotations

import csv
import io
import json
import re
from typing import Any

import pytest
from icalendar import Calendar

from tests.support.goals import API
from tests.support.problems import assert_problem

EXPORT = f"{API}/export"
MEDIA = {
    "json": "application/json",
    "markdown": "text/markdown; charset=utf-8",
    "opml": "text/x-opml",
    "csv": "text/csv; charset=utf-8",
    "ics": "text/calendar; charset=utf-8",
}
EXTENSIONS = {"json": "json", "markdown": "md", "opml": "opml", "csv": "csv", "ics": "ics"}


@pytest.fixture
def tree(client: Any, alice: Any) -> dict[str, int]:
    """Alice's forest: Home > (Paint *the* fence, done; Fix <sink>), and Work."""
    body = [
        {
            "name": "Home",
            "description": "two\nlines",
            "start": "2024-01-01T00:00:00Z",
            "children": [
                {
                    "name": "Paint *the* fence",
                    "start": "2024-01-02T00:00:00Z",
                    "end": "2024-01-03T00:00:00Z",
                },
                {
                    "name": "Fix <sink>",
                    "start": "2024-01-02T00:00:00Z",
                    "due": "2024-02-01T00:00:00Z",
                },
            ],
        },
        {"name": "Work", "start": "2024-01-01T00:00:00Z"},
    ]
    resp = client.post(f"{API}/goals/import", json=body, headers=alice.headers)
    assert resp.status_code == 201
    home, paint, sink, work = resp.get_json()["ids"]
    return {"home": home, "paint": paint, "sink": sink, "work": work}


def _export(client: Any, account: Any, **query: Any) -> Any:
    return client.get(EXPORT, query_string=query, headers=account.headers)


@pytest.mark.parametrize("fmt", list(MEDIA))
def test_each_format_is_streamed_as_an_attachment(client, alice, tree, fmt):
    resp = _export(client, alice, format=fmt)
    assert resp.status_code == 200
    assert resp.is_streamed
    assert resp.headers["Content-Type"] == MEDIA[fmt]
    assert re.fullmatch(
        rf'attachment; filename="overachiever-\d{{4}}-\d{{2}}-\d{{2}}\.{EXTENSIONS[fmt]}"',
        resp.headers["Content-Disposition"],
    )
    assert resp.headers["Cache-Control"] == "no-store"
    assert "Paint" in resp.get_data(as_text=True)


def test_json_is_the_export_document(client, alice, tree):
    doc = _export(client, alice).get_json()
    assert doc["format"] == "overachiever"
    assert doc["version"] == 1
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT[\d:.]+Z", doc["exported_at"])
    home, work = doc["goals"]
    assert home["name"] == "Home"
    assert home["description"] == "two\nlines"
    assert home["completion"] == "manual"
    assert [c["name"] for c in home["children"]] == ["Paint *the* fence", "Fix <sink>"]
    paint = home["children"][0]
    assert (paint["start"], paint["end"], paint["due"]) == (
        "2024-01-02T00:00:00Z",
        "2024-01-03T00:00:00Z",
        None,
    )
    assert set(paint) == {"name", "description", "start", "end", "due", "completion", "children"}
    assert work["children"] == []


def test_markdown_is_a_nested_task_list(client, alice, tree):
    text = _export(client, alice, format="markdown").get_data(as_text=True)
    assert text == (
        "- [ ] Home\n"
        "  two\n"
        "  lines\n"
        "  - [x] Paint \\*the\\* fence\n"
        "  - [ ] Fix \\<sink\\>\n"
        "- [ ] Work\n"
    )


def test_opml_outlines_nest(client, alice, tree):
    text = _export(client, alice, format="opml").get_data(as_text=True)
    assert text.startswith('<?xml version="1.0" encoding="UTF-8"?>\n<opml version="2.0">')
    assert '<outline text="Home" _note="two&#10;lines"' in text
    assert '<outline text="Paint *the* fence" _complete="true"' in text
    assert '<outline text="Fix &lt;sink&gt;"' in text
    assert text.index("Fix &lt;sink&gt;") < text.index("</outline>") < text.index('"Work"')


def test_csv_rows_in_pre_order_with_progress(client, alice, tree):
    resp = _export(client, alice, format="csv")
    raw = resp.get_data(as_text=True)
    assert raw.startswith(
        "id,parent_id,depth,name,description,start,end,due,completion,progress\r\n"
    )
    rows = list(csv.DictReader(io.StringIO(raw, newline="")))
    assert [(r["name"], r["depth"], r["progress"]) for r in rows] == [
        ("Home", "0", "0.5"),
        ("Paint *the* fence", "1", "1.0"),
        ("Fix <sink>", "1", "0.0"),
        ("Work", "0", "0.0"),
    ]
    assert rows[1]["parent_id"] == str(tree["home"])
    assert rows[0]["parent_id"] == ""
    assert rows[0]["description"] == "two\nlines"


def test_ics_is_one_vtodo_per_goal_folded_at_75_octets(client, alice, tree, make_goal):
    make_goal(alice, "x" * 100 + " ünïcödé " * 10, parent_id=tree["work"])
    raw = _export(client, alice, format="ics").get_data()
    lines = raw.split(b"\r\n")
    assert lines[-1] == b""
    assert all(len(line) <= 75 for line in lines)
    assert b"\n" not in raw.replace(b"\r\n", b"")
    calendar = Calendar.from_ical(raw)
    todos = calendar.walk("VTODO")
    assert [str(t["SUMMARY"]) for t in todos][:4] == [
        "Home",
        "Paint *the* fence",
        "Fix <sink>",
        "Work",
    ]
    paint = todos[1]
    assert str(paint["STATUS"]) == "COMPLETED"
    assert paint["COMPLETED"].dt.isoformat() == "2024-01-03T00:00:00+00:00"
    assert int(paint["PERCENT-COMPLETE"]) == 100
    assert str(paint["RELATED-TO"]) == f"goal-{tree['home']}@overachiever"
    assert paint["RELATED-TO"].params["RELTYPE"] == "PARENT"
    assert str(todos[0]["DESCRIPTION"]) == "two\nlines"
    assert todos[2]["DUE"].dt.isoformat() == "2024-02-01T00:00:00+00:00"
    assert str(todos[4]["SUMMARY"]).startswith("x" * 100)


def test_a_root_exports_its_subtree_under_a_goal_based_name(client, alice, tree):
    resp = _export(client, alice, format="json", root=tree["home"])
    assert resp.status_code == 200
    assert re.fullmatch(
        rf'attachment; filename="overachiever-goal-{tree["home"]}-\d{{4}}-\d\d-\d\d\.json"',
        resp.headers["Content-Disposition"],
    )
    doc = json.loads(resp.get_data())
    assert [g["name"] for g in doc["goals"]] == ["Home"]


def test_someone_elses_root_is_404(client, alice, bob, tree):
    assert_problem(_export(client, bob, root=tree["home"]), 404)


def test_a_trashed_root_is_404(client, alice, tree):
    client.delete(f"{API}/goals/{tree['sink']}", headers=alice.headers)
    assert_problem(_export(client, alice, root=tree["sink"]), 404)


@pytest.mark.parametrize("query", [{"format": "pdf"}, {"root": "0"}, {"root": "x"}, {"format": ""}])
def test_bad_queries_are_422(client, alice, query):
    assert_problem(_export(client, alice, **query), 422)


def test_an_empty_forest_exports_an_empty_document(client, alice):
    assert _export(client, alice).get_json()["goals"] == []
    assert _export(client, alice, format="markdown").get_data() == b""
    assert _export(client, alice, format="csv").get_data().count(b"\r\n") == 1


def test_export_needs_a_token(client):
    assert_problem(client.get(EXPORT), 401)
