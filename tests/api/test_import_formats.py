"""POST /api/v2/goals/import by Content-Type: Markdown, OPML, CSV and the JSON export document.

Every refusal is a problem with nothing created: a 422 names the line (Markdown, CSV) or the
element (OPML); a body over the limit is 413, a media type the endpoint does not read 415.
"""

from __future__ import annotations

from typing import Any

import pytest

from tests.support.accounts import sign_up
from tests.support.goals import API, error_locs, flat_tree
from tests.support.problems import assert_problem

IMPORT = f"{API}/goals/import"


def _post(client: Any, account: Any, body: str | bytes, media_type: str, **query: Any) -> Any:
    data = body.encode() if isinstance(body, str) else body
    return client.post(
        IMPORT, data=data, content_type=media_type, query_string=query, headers=account.headers
    )


def _names(client: Any, account: Any) -> list[tuple[int, str, bool]]:
    return [(g["depth"], g["name"], g["end"] is not None) for g in flat_tree(client, account)]


def _refused(client: Any, account: Any, resp: Any, status: int) -> dict[str, Any]:
    body = assert_problem(resp, status)
    assert flat_tree(client, account) == []
    return body


# ---------------------------------------------------------------------------- Markdown

PASTED = """# Groceries

- [ ] Shop
  - [x] Milk \\*2\\*
  - [ ] Eggs
    Free range
    - only
* Plain item
    + Deeper, four spaces
1. Numbered
"""


def test_a_pasted_markdown_list(client, alice):
    resp = _post(client, alice, PASTED, "text/markdown")
    assert resp.status_code == 201, resp.get_json()
    assert _names(client, alice) == [
        (0, "Shop", False),
        (1, "Milk *2*", True),
        (1, "Eggs", False),
        (2, "only", False),
        (0, "Plain item", False),
        (1, "Deeper, four spaces", False),
        (0, "Numbered", False),
    ]
    eggs = flat_tree(client, alice)[2]
    goal = client.get(f"{API}/goals/{eggs['id']}", headers=alice.headers).get_json()
    assert goal["description"] == "Free range"


@pytest.mark.parametrize(
    ("body", "line"),
    [
        ("- a\n    - b\n  - c\n", 3),  # between two open levels
        ("  - a\n- b\n", 2),  # left of the first item
        ("- a\n- [ ] \n", 2),  # no name
        ("- a\n- a\n", 2),  # siblings share a name
        ("- " + "x" * 201 + "\n", 1),
    ],
)
def test_bad_markdown_is_422_naming_the_line(client, alice, body, line):
    problem = _refused(client, alice, _post(client, alice, body, "text/markdown"), 422)
    assert error_locs(problem)[0][:2] == ["body", f"line {line}"]


def test_markdown_goes_under_a_parent_and_dry_runs(client, alice, make_goal):
    parent = make_goal(alice, "Parent")["id"]
    dry = _post(
        client, alice, "- [ ] a\n  - [x] b\n", "text/markdown", parent_id=parent, dry_run="true"
    )
    assert dry.status_code == 200
    assert dry.get_json()["dry_run"] is True
    assert _names(client, alice) == [(0, "Parent", False)]
    resp = _post(client, alice, "- [ ] a\n  - [x] b\n", "text/markdown", parent_id=parent)
    assert resp.status_code == 201
    assert _names(client, alice) == [(0, "Parent", False), (1, "a", False), (2, "b", True)]


def test_markdown_that_is_not_utf8_is_422(client, alice):
    _refused(client, alice, _post(client, alice, b"- \xff\xfe\n", "text/markdown"), 422)


# ---------------------------------------------------------------------------- OPML

OPML = """<?xml version="1.0" encoding="UTF-8"?>
<opml version="2.0"><head><title>t</title></head><body>
  <outline text="Book &amp; trip" _note="line1&#10;line2">
    <outline text="Flights" _complete="true"/>
    <outline text="Hotel"/>
  </outline>
  <outline text="Other"/>
</body></opml>
"""


@pytest.mark.parametrize("media_type", ["text/x-opml", "application/xml", "text/xml"])
def test_an_outliners_opml(client, alice, media_type):
    resp = _post(client, alice, OPML, media_type)
    assert resp.status_code == 201, resp.get_json()
    assert _names(client, alice) == [
        (0, "Book & trip", False),
        (1, "Flights", True),
        (1, "Hotel", False),
        (0, "Other", False),
    ]


def test_opml_errors_name_the_element(client, alice):
    body = OPML.replace('<outline text="Hotel"/>', '<outline text="Hotel"><outline/></outline>')
    problem = _refused(client, alice, _post(client, alice, body, "text/x-opml"), 422)
    assert error_locs(problem)[0][:2] == ["body", "/opml/body/outline[1]/outline[2]/outline[1]"]


BILLION_LAUGHS = """<?xml version="1.0"?>
<!DOCTYPE lolz [
 <!ENTITY lol "lol">
 <!ENTITY lol1 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
 <!ENTITY lol2 "&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;">
 <!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">
]>
<opml version="2.0"><body><outline text="&lol3;"/></body></opml>
"""
EXTERNAL = """<?xml version="1.0"?>
<!DOCTYPE opml [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>
<opml version="2.0"><body><outline text="&xxe;"/></body></opml>
"""
DOCTYPE_ONLY = (
    '<?xml version="1.0"?>\n<!DOCTYPE opml>\n<opml><body><outline text="a"/></body></opml>'
)


@pytest.mark.parametrize(
    "body",
    [
        BILLION_LAUGHS,
        EXTERNAL,
        DOCTYPE_ONLY,
        '<opml><body><outline text="&undefined;"/></body></opml>',
        "<opml><body><outline text='a'></body></opml>",
        "<html/>",
        "",
    ],
)
def test_hostile_or_broken_opml_is_422(client, alice, body):
    _refused(client, alice, _post(client, alice, body, "text/x-opml"), 422)


# ---------------------------------------------------------------------------- CSV

CSV = (
    "id,parent_id,name,description,end\r\n"
    'k2,k1,"Child, with ""quotes""","multi\nline",2024-01-02T00:00:00Z\r\n'
    "k1,,Top,,\r\n"
    "k3,k1,Second,,\r\n"
)


def test_csv_rows_in_any_order(client, alice):
    resp = _post(client, alice, CSV, "text/csv")
    assert resp.status_code == 201, resp.get_json()
    assert _names(client, alice) == [
        (0, "Top", False),
        (1, 'Child, with "quotes"', True),
        (1, "Second", False),
    ]


@pytest.mark.parametrize(
    ("body", "line", "field"),
    [
        ("id,parent_id,name\r\n1,,a\r\n2,3,b\r\n3,2,c\r\n", 3, "parent_id"),  # a cycle
        ("id,parent_id,name\r\n1,,a\r\n2,9,b\r\n", 3, "parent_id"),  # dangling
        ("id,parent_id,name\r\n1,1,a\r\n", 2, "parent_id"),  # its own parent
        ("id,parent_id,name\r\n1,,a\r\n1,,b\r\n", 3, "id"),
        ("id,name,colour\r\n1,a,red\r\n", 1, None),
        ("id,parent_id\r\n1,\r\n", 1, None),
        ('id,name\r\n1,"a\r\n2,b\r\n', 2, None),
        ("name\r\na,b\r\n", 2, None),
        ("name,start\r\na,yesterday\r\n", 2, "start"),
    ],
)
def test_bad_csv_is_422_naming_the_line(client, alice, body, line, field):
    problem = _refused(client, alice, _post(client, alice, body, "text/csv"), 422)
    loc = error_locs(problem)[0]
    assert loc[:2] == ["body", f"line {line}"]
    if field is not None:
        assert loc[2] == field


# ---------------------------------------------------------------------------- JSON document


def test_the_json_export_document_imports(client, alice):
    doc = {
        "format": "overachiever",
        "version": 1,
        "exported_at": "2024-01-01T00:00:00Z",
        "goals": [{"name": "a", "completion": "cascade", "children": [{"name": "b"}]}],
    }
    resp = client.post(IMPORT, json=doc, headers=alice.headers)
    assert resp.status_code == 201
    assert _names(client, alice) == [(0, "a", False), (1, "b", False)]


@pytest.mark.parametrize(
    "doc",
    [
        {"format": "other", "version": 1, "goals": []},
        {"format": "overachiever", "version": 2, "goals": [{"name": "a"}]},
        {"format": "overachiever", "version": 1, "goals": {"name": "a"}},
        {"format": "overachiever", "version": 1, "goals": []},
    ],
)
def test_a_bad_export_document_is_422(client, alice, doc):
    _refused(client, alice, client.post(IMPORT, json=doc, headers=alice.headers), 422)


# ---------------------------------------------------------------------------- 413, 415


@pytest.mark.parametrize("media_type", ["text/plain", "text/html", "application/octet-stream"])
def test_a_type_the_endpoint_does_not_read_is_415(client, alice, media_type):
    problem = _refused(client, alice, _post(client, alice, "- a\n", media_type), 415)
    assert "text/markdown" in problem["detail"]


def test_other_endpoints_still_take_only_json(client, alice):
    resp = client.post(
        f"{API}/goals", data="- a\n", content_type="text/markdown", headers=alice.headers
    )
    assert_problem(resp, 415)


@pytest.mark.parametrize("media_type", ["text/markdown", "text/x-opml", "text/csv"])
def test_a_document_over_the_body_limit_is_413(make_app, media_type):
    client = make_app(MAX_CONTENT_LENGTH=300).test_client()
    account = sign_up(client, "big")
    body = {
        "text/markdown": "- a\n" * 100,
        "text/x-opml": "<opml><body>" + '<outline text="a"/>' * 30 + "</body></opml>",
        "text/csv": "name\r\n" + "a\r\n" * 150,
    }[media_type]
    _refused(client, account, _post(client, account, body, media_type), 413)
