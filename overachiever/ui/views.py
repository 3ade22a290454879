"""Serves the browser UI's page and its static files with a strict Content-Security-Policy."""

from __future__ import annotations

from pathlib import Path

from flask import Blueprint, Response, send_from_directory

STATIC = Path(__file__).parent / "static"

# Everything the page loads comes from this origin; nothing inline may run or style the page.
PAGE_CSP = "; ".join(
    [
        "default-src 'self'",
        "script-src 'self'",
        "style-src 'self'",
        "img-src 'self'",
        "connect-src 'self'",
        "font-src 'self'",
        "object-src 'none'",
        "base-uri 'none'",
        "form-action 'self'",
        "frame-ancestors 'none'",
    ]
)
PAGE_HEADERS = {
    "Content-Security-Policy": PAGE_CSP,
    "Cross-Origin-Opener-Policy": "same-origin",
    "Cross-Origin-Resource-Policy": "same-origin",
    "Permissions-Policy": "camera=(), microphone=(), geolocation=(), payment=(), usb=()",
}

bp = Blueprint("ui", __name__, static_folder=STATIC, static_url_path="/ui/static")


@bp.get("/")
def index() -> Response:
    """The single page of the UI; its views are hash routes (#/goals, #/trash, #/users)."""
    response = send_from_directory(STATIC, "index.html")
    response.headers.pop("Content-Disposition", None)  # a page, not a file to save
    return response


@bp.after_request
def _page_headers(response: Response) -> Response:
    for name, value in PAGE_HEADERS.items():
        response.headers.setdefault(name, value)
    # Revalidate on every load (a cheap 304), so an upgraded server never runs stale scripts.
    response.headers["Cache-Control"] = "no-cache"
    return response
