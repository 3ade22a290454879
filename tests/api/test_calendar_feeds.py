"""Calendar feeds: secret URLs, shown once and kept hashed, serving iCalendar without a login."""

from __future__ import annotations

from typing import Any

import pytest
from icalendar import Calendar
from sqlalchemy import text

from overachiever.calendars import service
from overachiever.core.db import db
from overachiever.tokens.service import digest
from overachiever.web.limits import limiter
from tests.support.goals import API
from tests.support.problems import assert_problem

FEEDS = f"{API}/calendar-feeds"

# Long enough to be folded, with characters of 2, 3 and 4 octets that a fold must not split.
LONG_NAME = "Rénover la cuisine — 厨房 🏠 " * 6
LONG_DESCRIPTION = "Ligne un, avec des virgules; des points-virgules\net une deuxième ligne 🚀" * 8


@pytest.fixture
def forest(client: Any, alice: Any) -> dict[str, int]:
    """Alice's goals: a long-named parent, open with a due date, and a child that is done."""
    body = {
        "name": LONG_NAME.strip(),
        "description": LONG_DESCRIPTION,
        "start": "2024-01-01T00:00:00Z",
        "due": "2024-03-01T12:00:00Z",
        "children": [
            {"name": "Buy tiles", "start": "2024-01-02T00:00:00Z", "end": "2024-01-05T00:00:00Z"}
        ],
    }
    resp = client.post(f"{API}/goals/import", json=body, headers=alice.headers)
    assert resp.status_code == 201, resp.get_json()
    parent, child = resp.get_json()["ids"]
    return {"parent": parent, "child": child}


def _create(client: Any, account: Any, **body: Any) -> Any:
    return client.post(FEEDS, json=body or None, headers=account.headers)


def _fetch(client: Any, url: str) -> Any:
    return client.get(url)  # no Authorization: calendar apps cannot send one


def test_create_shows_the_url_once_and_lists_without_it(client, alice):
    resp = _create(client, alice, name="Phone")
    assert resp.status_code == 201
    created = resp.get_json()
    assert set(created) == {"id", "name", "url", "created_at"}
    assert created["name"] == "Phone"
    secret = created["url"].removeprefix("/calendar/").removesuffix(".ics")
    assert created["url"] == f"/calendar/{secret}.ics"
    assert len(secret) >= 40
    listed = client.get(FEEDS, headers=alice.headers).get_json()["items"]
    assert listed == [
        {
            "id": created["id"],
            "name": "Phone",
            "created_at": created["created_at"],
            "last_used_at": None,
        }
    ]
    assert secret not in client.get(FEEDS, headers=alice.headers).get_data(as_text=True)


def test_the_body_is_optional_and_names_are_checked(client, alice):
    resp = client.post(FEEDS, headers=alice.headers)
    assert resp.status_code == 201
    assert resp.get_json()["name"] == "calendar"
    assert_problem(_create(client, alice, name=""), 422)
    assert_problem(_create(client, alice, name="x" * 101), 422)
    assert_problem(_create(client, alice, url="/calendar/mine.ics"), 422)
    assert_problem(client.post(FEEDS, data="name", headers=alice.headers), 415)


def test_the_secret_is_stored_only_as_its_digest(app, client, alice):
    created = _create(client, alice).get_json()
    secret = created["url"].removeprefix("/calendar/").removesuffix(".ics")
    with app.app_context():
        rows = db.session.execute(text("SELECT * FROM calendar_feeds")).mappings().all()
        db.session.remove()
    assert len(rows) == 1
    assert rows[0]["digest"] == digest(secret)
    assert secret not in repr([dict(r) for r in rows])


def test_the_feed_serves_the_owners_goals_as_icalendar(client, alice, forest):
    url = _create(client, alice).get_json()["url"]
    resp = _fetch(client, url)
    assert resp.status_code == 200
    assert resp.headers["Content-Type"] == "text/calendar; charset=utf-8"
    assert "attachment" not in resp.headers.get("Content-Disposition", "")
    assert "max-age=300" in resp.headers["Cache-Control"]
    assert "private" in resp.headers["Cache-Control"]
    calendar = Calendar.from_ical(resp.data)
    todos = {str(todo["SUMMARY"]): todo for todo in calendar.walk("VTODO")}
    assert set(todos) == {LONG_NAME.strip(), "Buy tiles"}
    parent, child = todos[LONG_NAME.strip()], todos["Buy tiles"]
    assert str(parent["DESCRIPTION"]) == LONG_DESCRIPTION
    assert parent["DUE"].dt.isoformat() == "2024-03-01T12:00:00+00:00"
    assert parent["DTSTART"].dt.isoformat() == "2024-01-01T00:00:00+00:00"
    assert str(parent["STATUS"]) == "NEEDS-ACTION"
    assert str(child["STATUS"]) == "COMPLETED"
    assert child["COMPLETED"].dt.isoformat() == "2024-01-05T00:00:00+00:00"
    assert int(child["PERCENT-COMPLETE"]) == 100
    assert str(child["RELATED-TO"]) == str(parent["UID"])
    assert child["RELATED-TO"].params["RELTYPE"] == "PARENT"
    assert parent["UID"] != child["UID"]


def test_every_line_is_folded_to_75_octets_and_ends_in_crlf(client, alice, forest):
    body = _fetch(client, _create(client, alice).get_json()["url"]).data
    assert body.endswith(b"\r\n")
    lines = body.split(b"\r\n")
    assert lines[-1] == b""
    folded = 0
    for line in lines[:-1]:
        assert b"\n" not in line, line
        assert b"\r" not in line, line
        assert len(line) <= 75, (len(line), line)
        line.decode("utf-8")  # a fold never splits a character
        folded += line.startswith(b" ")
    assert folded > 5  # the long name and description were folded, not truncated


def test_the_feed_holds_live_goals_only(client, alice, forest):
    url = _create(client, alice).get_json()["url"]
    resp = client.delete(f"{API}/goals/{forest['parent']}", headers=alice.headers)
    assert resp.status_code == 204
    calendar = Calendar.from_ical(_fetch(client, url).data)
    assert list(calendar.walk("VTODO")) == []


def test_an_empty_forest_is_an_empty_calendar(client, alice):
    resp = _fetch(client, _create(client, alice).get_json()["url"])
    assert resp.status_code == 200
    assert list(Calendar.from_ical(resp.data).walk("VTODO")) == []


def test_a_feed_shows_its_owners_goals_only(client, alice, bob, forest):
    url = _create(client, bob).get_json()["url"]
    resp = _fetch(client, url)
    assert resp.status_code == 200
    assert b"Buy tiles" not in resp.data
    # Bob's token on Alice's feed changes nothing: the URL alone decides.
    alices = _create(client, alice).get_json()["url"]
    resp = client.get(alices, headers=bob.headers)
    assert b"Buy tiles" in resp.data


def test_a_fetch_records_the_last_use(client, alice):
    created = _create(client, alice).get_json()
    assert _fetch(client, created["url"]).status_code == 200
    (listed,) = client.get(FEEDS, headers=alice.headers).get_json()["items"]
    assert listed["last_used_at"] is not None


@pytest.mark.parametrize(
    "path",
    [
        "/calendar/" + "A" * 43 + ".ics",  # well-formed, unknown
        "/calendar/short.ics",
        "/calendar/" + "A" * 200 + ".ics",
        "/calendar/" + "A" * 42 + "%20.ics",
        "/calendar/" + "A" * 43 + ".ICS",
        "/calendar/" + "A" * 43,
    ],
)
def test_an_unknown_secret_is_not_found(client, alice, path):
    _create(client, alice)
    assert_problem(client.get(path), 404)


def test_a_revoked_feed_is_not_found(client, alice, forest):
    created = _create(client, alice).get_json()
    assert _fetch(client, created["url"]).status_code == 200
    assert client.delete(f"{FEEDS}/{created['id']}", headers=alice.headers).status_code == 204
    gone = _fetch(client, created["url"])
    assert_problem(gone, 404)
    assert gone.headers["Cache-Control"] == "no-store"  # no cache keeps the refusal either
    assert client.get(FEEDS, headers=alice.headers).get_json() == {"items": []}
    assert_problem(client.delete(f"{FEEDS}/{created['id']}", headers=alice.headers), 404)


def test_someone_elses_feed_cannot_be_revoked_or_seen(client, alice, bob):
    created = _create(client, alice, name="alice-private").get_json()
    assert_problem(client.delete(f"{FEEDS}/{created['id']}", headers=bob.headers), 404)
    assert "alice-private" not in client.get(FEEDS, headers=bob.headers).get_data(as_text=True)
    assert _fetch(client, created["url"]).status_code == 200


def test_the_api_needs_a_token(client, alice):
    assert_problem(client.get(FEEDS), 401)
    assert_problem(client.post(FEEDS), 401)
    assert_problem(client.delete(f"{FEEDS}/1"), 401)


def test_feeds_per_account_are_capped(client, alice, bob):
    for i in range(service.MAX_FEEDS):
        assert _create(client, alice, name=f"f{i}").status_code == 201
    problem = assert_problem(_create(client, alice), 409)
    assert problem["type"].endswith(":feed-limit")
    assert problem["limit"] == service.MAX_FEEDS
    assert _create(client, bob).status_code == 201  # per account
    first = client.get(FEEDS, headers=alice.headers).get_json()["items"][-1]["id"]
    assert client.delete(f"{FEEDS}/{first}", headers=alice.headers).status_code == 204
    assert _create(client, alice).status_code == 201


def test_fetches_per_client_address_are_limited_with_a_429(app, client, alice):
    app.config["FEED_LIMIT"] = "3/minute"
    with app.app_context():
        limiter.reset()
    url = _create(client, alice).get_json()["url"]
    for _ in range(2):
        assert _fetch(client, url).status_code == 200
    # A wrong secret counts too: guessing costs the same allowance.
    assert_problem(client.get("/calendar/" + "B" * 43 + ".ics"), 404)
    refused = _fetch(client, url)
    assert_problem(refused, 429)
    assert "Retry-After" in refused.headers
    # Another address has its own allowance.
    other = client.get(url, environ_base={"REMOTE_ADDR": "192.0.2.7"})
    assert other.status_code == 200


def test_deleting_the_account_deletes_its_feeds(app, client, alice, bob):
    url = _create(client, bob).get_json()["url"]
    _create(client, alice)
    assert client.delete(f"{API}/users/self", headers=bob.headers).status_code == 204
    assert_problem(_fetch(client, url), 404)
    with app.app_context():
        owners = db.session.execute(text("SELECT user_id FROM calendar_feeds")).scalars().all()
        db.session.remove()
    assert owners == [alice.id]
