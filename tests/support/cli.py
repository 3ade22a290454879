"""Reading what a command printed."""

from __future__ import annotations

from click.testing import Result


def last_line(result: Result) -> str:
    """The last line of a command's standard output, exactly as printed."""
    lines = result.stdout.splitlines()
    assert lines, (result.stdout, result.stderr)
    return lines[-1]
