"""Shares: give a goal and its subtree to another user, change the role, list, revoke, leave.

Only a goal's owner shares it, lists its shares and changes their roles; a share is revoked by
the owner or left by its recipient. A share is not a change of goals, so it is not part of
their history; it runs under the owner's lock all the same, so that two requests sharing one
goal with one user cannot both insert.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import aliased

from ..core.db import db
from ..core.errors import Invalid, NotFound
from ..core.types import utcnow
from ..goals.models import LIVE, Goal
from ..goals.results import GoalResult, stats_for
from ..users import service as users
from ..users.locks import owner_transaction
from ..users.models import User
from . import access
from .models import Share


def _share_dict(share: Share, user_name: str) -> dict[str, Any]:
    return {
        "id": share.id,
        "goal_id": share.goal_id,
        "user": {"id": share.user_id, "name": user_name},
        "role": share.role,
        "created_at": share.created_at,
    }


def _bad_user(detail: str, msg: str) -> Invalid:
    return Invalid(detail, [{"loc": ["body", "user"], "msg": msg}])


def share_goal(*, caller: User, goal_id: int, login: str, role: str) -> tuple[dict[str, Any], bool]:
    """Share one of the caller's live goals with the user named by login (name or e-mail).

    Sharing again with the same user changes the role. Returns the share and whether it is new.
    """
    access.owned(caller=caller, goal_id=goal_id)
    recipient = users.find_by_login(login)
    if recipient is None:
        raise _bad_user(f"no user is named or has the e-mail address {login!r}", "no such user")
    if recipient.id == caller.id:
        raise _bad_user("a goal cannot be shared with its owner", "this is you")
    with owner_transaction(caller.id) as session:
        # Decided again under the lock: the goal may have gone to the trash meanwhile.
        access.owned(caller=caller, goal_id=goal_id)
        share = session.execute(
            select(Share).where(Share.goal_id == goal_id, Share.user_id == recipient.id)
        ).scalar_one_or_none()
        created = share is None
        now = utcnow()
        if share is None:
            share = Share(
                goal_id=goal_id,
                owner_id=caller.id,
                user_id=recipient.id,
                role=role,
                created_at=now,
                updated_at=now,
            )
            session.add(share)
        elif share.role != role:
            share.role = role
            share.updated_at = now
        session.flush()
        result = _share_dict(share, recipient.name)
    return result, created


def list_shares(*, caller: User, goal_id: int) -> list[dict[str, Any]]:
    """The shares of one of the caller's goals, oldest first."""
    access.owned(caller=caller, goal_id=goal_id)
    rows = db.session.execute(
        select(Share, User.name)
        .join(User, User.id == Share.user_id)
        .where(Share.goal_id == goal_id)
        .order_by(Share.id)
    )
    return [_share_dict(share, name) for share, name in rows]


def revoke(*, caller: User, goal_id: int, share_id: int) -> None:
    """Delete a share of a goal: its owner revokes it, or its recipient leaves it."""
    share = db.session.execute(
        select(Share).where(Share.id == share_id, Share.goal_id == goal_id)
    ).scalar_one_or_none()
    if share is None or caller.id not in (share.owner_id, share.user_id):
        raise NotFound(f"share {share_id} of goal {goal_id} not found")
    with owner_transaction(share.owner_id) as session:
        session.execute(Share.__table__.delete().where(Share.id == share_id))


def shared_with(*, caller: User) -> list[dict[str, Any]]:
    """The live goals shared with the caller, with role, owner and roll-ups, oldest share first."""
    owner = aliased(User)
    rows = db.session.execute(
        select(Share.id, Share.role, owner.id, owner.name, Goal)
        .join(Goal, Goal.id == Share.goal_id)
        .join(owner, owner.id == Share.owner_id)
        .where(Share.user_id == caller.id, LIVE)
        .order_by(Share.id)
    ).all()
    stats = stats_for([row.Goal.id for row in rows])
    # A goal trashed between the two reads (PostgreSQL) is left out, as if read a moment later.
    return [
        {
            "share_id": share_id,
            "role": role,
            "owner": {"id": owner_id, "name": owner_name},
            "goal": GoalResult(goal, stats[goal.id]).as_dict(),
        }
        for share_id, role, owner_id, owner_name, goal in rows
        if goal.id in stats
    ]
