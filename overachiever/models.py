"""Every model, imported in one place so the metadata is complete (Alembic, create_all)."""

from __future__ import annotations

from .calendars.models import CalendarFeed
from .core.secrets import AppSecret
from .goals.models import Goal
from .history.models import GoalEvent, Operation
from .idempotency.models import IdempotencyKey
from .sharing.models import Share
from .tokens.models import Token
from .users.models import User

__all__ = [
    "AppSecret",
    "CalendarFeed",
    "Goal",
    "GoalEvent",
    "IdempotencyKey",
    "Operation",
    "Share",
    "Token",
    "User",
]
