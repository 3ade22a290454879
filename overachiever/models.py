"""Every model, imported in one place so the metadata is complete (Alembic, create_all)."""

from __future__ import annotations

from .goals.models import Goal
from .idempotency.models import IdempotencyKey
from .tokens.models import Token
from .users.models import User

__all__ = ["Goal", "IdempotencyKey", "Token", "User"]
