"""Check that a freshly started server answers: health, readiness, OpenAPI 3.1, offline docs."""

from __future__ import annotations

import json
import re
import sys
import time
import urllib.request


def get(url: str) -> bytes:
    """GET a URL, failing on any non-2xx status."""
    with urllib.request.urlopen(url, timeout=10) as resp:  # noqa: S310 (loopback only)
        return bytes(resp.read())


def main(base: str) -> None:
    """Wait up to 90 s for the server, then check what the README promises."""
    deadline = time.monotonic() + 90
    while True:
        try:
            get(f"{base}/healthz")
            break
        except OSError:
            if time.monotonic() > deadline:
                raise SystemExit(f"{base} did not come up within 90 s") from None
            time.sleep(0.5)
    get(f"{base}/readyz")
    spec = json.loads(get(f"{base}/api/v2/openapi.json"))
    assert spec["openapi"].startswith("3.1"), spec["openapi"]
    docs = get(f"{base}/docs").decode()
    assets = re.findall(r'(?:src|href)="([^"]+)"', docs)
    assert assets, "the docs page loads no assets"
    assert all(a.startswith("/docs/assets/") for a in assets), assets
    for asset in assets:
        get(base + asset)
    print(f"quick start: {base} serves the API ({len(spec['paths'])} paths) and offline docs")


if __name__ == "__main__":
    main(sys.argv[1])
