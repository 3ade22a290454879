"""The browser UI's files as the app serves them: strict headers, nothing inline, nothing remote."""

from __future__ import annotations

import re
import tomllib
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import pytest

from overachiever.ui.views import STATIC

ROOT = Path(__file__).resolve().parents[2]
STATIC_FILES = sorted(p for p in STATIC.rglob("*") if p.is_file())
_IMPORT = re.compile(r"""^\s*import\s[^;]*?from\s+["']([^"']+)["']""", re.MULTILINE)


class _Page(HTMLParser):
    """Collects what a page loads and anything inline."""

    def __init__(self) -> None:
        super().__init__()
        self.urls: list[str] = []
        self.inline_scripts = 0
        self.style_attributes: list[str] = []
        self.handlers: list[str] = []
        self.style_elements = 0
        self._in_script = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = dict(attrs)
        for name, value in attrs:
            if name == "style":
                self.style_attributes.append(tag)
            if name.startswith("on"):
                self.handlers.append(f"{tag} {name}")
            if name in ("src", "href") and value:
                self.urls.append(value)
        if tag == "script":
            self._in_script = values.get("src") is None
        if tag == "style":
            self.style_elements += 1

    def handle_endtag(self, tag: str) -> None:
        if tag == "script":
            self._in_script = False

    def handle_data(self, data: str) -> None:
        if self._in_script and data.strip():
            self.inline_scripts += 1


def _parse(html: str) -> _Page:
    page = _Page()
    page.feed(html)
    return page


def test_the_page_is_served_at_the_root_with_a_strict_policy(client: Any) -> None:
    resp = client.get("/")
    assert resp.status_code == 200
    assert resp.mimetype == "text/html"
    csp = {d.split()[0]: d.split()[1:] for d in resp.headers["Content-Security-Policy"].split("; ")}
    assert csp["default-src"] == ["'self'"]
    assert csp["script-src"] == ["'self'"]
    assert csp["style-src"] == ["'self'"]
    assert csp["frame-ancestors"] == ["'none'"]
    assert csp["object-src"] == ["'none'"]
    assert resp.headers["X-Content-Type-Options"] == "nosniff"
    assert resp.headers["X-Frame-Options"] == "DENY"
    assert resp.headers["Referrer-Policy"] == "no-referrer"
    assert resp.headers["Cross-Origin-Opener-Policy"] == "same-origin"
    assert "Content-Disposition" not in resp.headers
    assert client.head("/").status_code == 200


def test_the_page_has_nothing_inline_and_loads_only_its_own_files(client: Any) -> None:
    page = _parse(client.get("/").get_data(as_text=True))
    assert page.inline_scripts == 0
    assert page.style_attributes == []
    assert page.style_elements == 0
    assert page.handlers == []
    assets = [u for u in page.urls if not u.startswith("#")]
    assert "/ui/static/js/main.js" in assets
    for url in assets:
        assert url.startswith("/"), url
        assert not url.startswith("//"), url
        resp = client.get(url)
        assert resp.status_code == 200, url
        assert resp.headers["Content-Security-Policy"].startswith("default-src 'self'")
        resp.close()


def test_every_module_import_resolves_to_a_served_file(client: Any) -> None:
    scripts = [p for p in STATIC_FILES if p.suffix == ".js" and p.parent.name == "js"]
    assert scripts
    for script in scripts:
        for target in _IMPORT.findall(script.read_text()):
            assert target.startswith("./"), f"{script.name} imports {target}"
            resolved = (script.parent / target).resolve()
            assert resolved.is_file(), f"{script.name} imports a missing {target}"
        url = "/ui/static/" + script.relative_to(STATIC).as_posix()
        resp = client.get(url)
        assert resp.status_code == 200, url
        assert "javascript" in resp.mimetype
        resp.close()


@pytest.mark.parametrize("path", STATIC_FILES, ids=lambda p: p.relative_to(STATIC).as_posix())
def test_no_file_refers_to_another_host(path: Path) -> None:
    text = path.read_text()
    text = text.replace("http://www.w3.org/2000/svg", "")  # the SVG namespace is a name
    assert not re.search(r"(https?:)?//[a-z0-9.-]+\.[a-z]{2,}", text, re.IGNORECASE), path
    # Markup only enters the page as text: no innerHTML, no eval, no inline handlers.
    if path.suffix == ".js":
        assert "innerHTML" not in text
        assert "eval(" not in text
        assert "new Function" not in text


def test_paths_outside_the_static_folder_are_not_served(client: Any) -> None:
    for path in ("/ui/static/../views.py", "/ui/static/%2e%2e/views.py", "/ui/static/missing.js"):
        resp = client.get(path)
        assert resp.status_code == 404, path
        assert b"import" not in resp.get_data()


def test_the_ui_files_are_package_data() -> None:
    config = tomllib.loads((ROOT / "pyproject.toml").read_text())
    patterns = config["tool"]["setuptools"]["package-data"]["overachiever"]
    assert "ui/static/**/*" in patterns


def test_the_docs_page_starts_swagger_ui_from_a_file(client: Any) -> None:
    resp = client.get("/docs")
    page = _parse(resp.get_data(as_text=True))
    assert page.inline_scripts == 0
    assert page.style_elements == 0
    assert "/docs/assets/overachiever-docs.js" in page.urls
    csp = resp.headers["Content-Security-Policy"]
    assert "script-src 'self'" in csp
    assert "frame-ancestors 'none'" in csp
    script = client.get("/docs/assets/overachiever-docs.js")
    assert script.status_code == 200
    assert b"SwaggerUIBundle" in script.get_data()
    script.close()
    # Swagger UI's own files are still served from the same folder.
    bundle = client.get("/docs/assets/swagger-ui-bundle.js")
    assert bundle.status_code == 200
    bundle.close()
    redirect = client.get("/docs/oauth2-redirect")
    assert _parse(redirect.get_data(as_text=True)).inline_scripts == 0
    assert "Content-Security-Policy" in redirect.headers
