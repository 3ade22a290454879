"""Who may do what with a goal: the one place that decides it, for every route that takes one.

A caller owns a goal, or reaches it through the nearest share above it (or on it) as viewer or
editor, or has nothing to do with it, which every route answers as if the goal did not exist.
The decision is one statement: the goal's row, then a walk up its ancestors that stops at the
first share to the caller, and is not taken at all unless the owner has shared something with
the caller.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from enum import StrEnum
from typing import Any, cast

from sqlalchemy import BindParameter, Select, bindparam, column, select, text
from sqlalchemy.sql import visitors

from ..core.db import db
from ..core.errors import Forbidden, NotFound
from ..core.types import BigId
from ..history.recording import Stamp, operation
from ..users.models import User


class Role(StrEnum):
    """What a caller is to a goal."""

    OWNER = "owner"
    EDITOR = "editor"
    VIEWER = "viewer"


@dataclass(frozen=True, slots=True)
class Grant:
    """The caller's access to one goal: whose it is, in what role, through which share."""

    goal_id: int
    owner_id: int
    role: Role
    # The share that grants it and the goal shared; None for the owner.
    share_id: int | None = None
    share_root_id: int | None = None

    @property
    def is_owner(self) -> bool:
        """True when the caller owns the goal."""
        return self.role is Role.OWNER

    @property
    def may_edit(self) -> bool:
        """True for the owner and an editor."""
        return self.role is not Role.VIEWER


# The anchor is the goal itself (live; or, with :trashed, the owner's own goal in the trash).
# The walk goes up only while no share to the caller was met and the owner has shared
# something with the caller: an owner's or a stranger's decision reads one row. A goal's
# ancestors are live and have its owner, so the walk needs neither condition again.
_WALK = """
    WITH RECURSIVE up(id, parent_id, owner_id, share_id, share_role, walks) AS (
        SELECT g.id, g.parent_id, g.owner_id, s.id, s.role,
               CASE WHEN g.owner_id <> :caller_id AND EXISTS (
                   SELECT 1 FROM shares x
                   WHERE x.user_id = :caller_id AND x.owner_id = g.owner_id
               ) THEN 1 ELSE 0 END
        FROM goals g
        LEFT JOIN shares s ON s.goal_id = g.id AND s.user_id = :caller_id
        WHERE g.id = :goal_id AND {anchor}
        UNION ALL
        SELECT g.id, g.parent_id, g.owner_id, s.id, s.role, up.walks
        FROM up
        JOIN goals g ON g.id = up.parent_id
        LEFT JOIN shares s ON s.goal_id = g.id AND s.user_id = :caller_id
        WHERE up.walks = 1 AND up.share_id IS NULL
    )
    SELECT {columns} FROM up
    WHERE owner_id = :caller_id OR share_id IS NOT NULL
"""
_IDS = (bindparam("caller_id", type_=BigId), bindparam("goal_id", type_=BigId))
_DECIDE = text(
    _WALK.format(
        anchor="(g.deleted_at IS NULL OR (:trashed = 1 AND g.owner_id = :caller_id))",
        columns="id, owner_id, share_id, share_role",
    )
).bindparams(*_IDS)

# The owner of :goal_id when :caller_id may read it (live, in their tree or a share to them),
# as a scalar subquery: a read can bind its owner to this instead of to the caller, and so
# decide and read in one statement (see with_readable_owner).
_READABLE_OWNER = (
    select(
        text(_WALK.format(anchor="g.deleted_at IS NULL", columns="owner_id"))
        .bindparams(*_IDS)
        .columns(column("owner_id", BigId))
        .subquery("readable")
        .c.owner_id
    )
    .limit(1)
    .scalar_subquery()
)


def with_readable_owner(stmt: Select[Any]) -> Select[Any]:
    """stmt, a read of :goal_id by :owner_id, made a read of :goal_id by :caller_id: its
    :owner_id becomes the goal's owner when the caller may read the goal (none otherwise).

    The decision and the read are then one statement, for the owner and a recipient alike.
    """

    def swap(element: Any, **_kw: Any) -> Any:
        if isinstance(element, BindParameter) and element.key == "owner_id":
            return _READABLE_OWNER
        return None

    return cast("Select[Any]", visitors.replacement_traverse(stmt, {}, swap))


def decide(*, caller_id: int, goal_id: int, trashed: bool = False) -> Grant | None:
    """The caller's access to a goal, or None; trashed: the owner may reach a trashed goal."""
    params = {"caller_id": caller_id, "goal_id": goal_id, "trashed": int(trashed)}
    row = db.session.execute(_DECIDE, params).first()
    if row is None:
        return None
    if row.owner_id == caller_id:
        return Grant(goal_id, row.owner_id, Role.OWNER)
    return Grant(goal_id, row.owner_id, Role(row.share_role), row.share_id, row.id)


def readable(*, caller: User, goal_id: int, trashed: bool = False, what: str = "goal") -> Grant:
    """The caller's access to a goal they may read; NotFound for anyone else."""
    grant = decide(caller_id=caller.id, goal_id=goal_id, trashed=trashed)
    if grant is None:
        raise NotFound(f"{what} {goal_id} not found")
    return grant


def writable(*, caller: User, goal_id: int, what: str = "goal") -> Grant:
    """The caller's access to a live goal they may change: the owner or an editor.

    A viewer is told no (403): they can see the goal; anyone else is told it does not exist.
    """
    grant = readable(caller=caller, goal_id=goal_id, what=what)
    if not grant.may_edit:
        raise Forbidden(f"you may view {what} {goal_id}, not change it: it is shared read-only")
    return grant


def owned(*, caller: User, goal_id: int, trashed: bool = False, what: str = "goal") -> Grant:
    """The caller's own goal; a recipient is told no (403), anyone else NotFound."""
    grant = readable(caller=caller, goal_id=goal_id, trashed=trashed, what=what)
    if not grant.is_owner:
        raise Forbidden(f"only the owner of {what} {goal_id} may do this")
    return grant


def own_or_absent(*, caller: User, goal_id: int, trashed: bool = False) -> Grant:
    """The caller's own goal; anything else, shared with them or not, is NotFound (the trash)."""
    grant = decide(caller_id=caller.id, goal_id=goal_id, trashed=trashed)
    if grant is None or not grant.is_owner:
        raise NotFound(f"goal {goal_id} not found")
    return grant


def placing(*, caller: User, parent_id: int | None) -> int:
    """Whose tree new goals go into: the caller's at the top level, else the parent's owner.

    Under a parent the caller must own it or edit it through a share. A recipient's check is
    made again under the owner's lock (see editing).
    """
    if parent_id is None:
        return caller.id
    return writable(caller=caller, goal_id=parent_id, what="parent goal").owner_id


@contextmanager
def editing(
    *, caller: User, goal_id: int, kind: str, actor: User | None = None
) -> Iterator[tuple[Grant, Stamp]]:
    """Check the caller may change a goal, then run an operation under its owner's lock.

    actor: who is recorded as asking, when not the caller (an administrator on v1.0).

    The owner's lock serialises the change with every other change of the owner's tree,
    whoever makes it. A recipient's access is decided again under the lock: the owner may have
    moved the goal out of the share, or revoked it, in the meantime.
    """
    grant = writable(caller=caller, goal_id=goal_id)
    with operation(grant.owner_id, kind=kind, actor_id=(actor or caller).id) as stamp:
        if not grant.is_owner:
            grant = writable(caller=caller, goal_id=goal_id)
        yield grant, stamp


def refuse_outside(grant: Grant, *, goal_id: int, target: Grant | None) -> None:
    """A move keeps a goal in its owner's tree and an editor's inside the share they edit.

    target: the caller's access to the new parent (None: the top level).
    """
    if grant.is_owner:
        if target is not None and not target.is_owner:
            raise Forbidden(f"goal {goal_id} may only move among its owner's goals")
        return
    if goal_id == grant.share_root_id:
        raise Forbidden(f"goal {goal_id} is the shared goal: only its owner may move it")
    if target is None or target.share_id != grant.share_id:
        raise Forbidden(f"goal {goal_id} may only move within the goal shared with you")


def refuse_shared_root(grant: Grant, *, goal_id: int, action: str) -> None:
    """An editor may act on every goal strictly inside the share, not on the shared goal."""
    if not grant.is_owner and goal_id == grant.share_root_id:
        raise Forbidden(f"goal {goal_id} is the shared goal: only its owner may {action} it")
