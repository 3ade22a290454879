"""Sum up a schema-fuzzing run: what schemathesis sent and what the server answered.

Usage: fuzz_summary.py EVENTS.ndjson SERVER.log [--stats AUTH.json] [--seconds N]
[--min-requests N]. Reads schemathesis's NDJSON events (every test case, its response and the
result of every check) and the server's access log (every request that reached it), prints
the figures that docs/RELIABILITY.md quotes, and exits 1 when the server answered any request
with a 5xx, when a check failed, or when fewer than --min-requests requests reached the server.
"""

from __future__ import annotations

import argparse
import json
import re
import sys
from collections import Counter
from pathlib import Path
from typing import Any

# gunicorn's access log: ... "METHOD /path HTTP/1.1" STATUS SIZE "referer" "user agent"
_ACCESS = re.compile(r'"([A-Z]+) (\S+) HTTP/[0-9.]+" (\d{3}) \S+ "[^"]*" "([^"]*)"')


def read_events(path: Path) -> dict[str, Any]:
    """Cases, responses and check results from schemathesis's NDJSON events."""
    cases: list[dict[str, Any]] = []
    checks: Counter[tuple[str, str]] = Counter()
    engine: dict[str, Any] = {}
    for line in path.read_text().splitlines():
        event = json.loads(line)
        if "EngineFinished" in event:
            engine = event["EngineFinished"]
        finished = event.get("ScenarioFinished")
        if not finished:
            continue
        recorder = finished["recorder"]
        for case_id, node in recorder.get("cases", {}).items():
            value = node["value"]
            meta = value.get("meta") or {}
            interaction = recorder.get("interactions", {}).get(case_id) or {}
            response = interaction.get("response") or {}
            cases.append(
                {
                    # Stateful steps are recorded under one label; the case knows its operation.
                    "operation": f"{value.get('method', '?')} {value.get('path', '?')}",
                    "label": recorder.get("label", "?"),
                    "phase": (meta.get("phase") or {}).get("name", finished.get("phase")),
                    "mode": (meta.get("generation") or {}).get("mode", "?"),
                    "status": response.get("status_code"),
                }
            )
            for check in recorder.get("checks", {}).get(case_id, []):
                checks[(check["name"], check["status"])] += 1
    documented = {c["label"] for c in cases if c["label"] != "Stateful tests"}
    return {"cases": cases, "checks": checks, "engine": engine, "documented": documented}


def read_access_log(path: Path) -> Counter[str]:
    """Status classes (2xx, 4xx, ...) of schemathesis's requests, as the server logged them."""
    classes: Counter[str] = Counter()
    for line in path.read_text(errors="replace").splitlines():
        match = _ACCESS.search(line)
        if match and match.group(4).startswith("schemathesis/"):
            classes[match.group(3)[0] + "xx"] += 1
    return classes


def main(argv: list[str] | None = None) -> int:
    """Print the figures; 1 when a rule of the run was broken."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("events", type=Path)
    parser.add_argument("server_log", type=Path)
    parser.add_argument("--stats", type=Path)
    parser.add_argument("--seconds", type=int, default=0)
    parser.add_argument("--min-requests", type=int, default=0)
    args = parser.parse_args(argv)

    events = read_events(args.events)
    served = read_access_log(args.server_log)
    cases = events["cases"]
    sent = [c for c in cases if c["status"] is not None]
    total_served = sum(served.values())
    documented = events["documented"]
    operations = sorted({c["operation"] for c in sent} & documented)
    by_phase = Counter(c["phase"] for c in sent)
    by_mode = Counter(c["mode"] for c in sent)
    statuses = Counter(f"{c['status'] // 100}xx" for c in sent)
    checks: Counter[tuple[str, str]] = events["checks"]
    failed_checks = {name: n for (name, status), n in checks.items() if status == "failure"}
    auth = json.loads(args.stats.read_text()) if args.stats and args.stats.exists() else {}

    print("== schema fuzzing figures ==")
    print(
        f"wall time: {args.seconds} s (schemathesis stop reason: "
        f"{events['engine'].get('stop_reason', '?')})"
    )
    print(
        f"requests that reached the server (access log): {total_served} "
        f"({', '.join(f'{k}: {v}' for k, v in sorted(served.items()))})"
    )
    print(
        f"generated test cases with a response: {len(sent)}; documented operations: "
        f"{len(operations)}"
    )
    print(f"  by phase: {dict(sorted(by_phase.items()))}")
    print(f"  by data mode: {dict(sorted(by_mode.items()))}")
    print(f"  by status class: {dict(sorted(statuses.items()))}")
    per_operation = Counter(c["operation"] for c in sent)
    print("  by documented operation:")
    for operation in operations:
        print(f"    {operation}: {per_operation[operation]}")
    others = {op: n for op, n in per_operation.items() if op not in documented}
    print(
        f"  undocumented methods tried (405 expected): {sum(others.values())} requests "
        f"on {len(others)} method/path pairs"
    )
    print(f"check results: {sum(checks.values())}, failed: {sum(failed_checks.values())}")
    print("checks run (passed / failed):")
    for name in sorted({n for n, _ in checks}):
        print(f"  {name}: {checks[(name, 'success')]} / {checks[(name, 'failure')]}")
    print(f"server errors (5xx in the access log): {served.get('5xx', 0)}")
    print(f"schema-violating responses: {failed_checks.get('response_schema_conformance', 0)}")
    if auth:
        print(
            f"auth renewals: {auth.get('tokens_issued', 0)} tokens issued, "
            f"{auth.get('accounts_created', 0)} accounts created, "
            f"{auth.get('accounts_restored', 0)} restored"
        )

    problems = []
    if served.get("5xx", 0):
        problems.append(f"{served['5xx']} server errors")
    if failed_checks:
        problems.append(f"failed checks: {failed_checks}")
    if total_served < args.min_requests:
        problems.append(f"only {total_served} requests (at least {args.min_requests} required)")
    for problem in problems:
        print(f"FUZZ FAILURE: {problem}")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
