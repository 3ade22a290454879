"""Export -> import into an empty account -> export again gives the same document.

For every format that imports (JSON, Markdown, OPML, CSV), on random forests with awkward
names and descriptions and on a 10 000-deep chain; what differs is only what the format does
not carry (ids, the export's time).
"""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import HealthCheck, assume, given, settings

from overachiever.core.db import db
from tests.support.exchange import IMPORTABLE, comparable, export_bytes, import_document
from tests.support.exchange_forests import build_forest, forests, new_user
from tests.support.services import CHAIN, bulk_create_chain

ROUND_TRIP = settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)


def round_trip(source: Any, fmt: str) -> tuple[str, str]:
    """The source's export, and the export of an empty account that imported it."""
    first = export_bytes(source, fmt)
    target = new_user()
    import_document(target, fmt, first)
    return comparable(fmt, first), comparable(fmt, export_bytes(target, fmt))


@pytest.mark.parametrize("fmt", IMPORTABLE)
def test_a_random_forest_comes_back_the_same(ctx: Any, fmt: str) -> None:
    @ROUND_TRIP
    @given(goals=forests())
    def check(goals: list[dict[str, Any]]) -> None:
        source = new_user()
        assume(build_forest(source, goals))
        first, again = round_trip(source, fmt)
        assert again == first
        db.session.remove()

    check()


@pytest.mark.parametrize("fmt", IMPORTABLE)
def test_a_10000_deep_chain_comes_back_the_same(ctx: Any, fmt: str) -> None:
    source = new_user()
    bulk_create_chain(source, [f"level *{i}* <{i}>" for i in range(CHAIN)])
    first, again = round_trip(source, fmt)
    assert again == first
    assert first.count("level") == CHAIN


@pytest.mark.parametrize("fmt", IMPORTABLE)
def test_a_subtree_exports_alone_at_the_top(ctx: Any, fmt: str) -> None:
    source = new_user()
    ids = bulk_create_chain(source, ["a", "b", "c"])
    whole = export_bytes(source, fmt, root_id=ids[1])
    target = new_user()
    import_document(target, fmt, whole)
    again = export_bytes(target, fmt)
    assert comparable(fmt, again) == comparable(fmt, whole)
    assert b"b" in whole
    assert b'"a"' not in whole
    assert b'text="a"' not in whole
