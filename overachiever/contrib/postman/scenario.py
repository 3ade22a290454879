"""The scenario of the Postman collection: every call in the order that passes against a server
loaded with `overachiever demo`, with the status each must answer and the checks it runs.

Requests that create something save its id in a collection variable for later requests; the
names of this run are made unique by the `run` variable that PRE_REQUEST sets.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal

Auth = Literal["token", "user", "basic", "none"]


@dataclass(frozen=True, slots=True)
class Raw:
    """A variable put into a JSON body unquoted (an id: `"parent_id": {{goal_id}}`)."""

    name: str


@dataclass(slots=True)
class Call:
    """One request of the scenario and the status it must answer."""

    method: str
    path: str  # with OpenAPI {param}s for v2, else the literal path
    status: int
    name: str = ""  # v2 calls default to the operation's summary
    params: dict[str, str] = field(default_factory=dict)  # path parameters' values
    query: dict[str, str] = field(default_factory=dict)
    json: Any = None
    form: dict[str, str] | None = None
    auth: Auth = "token"
    save: dict[str, str] = field(default_factory=dict)  # variable -> JS expression on `body`
    checks: list[str] = field(default_factory=list)  # extra pm.test lines
    v2: bool = True
    description: str = ""


@dataclass(slots=True)
class Folder:
    """A named group of calls, run in order."""

    name: str
    description: str
    calls: list[Call]


PROBLEM_CHECK = (
    'pm.test("an RFC 9457 problem", function () {'
    ' pm.expect(pm.response.headers.get("Content-Type")).to.include("application/problem+json");'
    " pm.expect(pm.response.json().status).to.eql(pm.response.code); });"
)
FAILURE_CHECK = (
    'pm.test("the FAILURE acknowledgement", function () {'
    ' pm.expect(pm.response.json()).to.include({code: 1, message: "FAILURE"}); });'
)
SUCCESS_CHECK = (
    'pm.test("the SUCCESS acknowledgement", function () {'
    ' pm.expect(pm.response.json()).to.include({code: 0, message: "SUCCESS"}); });'
)


def _test(title: str, actual: str, expected: str) -> str:
    """A pm.test that `actual` (JS on the body, `b`) deeply equals `expected` (JS)."""
    return (
        f'pm.test("{title}", function () {{ const b = pm.response.json();'
        f" pm.expect({actual}).to.eql({expected}); }});"
    )


def _var(name: str) -> str:
    """JS for a collection variable that holds an id, as a number."""
    return f'Number(pm.collectionVariables.get("{name}"))'


# Run once, before the first request: a suffix that makes this run's names unique, and
# timestamps relative to now (a goal cannot end before it starts).
PRE_REQUEST = [
    'if (!pm.collectionVariables.get("run")) {',
    '    pm.collectionVariables.set("run", Date.now().toString(36) +'
    " Math.floor(Math.random() * 1e6).toString(36));",
    "}",
    'pm.collectionVariables.set("later", new Date(Date.now() + 3600e3).toISOString());',
    'pm.collectionVariables.set("earlier", new Date(Date.now() - 86400e3).toISOString());',
    'pm.collectionVariables.set("recently", new Date(Date.now() - 60e3).toISOString());',
]


def scenario() -> list[Folder]:
    """Every call in the order that makes the whole collection pass against demo data."""
    goal = {"goal_id": "{{goal_id}}"}
    child = {"goal_id": "{{child_id}}"}
    new_user = {"ref": "{{new_user_id}}"}
    book = {"goal_id": "{{book_id}}"}
    chapter = {"goal_id": "{{chapter_id}}"}
    rename_op = {"operation_id": "{{rename_op}}"}
    burnt = {"goal_id": "{{burnup_id}}"}
    item = {
        "name": "Simone Giertz {{run}}",
        "mail": "giertz-{{run}}@shittyrobots.loc",
    }
    return [
        Folder(
            "Health",
            "Probes for load balancers: no authentication needed.",
            [
                Call("GET", "/healthz", 200, auth="none"),
                Call("GET", "/readyz", 200, auth="none"),
            ],
        ),
        Folder(
            "API v2: users and tokens",
            "Sign up, sign in with HTTP Basic for a token, manage the account, then delete it.",
            [
                Call(
                    "POST",
                    "/api/v2/users",
                    201,
                    json={
                        "name": "postman {{run}}",
                        "email": "postman-{{run}}@example.com",
                        "password": "postman password",
                    },
                    save={"new_user_id": "body.id"},
                ),
                Call(
                    "POST",
                    "/api/v2/tokens",
                    201,
                    auth="basic",
                    json={"name": "postman"},
                    save={"user_token": "body.token", "user_token_id": "body.id"},
                ),
                Call(
                    "GET",
                    "/api/v2/users/{ref}",
                    200,
                    name="Read yourself",
                    params={"ref": "self"},
                    auth="user",
                ),
                Call("GET", "/api/v2/users/{ref}", 200, params=new_user),
                Call("GET", "/api/v2/users", 200, query={"q": "postman", "limit": "10"}),
                Call(
                    "PATCH",
                    "/api/v2/users/{ref}",
                    200,
                    params=new_user,
                    json={"email": "postman-{{run}}@example.org"},
                ),
                Call(
                    "PUT",
                    "/api/v2/users/{ref}",
                    200,
                    params=new_user,
                    json={"name": "postman {{run}}", "email": "postman-{{run}}@example.net"},
                ),
                Call("GET", "/api/v2/tokens", 200, auth="user"),
                Call(
                    "DELETE",
                    "/api/v2/tokens/{token_id}",
                    204,
                    params={"token_id": "{{user_token_id}}"},
                    auth="user",
                ),
                Call(
                    "GET",
                    "/api/v2/users/{ref}",
                    401,
                    name="A revoked token is refused",
                    params={"ref": "self"},
                    auth="user",
                    checks=[PROBLEM_CHECK],
                ),
                Call("DELETE", "/api/v2/users/{ref}", 204, params=new_user),
                Call(
                    "GET",
                    "/api/v2/users/{ref}",
                    404,
                    name="A deleted user is gone",
                    params=new_user,
                    checks=[PROBLEM_CHECK],
                ),
            ],
        ),
        Folder(
            "API v2: goals",
            "A goal, a sub-goal and an imported tree; reads, changes, completion and refusals.",
            [
                Call(
                    "POST",
                    "/api/v2/goals",
                    201,
                    json={
                        "name": "Postman run {{run}}",
                        "description": "made by the Postman collection",
                    },
                    save={"goal_id": "body.id"},
                ),
                Call(
                    "POST",
                    "/api/v2/goals",
                    201,
                    name="Create a sub-goal",
                    json={"name": "Child", "parent_id": Raw("goal_id")},
                    save={"child_id": "body.id"},
                ),
                Call(
                    "POST",
                    "/api/v2/goals/import",
                    201,
                    query={"parent_id": "{{goal_id}}"},
                    json={
                        "name": "Imported",
                        "children": [{"name": "Leaf A"}, {"name": "Leaf B", "end": "{{later}}"}],
                    },
                    save={"import_id": "body.ids[0]"},
                ),
                Call(
                    "GET",
                    "/api/v2/goals",
                    200,
                    query={"parent": "{{goal_id}}", "status": "all", "sort": "name"},
                    checks=[
                        'pm.test("two children", function () {'
                        " pm.expect(pm.response.json().total).to.eql(2); });"
                    ],
                ),
                Call("GET", "/api/v2/goals/tree", 200, query={"status": "all"}),
                Call("GET", "/api/v2/goals/{goal_id}", 200, params=goal),
                Call(
                    "GET",
                    "/api/v2/goals/{goal_id}/tree",
                    200,
                    params=goal,
                    query={"format": "flat"},
                ),
                Call(
                    "PATCH",
                    "/api/v2/goals/{goal_id}",
                    200,
                    name="Complete a goal",
                    params=child,
                    json={"end": "{{later}}"},
                ),
                Call(
                    "PUT",
                    "/api/v2/goals/{goal_id}",
                    200,
                    params=child,
                    json={
                        "name": "Child",
                        "description": "replaced",
                        "parent_id": Raw("goal_id"),
                        "start": "{{earlier}}",
                        "end": None,
                        "due": "{{later}}",
                    },
                ),
                Call(
                    "PATCH",
                    "/api/v2/goals/{goal_id}",
                    409,
                    name="A move under itself is refused",
                    params={"goal_id": "{{import_id}}"},
                    json={"parent_id": Raw("import_id")},
                    checks=[PROBLEM_CHECK],
                ),
                Call(
                    "POST",
                    "/api/v2/goals",
                    409,
                    name="A sibling's name is refused",
                    json={"name": "Child", "parent_id": Raw("goal_id")},
                    checks=[PROBLEM_CHECK],
                ),
                Call(
                    "POST",
                    "/api/v2/goals",
                    422,
                    name="An unknown field is refused",
                    json={"name": "x", "owner_id": 1},
                    checks=[PROBLEM_CHECK],
                ),
            ],
        ),
        Folder(
            "API v2: trash",
            "Delete to the trash, restore with the same ids, delete and purge.",
            [
                Call("DELETE", "/api/v2/goals/{goal_id}", 204, params=child),
                Call("GET", "/api/v2/trash", 200),
                Call("POST", "/api/v2/trash/{goal_id}/restore", 200, params=child),
                Call(
                    "DELETE",
                    "/api/v2/goals/{goal_id}",
                    204,
                    name="Move the whole tree to the trash",
                    params=goal,
                ),
                Call("DELETE", "/api/v2/trash/{goal_id}", 204, params=goal),
                Call(
                    "GET",
                    "/api/v2/goals/{goal_id}",
                    404,
                    name="A purged goal is gone",
                    params=goal,
                    checks=[PROBLEM_CHECK],
                ),
            ],
        ),
        Folder(
            "API v2: history",
            "Every change is recorded: a goal's events, operations, undo and redo (an undo of "
            "the undo), the tree as it was at an instant, the changes feed and its cursor.",
            [
                Call(
                    "POST",
                    "/api/v2/goals",
                    201,
                    name="Create a goal to follow",
                    json={"name": "History {{run}}"},
                    save={"book_id": "body.id"},
                ),
                Call(
                    "GET",
                    "/api/v2/goals/{goal_id}/history",
                    200,
                    name="The first event of a goal",
                    params=book,
                    checks=[_test("its creation", "b.items[0].kind", '"created"')],
                    save={"book_at": "body.items[0].at"},
                ),
                Call(
                    "POST",
                    "/api/v2/goals",
                    201,
                    name="Create a goal after that instant",
                    json={"name": "Chapter", "parent_id": Raw("book_id")},
                    save={"chapter_id": "body.id"},
                ),
                Call(
                    "PATCH",
                    "/api/v2/goals/{goal_id}",
                    200,
                    name="Rename a goal",
                    params=chapter,
                    json={"name": "Chapter one"},
                ),
                Call(
                    "GET",
                    "/api/v2/goals/{goal_id}/history",
                    200,
                    params=chapter,
                    checks=[
                        _test("two events, newest first", "b.total", "2"),
                        _test("the rename", "b.items[0].kind", '"updated"'),
                        _test(
                            "its changes",
                            "b.items[0].changes",
                            '{name: ["Chapter", "Chapter one"]}',
                        ),
                    ],
                    save={"rename_op": "body.items[0].operation_id"},
                ),
                Call(
                    "GET",
                    "/api/v2/operations",
                    200,
                    query={"limit": "5"},
                    checks=[
                        _test(
                            "the rename first",
                            "b.items[0].id",
                            _var("rename_op"),
                        ),
                        _test("an update", "b.items[0].kind", '"update"'),
                    ],
                ),
                Call(
                    "GET",
                    "/api/v2/operations/{operation_id}",
                    200,
                    params=rename_op,
                    checks=[_test("not undone yet", "b.undone_by", "null")],
                ),
                Call(
                    "POST",
                    "/api/v2/operations/{operation_id}/undo",
                    200,
                    name="Undo the rename",
                    params=rename_op,
                    checks=[
                        _test(
                            "an undo of the rename",
                            "b.operation.undoes",
                            _var("rename_op"),
                        )
                    ],
                    save={"undo_op": "body.operation.id"},
                ),
                Call(
                    "GET",
                    "/api/v2/goals/{goal_id}",
                    200,
                    name="The old name is back",
                    params=chapter,
                    checks=[_test("the name before the rename", "b.name", '"Chapter"')],
                ),
                Call(
                    "POST",
                    "/api/v2/operations/{operation_id}/undo",
                    409,
                    name="Undoing twice is refused",
                    params=rename_op,
                    checks=[
                        PROBLEM_CHECK,
                        _test(
                            "already undone",
                            "b.type",
                            '"urn:overachiever:problem:already-undone"',
                        ),
                        _test("by the undo", "b.undone_by", _var("undo_op")),
                    ],
                ),
                Call(
                    "POST",
                    "/api/v2/operations/{operation_id}/undo",
                    200,
                    name="Undo the undo: a redo",
                    params={"operation_id": "{{undo_op}}"},
                    checks=[
                        _test(
                            "an undo of the undo",
                            "b.operation.undoes",
                            _var("undo_op"),
                        )
                    ],
                ),
                Call(
                    "GET",
                    "/api/v2/goals/{goal_id}",
                    200,
                    name="The rename is back",
                    params=chapter,
                    checks=[_test("the new name", "b.name", '"Chapter one"')],
                ),
                Call(
                    "GET",
                    "/api/v2/goals/{goal_id}",
                    404,
                    name="A goal as of before it existed",
                    params=chapter,
                    query={"as_of": "{{book_at}}"},
                    checks=[PROBLEM_CHECK],
                ),
                Call(
                    "GET",
                    "/api/v2/goals/tree",
                    200,
                    name="The forest as it was",
                    query={"as_of": "{{book_at}}", "format": "flat"},
                    checks=[
                        'pm.test("the goal then, not the one made later", function () {'
                        " const ids = pm.response.json().items.map(function (g) { return g.id; });"
                        f" pm.expect(ids).to.include({_var('book_id')});"
                        f" pm.expect(ids).to.not.include({_var('chapter_id')}); }});"
                    ],
                ),
                Call(
                    "GET",
                    "/api/v2/changes",
                    200,
                    name="The changes feed, from the start",
                    query={"limit": "2"},
                    checks=[
                        _test("a full page", "b.items.length", "2"),
                        _test("more to come", "b.more", "true"),
                    ],
                    save={"feed_cursor": "body.cursor"},
                ),
                Call(
                    "GET",
                    "/api/v2/changes",
                    200,
                    name="The changes feed, after a cursor",
                    query={"after": "{{feed_cursor}}", "limit": "500"},
                    checks=[
                        _test("to the end", "b.more", "false"),
                        'pm.test("oldest first, ending with the redo", function () {'
                        " const items = pm.response.json().items;"
                        " for (let i = 1; i < items.length; i++)"
                        " { pm.expect(items[i].id).to.be.above(items[i - 1].id); }"
                        " const last = items[items.length - 1];"
                        f" pm.expect(last.goal_id).to.eql({_var('chapter_id')});"
                        ' pm.expect(last.changes).to.eql({name: ["Chapter", "Chapter one"]}); });',
                    ],
                ),
                Call(
                    "GET",
                    "/api/v2/changes",
                    422,
                    name="A forged cursor is refused",
                    query={"after": "{{feed_cursor}}x"},
                    checks=[PROBLEM_CHECK],
                ),
            ],
        ),
        Folder(
            "API v2: completion rules and dry runs",
            "A goal's rule says what completing it or its children does: cascade completes its "
            "sub-goals, auto completes itself with them, strict refuses while one is open. "
            "dry_run=true shows what a change would do and stores nothing.",
            [
                Call(
                    "POST",
                    "/api/v2/goals",
                    201,
                    name="Create a cascade goal",
                    json={"name": "Cascade {{run}}", "completion": "cascade"},
                    checks=[_test("its rule", "b.completion", '"cascade"')],
                    save={"cascade_id": "body.id"},
                ),
                Call(
                    "POST",
                    "/api/v2/goals",
                    201,
                    name="Create an auto sub-goal",
                    json={
                        "name": "Auto",
                        "parent_id": Raw("cascade_id"),
                        "completion": "auto",
                    },
                    save={"auto_id": "body.id"},
                ),
                Call(
                    "POST",
                    "/api/v2/goals",
                    201,
                    name="Create a step under the auto goal",
                    json={"name": "Step", "parent_id": Raw("auto_id")},
                    save={"step_id": "body.id"},
                ),
                Call(
                    "PATCH",
                    "/api/v2/goals/{goal_id}",
                    409,
                    name="An auto goal's end is its children's",
                    params={"goal_id": "{{auto_id}}"},
                    json={"end": "{{later}}"},
                    checks=[
                        PROBLEM_CHECK,
                        _test(
                            "a rule conflict",
                            "b.type",
                            '"urn:overachiever:problem:rule-conflict"',
                        ),
                    ],
                ),
                Call(
                    "PATCH",
                    "/api/v2/goals/{goal_id}",
                    200,
                    name="What completing the step would do",
                    params={"goal_id": "{{step_id}}"},
                    query={"dry_run": "true"},
                    json={"end": "{{later}}"},
                    checks=[
                        _test("a dry run", "b.dry_run", "true"),
                        'pm.test("the step and its auto parent complete", function () {'
                        " const ends = pm.response.json().changes"
                        '.filter(function (c) { return c.field === "end"; })'
                        ".map(function (c) { return c.goal_id; });"
                        f" pm.expect(ends).to.have.members([{_var('step_id')},"
                        f" {_var('auto_id')}]); }});",
                    ],
                ),
                Call(
                    "GET",
                    "/api/v2/goals/{goal_id}",
                    200,
                    name="A dry run stores nothing",
                    params={"goal_id": "{{step_id}}"},
                    checks=[_test("still open", "b.end", "null")],
                ),
                Call(
                    "PATCH",
                    "/api/v2/goals/{goal_id}",
                    200,
                    name="Complete the cascade goal",
                    params={"goal_id": "{{cascade_id}}"},
                    json={"end": "{{later}}"},
                ),
                Call(
                    "GET",
                    "/api/v2/goals/{goal_id}",
                    200,
                    name="Its sub-goals are complete",
                    params={"goal_id": "{{step_id}}"},
                    checks=[
                        'pm.test("completed with it", function () {'
                        " pm.expect(pm.response.json().end).to.not.eql(null); });"
                    ],
                ),
                Call(
                    "PATCH",
                    "/api/v2/goals/{goal_id}",
                    422,
                    name="dry_run is true or false",
                    params={"goal_id": "{{step_id}}"},
                    query={"dry_run": "yes"},
                    json={"name": "Step"},
                    checks=[PROBLEM_CHECK],
                ),
            ],
        ),
        Folder(
            "API v2: progress",
            "A burn-up series of a goal and of the whole forest, with the forecast of when its "
            "leaves will all be done; bad buckets and spans are refused.",
            [
                Call(
                    "POST",
                    "/api/v2/goals",
                    201,
                    name="Create a goal to chart",
                    json={"name": "Burn-up {{run}}", "start": "{{earlier}}"},
                    save={"burnup_id": "body.id"},
                ),
                Call(
                    "POST",
                    "/api/v2/goals",
                    201,
                    name="A leaf done a minute ago",
                    json={
                        "name": "Done",
                        "parent_id": Raw("burnup_id"),
                        "start": "{{earlier}}",
                        "end": "{{recently}}",
                    },
                ),
                Call(
                    "POST",
                    "/api/v2/goals",
                    201,
                    name="A leaf still open",
                    json={"name": "Open", "parent_id": Raw("burnup_id"), "start": "{{earlier}}"},
                ),
                Call(
                    "GET",
                    "/api/v2/goals/{goal_id}/burnup",
                    200,
                    params=burnt,
                    checks=[
                        _test("daily buckets", "b.bucket", '"day"'),
                        _test(
                            "two leaves, one done, at the end",
                            "[b.series[b.series.length - 1].leaves,"
                            " b.series[b.series.length - 1].done]",
                            "[2, 1]",
                        ),
                        _test(
                            "a forecast",
                            "Object.keys(b.forecast).sort()",
                            '["done_at", "high", "low", "rate"]',
                        ),
                    ],
                ),
                Call(
                    "GET",
                    "/api/v2/goals/burnup",
                    200,
                    query={"bucket": "week"},
                    checks=[_test("weekly buckets", "b.bucket", '"week"')],
                ),
                Call(
                    "GET",
                    "/api/v2/goals/burnup",
                    422,
                    name="A bucket other than day or week is refused",
                    query={"bucket": "month"},
                    checks=[PROBLEM_CHECK],
                ),
                Call(
                    "GET",
                    "/api/v2/goals/{goal_id}/burnup",
                    422,
                    name="A span that starts after it ends is refused",
                    params=burnt,
                    query={"from": "{{recently}}", "to": "{{earlier}}"},
                    checks=[PROBLEM_CHECK],
                ),
            ],
        ),
        Folder(
            "API v2: export",
            "The whole forest or one goal's subtree as a document: the JSON export, a Markdown "
            "task list, OPML, CSV or iCalendar, sent as an attachment.",
            [
                Call(
                    "GET",
                    "/api/v2/export",
                    200,
                    name="The whole forest as the JSON export document",
                    query={"format": "json"},
                    checks=[
                        _test("the export document", "[b.format, b.version]", '["overachiever", 1]')
                    ],
                ),
                Call(
                    "GET",
                    "/api/v2/export",
                    200,
                    name="One goal's subtree as a Markdown task list",
                    query={"format": "markdown", "root": "{{burnup_id}}"},
                    checks=[
                        'pm.test("a task list", function () {'
                        " pm.expect(pm.response.text()).to.match(/^- \\[[ x]\\] /); });",
                        'pm.test("an attachment", function () {'
                        ' pm.expect(pm.response.headers.get("Content-Disposition"))'
                        '.to.include("attachment"); });',
                    ],
                ),
                Call(
                    "GET",
                    "/api/v2/export",
                    200,
                    name="OPML for outliners",
                    query={"format": "opml", "root": "{{burnup_id}}"},
                ),
                Call(
                    "GET",
                    "/api/v2/export",
                    200,
                    name="CSV for spreadsheets",
                    query={"format": "csv"},
                ),
                Call(
                    "GET",
                    "/api/v2/export",
                    200,
                    name="iCalendar: a VTODO per goal",
                    query={"format": "ics", "root": "{{burnup_id}}"},
                ),
                Call(
                    "GET",
                    "/api/v2/export",
                    422,
                    name="An unknown format is refused",
                    query={"format": "pdf"},
                    checks=[PROBLEM_CHECK],
                ),
            ],
        ),
        Folder(
            "API v2: sharing",
            "Give a goal and its subtree to another user as viewer or editor, list its shares, "
            "and revoke them. (The demo's user-3 is the other user.)",
            [
                Call(
                    "POST",
                    "/api/v2/goals",
                    201,
                    name="Create a goal to share",
                    json={"name": "Shared {{run}}"},
                    save={"shared_goal_id": "body.id"},
                ),
                Call(
                    "POST",
                    "/api/v2/goals/{goal_id}/shares",
                    201,
                    params={"goal_id": "{{shared_goal_id}}"},
                    json={"user": "user-3", "role": "viewer"},
                    save={"share_id": "body.id"},
                    checks=[_test("a viewer", "b.role", '"viewer"')],
                ),
                Call(
                    "POST",
                    "/api/v2/goals/{goal_id}/shares",
                    200,
                    name="Sharing again changes the role",
                    params={"goal_id": "{{shared_goal_id}}"},
                    json={"user": "user-3", "role": "editor"},
                    checks=[_test("now an editor", "b.role", '"editor"')],
                ),
                Call(
                    "GET",
                    "/api/v2/goals/{goal_id}/shares",
                    200,
                    params={"goal_id": "{{shared_goal_id}}"},
                    checks=[_test("one share", "b.items.length", "1")],
                ),
                Call("GET", "/api/v2/shared", 200),
                Call(
                    "DELETE",
                    "/api/v2/goals/{goal_id}/shares/{share_id}",
                    204,
                    params={"goal_id": "{{shared_goal_id}}", "share_id": "{{share_id}}"},
                ),
                Call(
                    "POST",
                    "/api/v2/goals/{goal_id}/shares",
                    422,
                    name="Sharing with yourself is refused",
                    params={"goal_id": "{{shared_goal_id}}"},
                    json={"user": "user-1", "role": "editor"},
                    checks=[PROBLEM_CHECK],
                ),
            ],
        ),
        Folder(
            "API v2: calendar feeds",
            "A secret URL serving your goals as iCalendar to calendar apps, which send no "
            "credentials: shown once when made, listed without it, revoked by id.",
            [
                Call(
                    "POST",
                    "/api/v2/calendar-feeds",
                    201,
                    json={"name": "Phone {{run}}"},
                    save={"feed_id": "body.id", "feed_secret": "body.url.slice(10, -4)"},
                    checks=[
                        'pm.test("the URL, shown this once", function () {'
                        " pm.expect(pm.response.json().url).to.match("
                        "/^\\/calendar\\/[A-Za-z0-9_-]+\\.ics$/); });"
                    ],
                ),
                Call(
                    "GET",
                    "/api/v2/calendar-feeds",
                    200,
                    checks=[
                        'pm.test("listed without its URL", function () {'
                        ' pm.expect(pm.response.json().items[0]).to.not.have.property("url");'
                        " });"
                    ],
                ),
                Call(
                    "GET",
                    "/calendar/{secret}.ics",
                    200,
                    name="Fetch the feed as a calendar app does, with no credentials",
                    params={"secret": "{{feed_secret}}"},
                    auth="none",
                    checks=[
                        'pm.test("iCalendar", function () {'
                        ' pm.expect(pm.response.headers.get("Content-Type"))'
                        '.to.include("text/calendar");'
                        ' pm.expect(pm.response.text()).to.include("BEGIN:VTODO"); });'
                    ],
                ),
                Call(
                    "DELETE",
                    "/api/v2/calendar-feeds/{feed_id}",
                    204,
                    params={"feed_id": "{{feed_id}}"},
                ),
                Call(
                    "GET",
                    "/calendar/{secret}.ics",
                    404,
                    name="A revoked feed is not found",
                    params={"secret": "{{feed_secret}}"},
                    auth="none",
                    checks=[PROBLEM_CHECK],
                ),
            ],
        ),
        Folder(
            "v1.0: the article's API",
            "Goals by name, form or JSON bodies. The demo token is user-1's, an administrator, "
            "who may act for user-3.",
            [
                Call(
                    "GET",
                    "/v1.0/goals",
                    200,
                    name="All goals by user and in hierarchy",
                    checks=[
                        'pm.test("the article\'s tree", function () {'
                        ' pm.expect(pm.response.json()["user-1"]["goal-1"]["goal-3"])'
                        '.to.have.all.keys("goal-4", "goal-5", "goal-6"); });'
                    ],
                    v2=False,
                ),
                Call(
                    "POST",
                    "/v1.0/goals",
                    200,
                    name="Add a goal (form)",
                    form={"user": "user-3", "name": "v1 {{run}}", "description": "from a form"},
                    v2=False,
                ),
                Call(
                    "POST",
                    "/v1.0/goals",
                    200,
                    name="Add a nested goal (JSON)",
                    json={
                        "user": "user-3",
                        "name": "v1 child {{run}}",
                        "parent_name": "v1 {{run}}",
                    },
                    v2=False,
                ),
                Call(
                    "PUT",
                    "/v1.0/goals",
                    200,
                    name="Complete a goal",
                    form={"user": "user-3", "name": "v1 child {{run}}"},
                    v2=False,
                ),
                Call(
                    "PUT",
                    "/v1.0/goals",
                    404,
                    name="An unknown name is a 404",
                    form={"user": "user-3", "name": "no such goal {{run}}"},
                    checks=[PROBLEM_CHECK],
                    v2=False,
                ),
                Call(
                    "POST",
                    "/v1.0/goals",
                    400,
                    name="A missing field is a 400",
                    form={"user": "user-3"},
                    checks=[PROBLEM_CHECK],
                    v2=False,
                ),
                Call("GET", "/v1.0/users", 200, name="Users you may see", v2=False),
                Call(
                    "POST",
                    "/v1.0/users",
                    200,
                    name="Create a user (admins)",
                    form={
                        "name": "v1 user {{run}}",
                        "email": "v1-{{run}}@example.com",
                        "password": "v1 password",
                    },
                    v2=False,
                ),
            ],
        ),
        Folder(
            "User directory (/api/user)",
            "For administrators: item bodies, bulk lists that are all or nothing, and "
            "code/message acknowledgements.",
            [
                Call(
                    "POST",
                    "/api/user",
                    200,
                    name="Create a user",
                    json={"item": item},
                    save={"dir_id": "body.ids[0]"},
                    checks=[SUCCESS_CHECK],
                    v2=False,
                ),
                Call(
                    "POST",
                    "/api/user",
                    200,
                    name="Create users in bulk",
                    json={
                        "item": [
                            {"name": "bulk A {{run}}", "mail": "bulk-a-{{run}}@example.com"},
                            {"name": "bulk B {{run}}", "mail": "bulk-b-{{run}}@example.com"},
                        ]
                    },
                    save={"dir_a": "body.ids[0]", "dir_b": "body.ids[1]"},
                    checks=[SUCCESS_CHECK],
                    v2=False,
                ),
                Call(
                    "POST",
                    "/api/user",
                    409,
                    name="A bulk list with a clash creates nothing",
                    json={
                        "item": [
                            {"name": "bulk C {{run}}", "mail": "bulk-c-{{run}}@example.com"},
                            {"name": "bulk A {{run}}", "mail": "bulk-d-{{run}}@example.com"},
                        ]
                    },
                    checks=[FAILURE_CHECK],
                    v2=False,
                ),
                Call("GET", "/api/user/0", 200, name="List every user", v2=False),
                Call("GET", "/api/user", 200, name="List every user (no id)", v2=False),
                Call(
                    "GET",
                    "/api/user/{{dir_id}}",
                    200,
                    name="Show a user",
                    checks=[
                        'pm.test("its item", function () {'
                        " pm.expect(pm.response.json().results[0].mail)"
                        f'.to.eql(pm.variables.replaceIn("{item["mail"]}")); }});'
                    ],
                    v2=False,
                ),
                Call("HEAD", "/api/user/{{dir_id}}", 200, name="Headers of a user", v2=False),
                Call(
                    "PUT",
                    "/api/user/{{dir_id}}",
                    200,
                    name="Update a user",
                    json={
                        "item": {
                            "name": "Simone G {{run}}",
                            "mail": "simone-{{run}}@shittyrobots.loc",
                        }
                    },
                    checks=[SUCCESS_CHECK],
                    v2=False,
                ),
                Call(
                    "PATCH",
                    "/api/user/{{dir_id}}",
                    200,
                    name="Change one attribute",
                    json={"item": {"mail": "giertz-{{run}}@robots.example"}},
                    checks=[SUCCESS_CHECK],
                    v2=False,
                ),
                Call(
                    "DELETE",
                    "/api/user/{{dir_id}}",
                    200,
                    name="Delete a user",
                    checks=[SUCCESS_CHECK],
                    v2=False,
                ),
                Call("DELETE", "/api/user/{{dir_a}}", 200, name="Delete bulk user A", v2=False),
                Call("DELETE", "/api/user/{{dir_b}}", 200, name="Delete bulk user B", v2=False),
                Call(
                    "GET",
                    "/api/user/{{dir_id}}",
                    404,
                    name="A deleted user is gone",
                    checks=[FAILURE_CHECK],
                    v2=False,
                ),
            ],
        ),
    ]
