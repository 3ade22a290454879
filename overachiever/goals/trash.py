"""The trash: list trashed subtrees, restore them, purge them, one by one or once expired.

A trashed subtree is kept for a retention period that the caller passes in (the server's
configuration); after it, the subtree leaves the listing, and is purged by the next change to
its owner's trash or by `purge_expired` (run from cron).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import and_, delete, select, update
from sqlalchemy.orm import aliased

from ..core.db import db
from ..core.errors import NotFound
from ..core.types import utcnow
from ..history.recording import Stamp, begin, operation, record, record_purge
from ..sharing import access
from ..sharing.models import Share
from ..users.locks import owner_transaction
from ..users.models import User
from .completion import settle
from .models import Goal
from .queries import TRASH
from .results import GoalResult, result_of
from .rules import check_name_free, find_live, next_position


def _delete_trashed(doomed: Callable[[Any], Any], stamp: Stamp) -> int:
    """Delete the trashed goals that doomed(entity) selects, recorded under stamp; returns how
    many went (their events keep a tombstone each, their fields erased).

    A separately trashed child of a goal that goes stays in the trash, detached (it is
    restored at the top level). The parent key has no ON DELETE action: a SET NULL would
    make live children top-level one row at a time and trip the sibling-name index.
    """
    gone = aliased(Goal)
    gone_ids = select(gone.id).where(doomed(gone))
    db.session.execute(
        update(Goal)
        .where(Goal.parent_id.in_(gone_ids), Goal.deleted_at.is_not(None), ~doomed(Goal))
        .values(parent_id=None, version=Goal.version + 1, operation_id=stamp.id)
        .execution_options(synchronize_session=False)
    )
    record_purge(stamp, gone_ids)
    # Shares of goals that go, go too (explicitly: nothing relies on ON DELETE CASCADE).
    db.session.execute(delete(Share).where(Share.goal_id.in_(gone_ids)))
    result = db.session.execute(
        delete(Goal).where(doomed(Goal)).execution_options(synchronize_session=False)
    )
    return int(result.rowcount or 0)  # type: ignore[attr-defined]


def purge_expired_of(owner_id: int, cutoff: datetime) -> int:
    """Purge the owner's goals trashed before cutoff (under the owner's lock); returns the count.

    Recorded as an operation of its own, asked by no one, even inside another's transaction:
    the change that happened to trigger it can be undone without it.
    """

    def expired(g: Any) -> Any:
        return and_(g.owner_id == owner_id, g.trash_root_id.is_not(None), g.deleted_at < cutoff)

    if db.session.execute(select(Goal.id).where(expired(Goal)).limit(1)).first() is None:
        return 0
    stamp = begin(owner_id=owner_id, kind="purge", actor_id=None)
    purged = _delete_trashed(expired, stamp)
    record(stamp)
    return purged


def purge_expired(*, retention: timedelta) -> int:
    """Purge every goal trashed longer ago than retention (for cron); returns the count."""
    cutoff = utcnow() - retention
    owners = (
        db.session.execute(
            select(Goal.owner_id)
            .where(Goal.trash_root_id.is_not(None), Goal.deleted_at < cutoff)
            .distinct()
        )
        .scalars()
        .all()
    )
    purged = 0
    for owner_id in owners:
        # Owner by owner, under each owner's lock, like every other change to a tree: a restore
        # racing the purge waits for it (and then finds the goal gone) instead of failing.
        try:
            with owner_transaction(owner_id):
                purged += purge_expired_of(owner_id, cutoff)
        except NotFound:
            continue  # the account was deleted meanwhile, and its goals with it
    return purged


def list_trash(*, owner: User, retention: timedelta) -> list[dict[str, Any]]:
    """The owner's trashed subtrees not older than retention, newest first."""
    cutoff = utcnow() - retention
    rows = db.session.execute(TRASH, {"owner_id": owner.id, "cutoff": cutoff})
    return [
        {
            "id": r[0],
            "name": r[1],
            "parent_id": r[2],
            "deleted_at": r[3],
            "purge_at": r[3] + retention,
            "goals_count": r[4],
        }
        for r in rows
    ]


def _trash_root(owner: User, goal_id: int) -> Goal:
    """The root of one of the owner's trashed subtrees; the trash is its owner's alone."""
    access.own_or_absent(caller=owner, goal_id=goal_id, trashed=True)
    goal = db.session.execute(
        select(Goal).where(
            Goal.id == goal_id,
            Goal.owner_id == owner.id,
            Goal.trash_root_id == goal_id,
        )
    ).scalar_one_or_none()
    if goal is None:
        raise NotFound(f"goal {goal_id} is not in the trash")
    return goal


def restore(*, owner: User, goal_id: int, retention: timedelta) -> GoalResult:
    """Put a trashed subtree back with the same ids: under its parent if live, else at the top.

    The owner's trashed goals older than retention are purged first.
    """
    with operation(owner.id, kind="restore", actor_id=owner.id) as stamp:
        session = db.session
        now = stamp.at
        purge_expired_of(owner.id, now - retention)
        root = _trash_root(owner, goal_id)
        parent_id = root.parent_id
        if parent_id is not None and find_live(owner.id, parent_id) is None:
            parent_id = None
        check_name_free(owner.id, parent_id, root.name, exclude=root.id)
        session.execute(
            update(Goal)
            .where(Goal.trash_root_id == root.id, Goal.owner_id == owner.id)
            .values(
                deleted_at=None,
                trash_root_id=None,
                version=Goal.version + 1,
                updated_at=now,
                operation_id=stamp.id,
            )
            .execution_options(synchronize_session=False)
        )
        if parent_id != root.parent_id:
            session.execute(
                update(Goal)
                .where(Goal.id == root.id)
                .values(parent_id=parent_id, position=next_position(owner.id, parent_id))
                .execution_options(synchronize_session=False)
            )
        settle(stamp)
        session.refresh(root)
        result = result_of(root)
    return result


def purge(*, owner: User, goal_id: int) -> None:
    """Delete a trashed subtree for good."""
    with operation(owner.id, kind="purge", actor_id=owner.id) as stamp:
        root = _trash_root(owner, goal_id)
        root_id = root.id
        db.session.expunge(root)
        _delete_trashed(lambda g: and_(g.trash_root_id == root_id, g.owner_id == owner.id), stamp)
