"""The /api/v2/goals resource: create, read, list, change, replace, delete, and ownership."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from tests.support.goals import API, FULL_GOAL, error_locs, links, snapshot, ts
from tests.support.problems import assert_problem

GOALS = f"{API}/goals"


def _get(client: Any, account: Any, goal_id: int) -> dict[str, Any]:
    resp = client.get(f"{GOALS}/{goal_id}", headers=account.headers)
    assert resp.status_code == 200, resp.get_json()
    return resp.get_json()  # type: ignore[no-any-return]


def _list(client: Any, account: Any, **params: Any) -> dict[str, Any]:
    resp = client.get(GOALS, query_string=params, headers=account.headers)
    assert resp.status_code == 200, resp.get_json()
    return resp.get_json()  # type: ignore[no-any-return]


def _names(page: dict[str, Any]) -> list[str]:
    return [g["name"] for g in page["items"]]


# ------------------------------------------------------------------------------------ create


def test_create_returns_201_location_etag_and_computed_fields(client, alice):
    before = datetime.now(UTC)
    resp = client.post(
        GOALS,
        json={"name": "  Learn Flask  ", "description": "the whole\n\tthing"},
        headers=alice.headers,
    )
    after = datetime.now(UTC)
    assert resp.status_code == 201
    goal = resp.get_json()
    assert resp.headers["Location"].endswith(f"/api/v2/goals/{goal['id']}")
    assert resp.headers["ETag"].startswith('"')
    assert resp.headers["ETag"].endswith('"')
    assert goal["name"] == "Learn Flask"  # trimmed
    assert goal["description"] == "the whole\n\tthing"
    assert goal["parent_id"] is None
    assert goal["end"] is None
    assert goal["due"] is None
    assert goal["position"] == 0
    assert goal["version"] == 1
    assert goal["progress"] == 0.0
    assert goal["children_count"] == 0
    assert goal["descendants_count"] == 0
    assert goal["done_descendants_count"] == 0
    # start defaults to the creation time; timestamps are UTC with a trailing Z
    start, created = ts(goal["start"]), ts(goal["created_at"])
    assert start is not None
    assert created is not None
    assert before - timedelta(seconds=1) <= created <= after + timedelta(seconds=1)
    assert start == created
    assert ts(goal["updated_at"]) == created

    # The Location points at the goal, which reads back the same with the same ETag.
    read = client.get(resp.headers["Location"], headers=alice.headers)
    assert read.status_code == 200
    assert read.get_json() == goal
    assert read.headers["ETag"] == resp.headers["ETag"]


def test_goal_names_are_stored_composed_so_either_form_is_the_same_name(client, alice):
    decomposed = "Cafe\u0301 visits"
    resp = client.post(GOALS, json={"name": decomposed}, headers=alice.headers)
    assert resp.get_json()["name"] == "Café visits"
    resp = client.post(GOALS, json={"name": "Café visits"}, headers=alice.headers)
    assert assert_problem(resp, 409)["type"].endswith("name-conflict")
    resp = client.post(
        "/v1.0/goals", json={"name": "child", "parent_name": decomposed}, headers=alice.headers
    )
    assert resp.status_code == 200, resp.get_json()


@pytest.mark.parametrize(
    "name",
    ["\u202eevil.exe", "zero\u200bwidth", "\ufeffbom", "soft\u00adhyphen", "tag\U000e0041"],
    ids=["rtl-override", "zero-width-space", "bom", "soft-hyphen", "tag"],
)
def test_goal_names_refuse_invisible_format_characters(client, alice, name):
    resp = client.post(GOALS, json={"name": name}, headers=alice.headers)
    assert ["body", "name"] in error_locs(assert_problem(resp, 422))


def test_goal_names_keep_the_joiners_that_emoji_and_scripts_need(client, alice, make_goal):
    for name in (
        "\U0001f469\u200d\U0001f4bb Learn Rust",
        "\u0645\u06cc\u200c\u062e\u0648\u0627\u0647\u0645",
    ):
        assert make_goal(alice, name)["name"] == name


def test_a_name_too_long_once_composed_is_422_on_every_database(client, alice):
    # U+0958 is one character that Unicode NFC writes as two: 150 of them make 300.
    resp = client.post(GOALS, json={"name": "\u0958" * 150}, headers=alice.headers)
    assert ["body", "name"] in error_locs(assert_problem(resp, 422))
    resp = client.post(
        "/api/v2/users",
        json={"name": "\u0958" * 40, "email": "long@example.com", "password": "a long password"},
    )
    assert ["body", "name"] in error_locs(assert_problem(resp, 422))


def test_create_with_times_and_naive_timestamps_taken_as_utc(client, alice):
    resp = client.post(
        GOALS,
        json={
            "name": "Run",
            "start": "2024-01-01T10:00:00",
            "end": "2024-01-02T12:00:00+02:00",
            "due": "2024-02-01T00:00:00Z",
        },
        headers=alice.headers,
    )
    assert resp.status_code == 201, resp.get_json()
    goal = resp.get_json()
    assert ts(goal["start"]) == datetime(2024, 1, 1, 10, tzinfo=UTC)
    assert ts(goal["end"]) == datetime(2024, 1, 2, 10, tzinfo=UTC)
    assert ts(goal["due"]) == datetime(2024, 2, 1, tzinfo=UTC)
    assert goal["progress"] == 1.0  # done


def test_create_under_parent_updates_parent_rollups(client, alice, make_goal):
    parent = make_goal(alice, "Parent")
    first = make_goal(alice, "First", parent["id"])
    second = make_goal(alice, "Second", parent["id"], end="2030-01-01T00:00:00Z")
    assert first["parent_id"] == parent["id"]
    assert (first["position"], second["position"]) == (0, 1)
    read = client.get(f"{GOALS}/{parent['id']}", headers=alice.headers).get_json()
    assert read["children_count"] == 2
    assert read["descendants_count"] == 2
    assert read["done_descendants_count"] == 1
    assert read["progress"] == 0.5


def test_create_with_position_inserts_before_siblings(client, alice, make_goal):
    a = make_goal(alice, "a")
    b = make_goal(alice, "b")
    c = make_goal(alice, "c", position=0)
    assert c["position"] == 0
    assert _names(_list(client, alice, parent="root")) == ["c", "a", "b"]
    assert _get(client, alice, a["id"])["position"] > 0
    assert _get(client, alice, b["id"])["position"] > _get(client, alice, a["id"])["position"]


def test_create_sibling_name_clash_is_409(client, alice, make_goal):
    parent = make_goal(alice, "P")
    make_goal(alice, "Same", parent["id"])
    make_goal(alice, "Same")  # a different parent (top level) is fine
    resp = client.post(
        GOALS, json={"name": "Same", "parent_id": parent["id"]}, headers=alice.headers
    )
    body = assert_problem(resp, 409)
    assert body["type"].endswith("name-conflict")
    # Names are unique per owner only: bob may use the same names.


def test_same_name_for_different_users(client, alice, bob, make_goal):
    make_goal(alice, "Shared")
    assert make_goal(bob, "Shared")["name"] == "Shared"


def test_create_end_before_start_is_422(client, alice):
    resp = client.post(
        GOALS,
        json={"name": "x", "start": "2024-01-02T00:00:00Z", "end": "2024-01-01T00:00:00Z"},
        headers=alice.headers,
    )
    assert ["body", "end"] in error_locs(assert_problem(resp, 422))


def test_requires_a_token(client, alice, make_goal):
    goal = make_goal(alice, "x")
    for resp in (
        client.get(GOALS),
        client.get(f"{GOALS}/{goal['id']}"),
        client.post(GOALS, json={"name": "y"}),
        client.get(f"{GOALS}/{goal['id']}", headers={"Authorization": "Bearer oa_nope"}),
    ):
        assert_problem(resp, 401)
        assert resp.headers["WWW-Authenticate"].startswith("Bearer")


# -------------------------------------------------------------------------------------- read


def test_read_unknown_goal_is_404(client, alice):
    assert_problem(client.get(f"{GOALS}/12345", headers=alice.headers), 404)


def test_read_shows_rollups_of_a_deeper_tree(client, alice, make_goal):
    root = make_goal(alice, "root")
    a = make_goal(alice, "a", root["id"])
    a1 = make_goal(alice, "a1", a["id"], end="2030-01-01T00:00:00Z")
    make_goal(alice, "a2", a["id"])
    b = make_goal(alice, "b", root["id"], end="2030-01-01T00:00:00Z")
    make_goal(alice, "b1", b["id"])  # open, but b is done: counts as a done leaf
    make_goal(alice, "b2", b["id"])
    got = _get(client, alice, root["id"])
    assert got["children_count"] == 2
    assert got["descendants_count"] == 6
    assert got["done_descendants_count"] == 2
    # leaves: a1 (done), a2 (open), b1 and b2 (done through b) -> 3/4
    assert got["progress"] == pytest.approx(0.75)
    assert _get(client, alice, a["id"])["progress"] == pytest.approx(0.5)
    assert _get(client, alice, a1["id"])["progress"] == 1.0
    assert _get(client, alice, b["id"])["progress"] == 1.0


# -------------------------------------------------------------------------------------- list


@pytest.fixture
def listed(client, alice, make_goal):
    """Top-level goals with varied fields, plus children under one of them."""
    specs = [
        ("delta", "walk the dog", "2024-03-01T00:00:00Z", None, "2024-06-01T00:00:00Z"),
        ("alpha", "Read a BOOK", "2024-01-01T00:00:00Z", "2024-02-01T00:00:00Z", None),
        ("charlie", "", "2024-05-01T00:00:00Z", None, "2024-04-01T00:00:00Z"),
        ("bravo", "100% done", "2024-02-01T00:00:00Z", "2024-07-01T00:00:00Z", "2024-05-01"),
        ("echo", "book club", "2024-04-01T00:00:00Z", None, None),
    ]
    made = {}
    for name, description, start, end, due in specs:
        fields: dict[str, Any] = {"description": description, "start": start}
        if end:
            fields["end"] = end
        if due:
            fields["due"] = due
        made[name] = make_goal(alice, name, **fields)
    made["child1"] = make_goal(alice, "child1", made["delta"]["id"])
    made["child2"] = make_goal(alice, "child2", made["delta"]["id"], due="2024-01-15T00:00:00Z")
    return made


def test_list_defaults(client, alice, bob, listed, make_goal):
    make_goal(bob, "bob's own")
    page = _list(client, alice)
    assert page["total"] == 7
    assert (page["offset"], page["limit"]) == (0, 50)
    assert {g["name"] for g in page["items"]} == set(listed)
    assert "Link" not in client.get(GOALS, headers=alice.headers).headers
    # items are full goal objects with roll-ups
    delta = next(g for g in page["items"] if g["name"] == "delta")
    assert delta["children_count"] == 2
    assert delta["descendants_count"] == 2


def test_list_parent_filter(client, alice, listed):
    roots = _list(client, alice, parent="root")
    assert roots["total"] == 5
    assert all(g["parent_id"] is None for g in roots["items"])
    assert _names(roots) == ["delta", "alpha", "charlie", "bravo", "echo"]  # by position
    kids = _list(client, alice, parent=listed["delta"]["id"])
    assert _names(kids) == ["child1", "child2"]
    assert _list(client, alice, parent=listed["alpha"]["id"])["total"] == 0


def test_list_parent_filter_unknown_or_foreign_is_404(client, alice, bob, make_goal):
    theirs = make_goal(bob, "bob's")
    assert_problem(client.get(GOALS, query_string={"parent": 999}, headers=alice.headers), 404)
    resp = client.get(GOALS, query_string={"parent": theirs["id"]}, headers=alice.headers)
    assert_problem(resp, 404)


def test_list_status_filter(client, alice, listed):
    assert set(_names(_list(client, alice, status="done"))) == {"alpha", "bravo"}
    open_names = set(_names(_list(client, alice, status="open")))
    assert open_names == {"delta", "charlie", "echo", "child1", "child2"}
    assert _list(client, alice, status="all")["total"] == 7


def test_list_text_search_in_name_or_description(client, alice, listed):
    assert set(_names(_list(client, alice, q="book"))) == {"alpha", "echo"}  # case-insensitive
    assert set(_names(_list(client, alice, q="CHILD"))) == {"child1", "child2"}
    assert _names(_list(client, alice, q="%")) == ["bravo"]  # wildcards are literal
    assert _names(_list(client, alice, q="_")) == []
    assert _list(client, alice, q="nothing like it")["total"] == 0


def test_list_text_search_ignores_case_beyond_ascii(client, alice, make_goal):
    make_goal(alice, "Éclair au café")
    make_goal(alice, "ÉCOLE")
    make_goal(alice, "plain", description="ΚΑΛΗΜΈΡΑ to all")
    make_goal(alice, "Ascii Only")
    assert _names(_list(client, alice, q="éclair")) == ["Éclair au café"]
    assert _names(_list(client, alice, q="ÉCLAIR AU CAFÉ")) == ["Éclair au café"]
    assert _names(_list(client, alice, q="éco")) == ["ÉCOLE"]
    assert _names(_list(client, alice, q="καλημέρα")) == ["plain"]  # in the description
    assert _names(_list(client, alice, q="ASCII o")) == ["Ascii Only"]
    assert set(_names(_list(client, alice, q="É"))) == {"Éclair au café", "ÉCOLE"}
    # The query is composed (NFC) like the names, however it was typed.
    assert _names(_list(client, alice, q="cafe\u0301")) == ["Éclair au café"]
    assert _list(client, alice, q="clair au caf%")["total"] == 0


def test_list_due_filters(client, alice, listed):
    before = _list(client, alice, due_before="2024-05-01T00:00:00Z")
    assert set(_names(before)) == {"charlie", "child2"}  # strictly before
    after = _list(client, alice, due_after="2024-05-01T00:00:00Z")
    assert set(_names(after)) == {"bravo", "delta"}  # at or after
    both = _list(client, alice, due_after="2024-02-01", due_before="2024-06-01T00:00:00Z")
    assert set(_names(both)) == {"charlie", "bravo"}
    # a naive timestamp is UTC; an offset is honoured
    shifted = _list(client, alice, due_before="2024-05-01T01:00:00+01:00")
    assert set(_names(shifted)) == {"charlie", "child2"}


_SORT_FIELDS = {
    "position": "position",
    "name": "name",
    "start": "start",
    "end": "end",
    "due": "due",
    "created": "created_at",
}


@pytest.mark.parametrize("key", list(_SORT_FIELDS))
@pytest.mark.parametrize("descending", [False, True])
def test_list_sort(client, alice, listed, key, descending):
    field = _SORT_FIELDS[key]
    page = _list(client, alice, parent="root", sort=("-" if descending else "") + key)
    items = page["items"]
    assert len(items) == 5

    def value(goal: dict[str, Any]) -> Any:
        raw = goal[field]
        return ts(raw) if field in ("start", "end", "due", "created_at") else raw

    present = [g for g in items if value(g) is not None]
    missing = [g for g in items if value(g) is None]
    # nulls last, in both directions
    assert items == present + missing
    expected = sorted(present, key=lambda g: (value(g), g["id"]), reverse=descending)
    assert present == expected
    expected_missing = sorted(missing, key=lambda g: g["id"], reverse=descending)
    assert missing == expected_missing


def test_list_sort_orders_differ(client, alice, listed):
    by_name = _names(_list(client, alice, parent="root", sort="name"))
    assert by_name == ["alpha", "bravo", "charlie", "delta", "echo"]
    assert _names(_list(client, alice, parent="root", sort="-name")) == by_name[::-1]
    assert _names(_list(client, alice, parent="root", sort="start")) == [
        "alpha",
        "bravo",
        "delta",
        "echo",
        "charlie",
    ]
    assert _names(_list(client, alice, parent="root", sort="due")) == [
        "charlie",
        "bravo",
        "delta",
        "alpha",
        "echo",
    ]
    assert _names(_list(client, alice, parent="root", sort="-end")) == [
        "bravo",
        "alpha",
        "echo",
        "charlie",
        "delta",
    ]


def test_list_paging_with_link_header(client, alice, make_goal):
    for i in range(7):
        make_goal(alice, f"g{i}")
    everything = [g["id"] for g in _list(client, alice)["items"]]
    assert len(everything) == 7

    first = client.get(GOALS, query_string={"limit": 3}, headers=alice.headers)
    body = first.get_json()
    assert (body["total"], body["offset"], body["limit"]) == (7, 0, 3)
    assert [g["id"] for g in body["items"]] == everything[:3]
    rels = links(first)
    assert set(rels) == {"next"}

    middle = client.get(GOALS, query_string={"limit": 3, "offset": 3}, headers=alice.headers)
    assert set(links(middle)) == {"next", "prev"}
    last = client.get(GOALS, query_string={"limit": 3, "offset": 6}, headers=alice.headers)
    assert set(links(last)) == {"prev"}
    assert [g["id"] for g in last.get_json()["items"]] == everything[6:]

    # Following next links walks the whole list exactly once, keeping the filters.
    seen: list[int] = []
    url: str | None = rels["next"]
    seen += [g["id"] for g in body["items"]]
    while url:
        resp = client.get(url, headers=alice.headers)
        assert resp.status_code == 200
        page = resp.get_json()
        assert page["limit"] == 3
        assert page["total"] == 7
        seen += [g["id"] for g in page["items"]]
        url = links(resp).get("next")
    assert seen == everything

    # prev from the last page leads back to the middle one
    back = client.get(links(last)["prev"], headers=alice.headers).get_json()
    assert back["offset"] == 3
    assert [g["id"] for g in back["items"]] == everything[3:6]


def test_link_header_keeps_filters(client, alice, make_goal):
    parent = make_goal(alice, "P")
    for i in range(5):
        make_goal(alice, f"kid {i}", parent["id"], end="2030-01-01T00:00:00Z" if i % 2 else None)
    make_goal(alice, "kid elsewhere", end="2030-01-01T00:00:00Z")
    query = {"parent": parent["id"], "status": "done", "sort": "-name", "limit": 1, "q": "kid"}
    resp = client.get(GOALS, query_string=query, headers=alice.headers)
    assert resp.get_json()["total"] == 2
    names = _names(resp.get_json())
    resp = client.get(links(resp)["next"], headers=alice.headers)
    names += _names(resp.get_json())
    assert names == ["kid 3", "kid 1"]
    assert "next" not in links(resp)


def test_list_offset_past_the_end(client, alice, make_goal):
    make_goal(alice, "only")
    resp = client.get(GOALS, query_string={"offset": 10, "limit": 5}, headers=alice.headers)
    body = resp.get_json()
    assert body["items"] == []
    assert body["total"] == 1
    assert links(resp)["prev"].count("offset=5") == 1


# ------------------------------------------------------------------------------------- PATCH


def _patch(client: Any, account: Any, goal_id: int, body: Any, **headers: str) -> Any:
    return client.patch(f"{GOALS}/{goal_id}", json=body, headers={**account.headers, **headers})


def test_patch_rename(client, alice, make_goal):
    goal = make_goal(alice, "old")
    etag = client.get(f"{GOALS}/{goal['id']}", headers=alice.headers).headers["ETag"]
    resp = _patch(client, alice, goal["id"], {"name": "new", "description": "why"})
    assert resp.status_code == 200
    got = resp.get_json()
    assert (got["name"], got["description"]) == ("new", "why")
    assert got["version"] == goal["version"] + 1
    assert ts(got["updated_at"]) >= ts(goal["updated_at"])
    assert got["created_at"] == goal["created_at"]
    assert resp.headers["ETag"] != etag
    assert _get(client, alice, goal["id"]) == got


def test_patch_only_changes_given_fields(client, alice, make_goal):
    goal = make_goal(alice, "g", description="keep", due="2031-01-01T00:00:00Z")
    got = _patch(client, alice, goal["id"], {"position": 5}).get_json()
    assert got["description"] == "keep"
    assert got["due"] == goal["due"]
    assert got["position"] == 5
    got = _patch(client, alice, goal["id"], {"due": None}).get_json()
    assert got["due"] is None
    assert got["description"] == "keep"


def test_patch_rename_to_sibling_name_is_409(client, alice, make_goal):
    make_goal(alice, "a")
    b = make_goal(alice, "b")
    before = snapshot(client.application, alice.id)
    assert_problem(_patch(client, alice, b["id"], {"name": "a"}), 409)
    assert snapshot(client.application, alice.id) == before
    assert _patch(client, alice, b["id"], {"name": "b"}).status_code == 200  # its own name


def test_patch_move_and_move_to_top(client, alice, make_goal):
    a = make_goal(alice, "a")
    b = make_goal(alice, "b")
    kid = make_goal(alice, "kid", a["id"])
    moved = _patch(client, alice, kid["id"], {"parent_id": b["id"]}).get_json()
    assert moved["parent_id"] == b["id"]
    assert _get(client, alice, a["id"])["children_count"] == 0
    assert _get(client, alice, b["id"])["children_count"] == 1
    # a whole subtree moves with its root
    grandkid = make_goal(alice, "grandkid", kid["id"])
    _patch(client, alice, kid["id"], {"parent_id": a["id"]})
    assert _get(client, alice, a["id"])["descendants_count"] == 2
    assert _get(client, alice, grandkid["id"])["parent_id"] == kid["id"]
    # null moves to the top level, after the existing top-level goals
    top = _patch(client, alice, kid["id"], {"parent_id": None}).get_json()
    assert top["parent_id"] is None
    assert _names(_list(client, alice, parent="root")) == ["a", "b", "kid"]
    assert _get(client, alice, a["id"])["descendants_count"] == 0


def test_patch_move_into_name_clash_is_409(client, alice, make_goal):
    a = make_goal(alice, "a")
    make_goal(alice, "same", a["id"])
    other = make_goal(alice, "same")
    assert_problem(_patch(client, alice, other["id"], {"parent_id": a["id"]}), 409)
    assert _get(client, alice, other["id"])["parent_id"] is None


def test_patch_move_under_itself_or_descendant_is_409_with_path(client, alice, make_goal):
    a = make_goal(alice, "a")
    b = make_goal(alice, "b", a["id"])
    c = make_goal(alice, "c", b["id"])
    before = snapshot(client.application, alice.id)
    body = assert_problem(_patch(client, alice, a["id"], {"parent_id": c["id"]}), 409)
    assert body["type"].endswith("cycle")
    assert body["path"] == [a["id"], b["id"], c["id"]]
    body = assert_problem(_patch(client, alice, a["id"], {"parent_id": a["id"]}), 409)
    assert body["path"] == [a["id"]]
    assert snapshot(client.application, alice.id) == before


def test_patch_complete_and_reopen(client, alice, make_goal):
    parent = make_goal(alice, "parent")
    goal = make_goal(alice, "goal", parent["id"])
    make_goal(alice, "sibling", parent["id"])
    done = _patch(client, alice, goal["id"], {"end": "2030-05-05T05:05:05Z"}).get_json()
    assert done["end"] == "2030-05-05T05:05:05Z"
    assert done["progress"] == 1.0
    assert _get(client, alice, parent["id"])["progress"] == 0.5
    assert _list(client, alice, status="done")["total"] == 1
    reopened = _patch(client, alice, goal["id"], {"end": None}).get_json()
    assert reopened["end"] is None
    assert reopened["progress"] == 0.0
    assert _get(client, alice, parent["id"])["progress"] == 0.0
    assert _list(client, alice, status="done")["total"] == 0


def test_patch_end_before_start_is_422(client, alice, make_goal):
    goal = make_goal(alice, "g", start="2024-01-01T00:00:00Z")
    resp = _patch(client, alice, goal["id"], {"end": "2023-12-31T23:59:59Z"})
    assert ["body", "end"] in error_locs(assert_problem(resp, 422))
    resp = _patch(client, alice, goal["id"], {"name": None})
    assert_problem(resp, 422)
    assert _get(client, alice, goal["id"])["version"] == goal["version"]


def test_patch_position_reorders_siblings(client, alice, make_goal):
    a, b, c = (make_goal(alice, n) for n in "abc")
    assert _patch(client, alice, c["id"], {"position": 0}).get_json()["position"] == 0
    assert _names(_list(client, alice, parent="root")) == ["c", "a", "b"]
    assert _patch(client, alice, c["id"], {"position": 2}).status_code == 200
    order = _names(_list(client, alice, parent="root"))
    assert order.index("c") > order.index("a")
    assert _patch(client, alice, a["id"], {"position": 100}).status_code == 200
    assert _names(_list(client, alice, parent="root"))[-1] == "a"
    # moving with a position places the goal among its new siblings
    kid1 = make_goal(alice, "k1", b["id"])
    make_goal(alice, "k2", b["id"])
    _patch(client, alice, c["id"], {"parent_id": b["id"], "position": 1})
    assert _names(_list(client, alice, parent=b["id"])) == ["k1", "c", "k2"]
    assert _get(client, alice, kid1["id"])["position"] == 0


def test_patch_empty_body_changes_nothing_but_version(client, alice, make_goal):
    goal = make_goal(alice, "g")
    got = _patch(client, alice, goal["id"], {}).get_json()
    for key in ("name", "description", "parent_id", "start", "end", "due", "position"):
        assert got[key] == goal[key]


# --------------------------------------------------------------------------------------- PUT


def _full(**overrides: Any) -> dict[str, Any]:
    body = {
        "name": "replaced",
        "description": "new text",
        "parent_id": None,
        "start": "2024-01-01T00:00:00Z",
        "end": None,
        "due": "2024-12-31T00:00:00Z",
    }
    body.update(overrides)
    return body


def test_put_replaces_every_field(client, alice, make_goal):
    parent = make_goal(alice, "parent")
    goal = make_goal(alice, "g", description="old", due="2030-01-01T00:00:00Z")
    resp = client.put(
        f"{GOALS}/{goal['id']}",
        json=_full(parent_id=parent["id"], end="2024-06-01T00:00:00Z"),
        headers=alice.headers,
    )
    assert resp.status_code == 200, resp.get_json()
    got = resp.get_json()
    assert got["name"] == "replaced"
    assert got["description"] == "new text"
    assert got["parent_id"] == parent["id"]
    assert got["start"] == "2024-01-01T00:00:00Z"
    assert got["end"] == "2024-06-01T00:00:00Z"
    assert got["due"] == "2024-12-31T00:00:00Z"
    assert got["version"] == goal["version"] + 1
    assert resp.headers["ETag"]
    # nullable fields really become null
    got = client.put(f"{GOALS}/{goal['id']}", json=_full(due=None), headers=alice.headers)
    assert got.get_json()["due"] is None
    assert got.get_json()["parent_id"] is None
    assert got.get_json()["end"] is None


def test_put_with_position(client, alice, make_goal):
    make_goal(alice, "a")
    goal = make_goal(alice, "b")
    got = client.put(f"{GOALS}/{goal['id']}", json=_full(position=0), headers=alice.headers)
    assert got.get_json()["position"] == 0
    assert _names(_list(client, alice, parent="root")) == ["replaced", "a"]


@pytest.mark.parametrize("missing", ["name", "description", "parent_id", "start", "end", "due"])
def test_put_missing_field_is_422(client, alice, make_goal, missing):
    goal = make_goal(alice, "g")
    body = _full()
    del body[missing]
    before = snapshot(client.application, alice.id)
    resp = client.put(f"{GOALS}/{goal['id']}", json=body, headers=alice.headers)
    assert ["body", missing] in error_locs(assert_problem(resp, 422))
    assert snapshot(client.application, alice.id) == before


def test_put_null_start_or_name_is_422(client, alice, make_goal):
    goal = make_goal(alice, "g")
    for field in ("start", "name", "description"):
        resp = client.put(
            f"{GOALS}/{goal['id']}", json=_full(**{field: None}), headers=alice.headers
        )
        assert_problem(resp, 422)


# ------------------------------------------------------------------------------------ DELETE


def test_delete_moves_subtree_out_of_sight(client, alice, make_goal):
    parent = make_goal(alice, "parent")
    goal = make_goal(alice, "goal", parent["id"])
    kid = make_goal(alice, "kid", goal["id"])
    resp = client.delete(f"{GOALS}/{goal['id']}", headers=alice.headers)
    assert resp.status_code == 204
    assert resp.get_data() == b""
    for gid in (goal["id"], kid["id"]):
        assert_problem(client.get(f"{GOALS}/{gid}", headers=alice.headers), 404)
        assert_problem(client.get(f"{GOALS}/{gid}/tree", headers=alice.headers), 404)
        # Nor can it be changed until it is restored.
        patch = client.patch(f"{GOALS}/{gid}", json={"name": "x"}, headers=alice.headers)
        assert_problem(patch, 404)
        put = client.put(f"{GOALS}/{gid}", json=FULL_GOAL, headers=alice.headers)
        assert_problem(put, 404)
    assert _get(client, alice, parent["id"])["children_count"] == 0
    assert _list(client, alice)["total"] == 1
    assert_problem(client.delete(f"{GOALS}/{goal['id']}", headers=alice.headers), 404)
    # its name is free again
    make_goal(alice, "goal", parent["id"])


# ----------------------------------------------------------------------------- other owners


def test_another_users_goal_is_always_404(client, alice, bob, make_goal):
    theirs = make_goal(bob, "bob's secret")
    mine = make_goal(alice, "mine")
    url = f"{GOALS}/{theirs['id']}"
    before = snapshot(client.application, bob.id)
    attempts = [
        client.get(url, headers=alice.headers),
        client.head(url, headers=alice.headers),
        client.patch(url, json={"name": "hacked"}, headers=alice.headers),
        client.put(url, json=_full(), headers=alice.headers),
        client.delete(url, headers=alice.headers),
        client.get(f"{url}/tree", headers=alice.headers),
        client.get(f"{url}/tree?format=flat", headers=alice.headers),
        client.post(GOALS, json={"name": "x", "parent_id": theirs["id"]}, headers=alice.headers),
        client.patch(
            f"{GOALS}/{mine['id']}", json={"parent_id": theirs["id"]}, headers=alice.headers
        ),
        client.put(
            f"{GOALS}/{mine['id']}", json=_full(parent_id=theirs["id"]), headers=alice.headers
        ),
        client.get(GOALS, query_string={"parent": theirs["id"]}, headers=alice.headers),
        client.post(
            f"{GOALS}/import?parent_id={theirs['id']}", json={"name": "x"}, headers=alice.headers
        ),
        client.post(f"{API}/trash/{theirs['id']}/restore", headers=alice.headers),
        client.delete(f"{API}/trash/{theirs['id']}", headers=alice.headers),
    ]
    for resp in attempts:
        assert resp.status_code == 404, (resp.request.method, resp.request.path, resp.status_code)
        if resp.request.method != "HEAD":
            assert_problem(resp, 404)
    # the same answer as for a goal that does not exist at all
    missing = client.get(f"{GOALS}/987654", headers=alice.headers).get_json()
    shown = client.get(url, headers=alice.headers).get_json()
    assert missing["title"] == shown["title"]
    assert missing["type"] == shown["type"]
    assert snapshot(client.application, bob.id) == before
    assert _get(client, alice, mine["id"])["parent_id"] is None
    assert _get(client, bob, theirs["id"])["name"] == "bob's secret"
