"""The interactive API docs (Swagger UI) without inline script or style, under a strict CSP.

APIFlask's own docs page starts Swagger UI with an inline script, which a Content-Security-Policy
without 'unsafe-inline' would block. These views serve the same page with that script moved to a
file of its own, next to Swagger UI's files under /docs/assets/.
"""

from __future__ import annotations

from apiflask import APIFlask
from flask import Response, render_template_string, request, send_from_directory

from .views import PAGE_CSP, PAGE_HEADERS, STATIC

# Swagger UI draws some icons from data: URIs in its style sheet.
DOCS_CSP = PAGE_CSP.replace("img-src 'self'", "img-src 'self' data:")
DOCS_SCRIPT = "overachiever-docs.js"

_DOCS_PAGE = """<!DOCTYPE html>
<html lang="en">
<head>
  <meta charset="utf-8">
  <title>{{ title }} {{ version }} - API docs</title>
  <link rel="stylesheet" href="{{ config.SWAGGER_UI_CSS }}">
  <link rel="stylesheet" href="/docs/assets/index.css">
  <link rel="icon" type="image/png" href="{{ config.DOCS_FAVICON }}">
</head>
<body>
  <div id="swagger-ui" data-spec-url="{{ url_for('openapi.spec') }}"
       data-layout="{{ config.SWAGGER_UI_LAYOUT }}"
       data-oauth2-redirect="{{ url_for('openapi.swagger_ui_oauth_redirect') }}"
       data-config="{{ (config.SWAGGER_UI_CONFIG or {}) | tojson | forceescape }}"></div>
  <script src="{{ config.SWAGGER_UI_BUNDLE_JS }}"></script>
  <script src="{{ config.SWAGGER_UI_STANDALONE_PRESET_JS }}"></script>
  <script src="/docs/assets/{{ script }}"></script>
</body>
</html>
"""

_OAUTH2_REDIRECT_PAGE = """<!DOCTYPE html>
<html lang="en">
<head><meta charset="utf-8"><title>Signing in</title></head>
<body><script src="/docs/assets/oauth2-redirect.js"></script></body>
</html>
"""

_DOCS_ENDPOINTS = frozenset({"openapi.docs", "openapi.swagger_ui_oauth_redirect", "docs_script"})


def secure_docs(app: APIFlask) -> None:
    """Replace APIFlask's docs pages with ones that run under DOCS_CSP."""
    if "openapi.docs" not in app.view_functions:
        return  # docs disabled

    def docs() -> str:
        """Swagger UI, started by a script file instead of an inline script."""
        return render_template_string(
            _DOCS_PAGE, title=app.title, version=app.version, script=DOCS_SCRIPT
        )

    def oauth2_redirect() -> str:
        """Swagger UI's OAuth 2 redirect page, with its script as a file."""
        return _OAUTH2_REDIRECT_PAGE

    app.view_functions["openapi.docs"] = docs
    if "openapi.swagger_ui_oauth_redirect" in app.view_functions:
        app.view_functions["openapi.swagger_ui_oauth_redirect"] = oauth2_redirect

    # A fixed path beats /docs/assets/<path:filename>, which serves Swagger UI's own files.
    @app.get(f"/docs/assets/{DOCS_SCRIPT}", endpoint="docs_script")
    @app.doc(hide=True)
    def docs_script() -> Response:
        """The script that starts Swagger UI."""
        return send_from_directory(STATIC / "docs", DOCS_SCRIPT, max_age=3600)

    @app.after_request
    def _docs_headers(response: Response) -> Response:
        if request.endpoint in _DOCS_ENDPOINTS:
            response.headers.setdefault("Content-Security-Policy", DOCS_CSP)
            for name, value in PAGE_HEADERS.items():
                response.headers.setdefault(name, value)
        return response
