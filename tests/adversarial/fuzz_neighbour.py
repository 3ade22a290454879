"""After a fuzzing run as the recipient: the neighbour's goals outside the shares are untouched.

Usage: fuzz_neighbour.py NEIGHBOUR.json. The file is what tests/adversarial/fuzz_hooks.py
wrote when it made the neighbour: its token, its goals' ids and its private subtree as it was.
The fuzzer, an ordinary user with one subtree to edit and one to view, may change what it was
given to edit, but nothing of the private subtree. Exits 1 if that subtree differs in any way.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import requests


def main(path: str) -> int:
    """Compare the neighbour's private subtree with the one saved before the run."""
    saved = json.loads(Path(path).read_text())
    private = saved["goals"]["private"]
    resp = requests.get(
        f"{saved['base_url']}/api/v2/goals/{private}/tree",
        headers={"Authorization": f"Bearer {saved['token']}"},
        timeout=30,
    )
    if resp.status_code != 200 or resp.json() != saved["private_tree"]:
        print(f"fuzz: the neighbour's private goals changed: {resp.status_code} {resp.text[:500]}")
        return 1
    print("fuzz: the neighbour's goals outside its shares are as they were")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1]))
