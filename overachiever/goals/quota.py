"""The goal limit of an account (OVERACHIEVER_MAX_GOALS): the goals it holds, trash included."""

from __future__ import annotations

from sqlalchemy import bindparam, func, select

from ..core.db import db
from ..core.errors import Conflict
from .models import Goal

# Every goal of :owner_id, trash included: one count over the owner's index entries.
OWNER_GOALS = (
    select(func.count()).select_from(Goal.__table__).where(Goal.owner_id == bindparam("owner_id"))
)
# A create this close to the limit counts again inside its INSERT, under the write lock. Further
# below, the count read before it is enough: no account has this many creates in flight at once,
# and the count, which grows with the account, then costs no other writer a wait.
EXACT_WITHIN = 1000


class GoalLimitReached(Conflict):
    """The account would hold more goals than the configured limit."""

    slug, title = "goal-limit", "Goal limit reached"


def goals_held(owner_id: int) -> int:
    """How many goals the owner has, in the trash too."""
    return int(db.session.connection().execute(OWNER_GOALS, {"owner_id": owner_id}).scalar_one())


def check_room(*, owner_id: int, adding: int, max_goals: int) -> None:
    """Refuse `adding` goals that would take the owner past max_goals (0: no limit)."""
    if max_goals:
        held = goals_held(owner_id)
        if held + adding > max_goals:
            raise limit_reached(held=held, adding=adding, max_goals=max_goals)


def room_before_create(*, owner_id: int, max_goals: int) -> bool:
    """Check the limit before a create; True when it is so close that the INSERT must count."""
    if not max_goals:
        return False
    held = goals_held(owner_id)
    if held + 1 > max_goals:
        raise limit_reached(held=held, adding=1, max_goals=max_goals)
    return held + 1 > max_goals - EXACT_WITHIN


def limit_reached(*, held: int, adding: int, max_goals: int) -> GoalLimitReached:
    """The error for an account that may not hold `adding` more goals."""
    what = "a goal" if adding == 1 else f"{adding} goals"
    return GoalLimitReached(
        f"your account holds {held} goals (the trash included) and may hold at most "
        f"{max_goals}, so {what} cannot be added; delete goals and empty the trash first",
        limit=max_goals,
    )
