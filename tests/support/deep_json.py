"""JSON nested thousands of levels deep, which the standard parser reads only with help."""

from __future__ import annotations

import json
import sys
import threading
from typing import Any


def parse_deep(raw: bytes) -> Any:
    """json.loads a document nested thousands of levels deep.

    The standard parser recurses, so it runs in a thread with a large stack and a raised
    recursion limit; an error in that thread is raised again here.
    """
    result: dict[str, Any] = {}

    def work() -> None:
        old = sys.getrecursionlimit()
        sys.setrecursionlimit(200_000)
        try:
            result["value"] = json.loads(raw)
        except BaseException as exc:
            result["error"] = exc
        finally:
            sys.setrecursionlimit(old)

    old_size = threading.stack_size(512 * 1024 * 1024)
    try:
        thread = threading.Thread(target=work)
        thread.start()
        thread.join()
    finally:
        threading.stack_size(old_size)
    if "error" in result:
        raise result["error"]
    return result["value"]
