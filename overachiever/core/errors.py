"""Domain errors: what went wrong, in the domain's words. The HTTP layer maps them to answers."""

from __future__ import annotations

from typing import Any


class DomainError(Exception):
    """A rule of the domain was broken; `slug` names the problem type, `title` sums it up."""

    slug = "bad-request"
    title = "Bad request"

    def __init__(self, detail: str, **extra: Any) -> None:
        super().__init__(detail)
        self.detail = detail
        self.extra = extra


class NotFound(DomainError):
    """The object does not exist, or belongs to someone else."""

    slug, title = "not-found", "Not found"


class Conflict(DomainError):
    """The change clashes with the current state (name taken, cycle, ...)."""

    slug, title = "conflict", "Conflict"


class NameConflict(Conflict):
    """A sibling (or another user) already has this name."""

    slug, title = "name-conflict", "Name already taken"


class CycleConflict(Conflict):
    """The move would make a goal its own ancestor."""

    slug, title = "cycle", "Move would create a cycle"


class UndoConflict(Conflict):
    """A later operation changed what an undo would put back; extra names them (conflicts)."""

    slug, title = "undo-conflict", "Later changes would be overwritten"


class NotUndoable(Conflict):
    """The operation cannot be undone (a purge: what it erased is gone)."""

    slug, title = "not-undoable", "This operation cannot be undone"


class AlreadyUndone(Conflict):
    """The operation has been undone already; undo its undo to redo it."""

    slug, title = "already-undone", "Already undone"


class RuleConflict(Conflict):
    """A change that a goal's completion rule forbids (an explicit end on an `auto` goal)."""

    slug, title = "rule-conflict", "The goal's completion rule decides this"


class OpenDescendants(Conflict):
    """A `strict` goal completed while some of its descendants are open; extra lists them."""

    slug, title = "open-descendants", "Open descendants"


class Forbidden(DomainError):
    """The caller is known but may not do this."""

    slug, title = "forbidden", "Forbidden"


class PreconditionFailed(DomainError):
    """The client's copy (its If-Match) is no longer current."""

    slug, title = "stale-version", "Precondition failed"


class Unauthorized(DomainError):
    """Credentials are missing or wrong."""

    slug, title = "unauthorized", "Unauthorized"


class Invalid(DomainError):
    """The input is well-formed but breaks a rule; errors lists {loc, msg} pairs."""

    slug, title = "validation-error", "Validation failed"

    def __init__(self, detail: str, errors: list[dict[str, Any]] | None = None) -> None:
        super().__init__(detail, errors=errors or [])

    @classmethod
    def from_errors(cls, errors: list[dict[str, Any]]) -> Invalid:
        """An Invalid whose detail sums up the first few errors."""
        return cls(summarise(errors), errors)


class Malformed(Invalid):
    """A field is missing or unreadable where no schema checked it (the article's forms)."""

    slug, title = "bad-request", "Bad request"


def summarise(errors: list[dict[str, Any]], most: int = 5) -> str:
    """'body.name: msg; ...' for the first `most` {loc, msg} errors."""
    return "; ".join(f"{'.'.join(map(str, e['loc']))}: {e['msg']}" for e in errors[:most])
