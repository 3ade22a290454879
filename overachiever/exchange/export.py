"""Export: a forest or subtree as a document of one format, written as it is read."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from types import ModuleType

from ..core.errors import Invalid
from ..core.types import utcnow
from ..goals import service
from ..goals.tree import chunked
from ..users.models import User
from .formats import csvfile, ical, jsondoc, markdown, opml

FORMATS: dict[str, ModuleType] = {
    "json": jsondoc,
    "markdown": markdown,
    "opml": opml,
    "csv": csvfile,
    "ics": ical,
}


@dataclass(frozen=True, slots=True)
class Export:
    """A document to send: its media type, a file name, and its bytes as they are written."""

    media_type: str
    filename: str
    chunks: Iterator[bytes]


def export_document(*, caller: User, fmt: str, root_id: int | None) -> Export:
    """The caller's live forest, or the subtree at root_id, in format fmt.

    The root is checked at once (NotFound); the goals are read while the chunks are iterated,
    in memory that does not grow with the forest (goals.service.outline).
    """
    writer = FORMATS.get(fmt)
    if writer is None:
        raise Invalid.from_errors(
            [{"loc": ["query", "format"], "msg": f"must be one of {', '.join(FORMATS)}"}]
        )
    goals = service.outline(caller=caller, goal_id=root_id)
    now = utcnow()
    stem = "overachiever" if root_id is None else f"overachiever-goal-{root_id}"
    return Export(
        media_type=writer.MEDIA_TYPE,
        filename=f"{stem}-{now:%Y-%m-%d}.{writer.EXTENSION}",
        chunks=chunked(writer.write(goals, exported_at=now)),
    )
