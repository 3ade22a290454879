"""`overachiever export` and `overachiever import`: documents in and out from the command line."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from overachiever.goals import service
from overachiever.users.service import find_by_name


def _users(cli: Any) -> None:
    for name in ("alice", "bob"):
        cli(
            "users",
            "create",
            name,
            "--email",
            f"{name}@example.com",
            "--password",
            "long enough pw",
        )


def _names(api_app: Any, name: str) -> list[str]:
    with api_app.app_context():
        forest = service.forest(owner=find_by_name(name))
        return sorted((row.name for row in forest.rows.values()), key=len, reverse=False)


def test_import_a_markdown_file_then_export_it_back(cli: Any, api_app: Any, tmp_path: Path) -> None:
    _users(cli)
    source = tmp_path / "plans.md"
    source.write_text("- [ ] Trip\n  - [x] Book \\*flights\\*\n  - [ ] Pack\n- [ ] Other\n")
    result = cli("import", "alice", str(source))
    assert "imported 4 goals" in result.output
    out = tmp_path / "out.md"
    result = cli("export", "alice", "--format", "markdown", "-o", str(out))
    assert f"wrote {out}" in result.output
    assert out.read_text() == source.read_text()
    # Without -o, the document goes to stdout.
    assert cli("export", "alice", "--format", "markdown").output == source.read_text()


def test_export_a_subtree_as_json_and_import_it_under_a_parent(
    cli: Any, api_app: Any, tmp_path: Path
) -> None:
    _users(cli)
    source = tmp_path / "tree.csv"
    source.write_text("id,parent_id,name\r\n1,,Top\r\n2,1,Kid\r\n3,2,Grandkid\r\n")
    cli("import", "alice", str(source))
    with api_app.app_context():
        top = service.forest(owner=find_by_name("alice")).roots[0]
        kid = service.forest(owner=find_by_name("alice")).children[top][0]
    doc = json.loads(cli("export", "alice", "--root", str(kid)).output)
    assert doc["goals"][0]["name"] == "Kid"
    path = tmp_path / "kid.json"
    path.write_text(json.dumps(doc))
    cli("import", "bob", str(path))
    assert _names(api_app, "bob") == ["Kid", "Grandkid"]


def test_import_refusals_are_plain_errors(cli: Any, api_app: Any, tmp_path: Path) -> None:
    _users(cli)
    bad = tmp_path / "bad.md"
    bad.write_text("- a\n    - b\n  - c\n")
    result = cli("import", "alice", str(bad), ok=False)
    assert result.exit_code == 1
    assert "line 3" in result.output
    unknown = tmp_path / "notes.txt"
    unknown.write_text("- a\n")
    result = cli("import", "alice", str(unknown), ok=False)
    assert result.exit_code == 2
    assert "--format" in result.output
    assert "imported 1 goals" in cli("import", "alice", str(unknown), "--format", "markdown").output
    result = cli("import", "nobody", str(unknown), "--format", "markdown", ok=False)
    assert result.exit_code == 1
    broken = tmp_path / "broken.json"
    broken.write_text("{")
    result = cli("import", "alice", str(broken), ok=False)
    assert result.exit_code == 1
    assert "not valid JSON" in result.output
    result = cli(
        "import", "alice", str(unknown), "--format", "markdown", "--parent", "999", ok=False
    )
    assert result.exit_code == 1
    # Only the one import that was not refused created anything.
    assert _names(api_app, "alice") == ["a"]


def test_export_refusals_are_plain_errors(cli: Any, api_app: Any) -> None:
    _users(cli)
    result = cli("export", "alice", "--root", "999", ok=False)
    assert result.exit_code == 1
    assert "not found" in result.output
    assert cli("export", "alice", "--format", "pdf", ok=False).exit_code == 2
