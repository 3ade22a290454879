"""Completion rules: each goal's `completion` (manual, cascade, auto, strict), also in history.

Existing goals are `manual`, the behaviour they had; their recorded events say so too, so the
first change of a rule shows as manual -> the new one.

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-02
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    """Add goals.completion (default manual) and goal_events.completion."""
    op.add_column(
        "goals",
        sa.Column("completion", sa.String(8), nullable=False, server_default="manual"),
    )
    op.add_column("goal_events", sa.Column("completion", sa.String(8), nullable=True))
    op.execute("UPDATE goal_events SET completion = 'manual' WHERE erased = FALSE")


def downgrade() -> None:
    """Drop the completion columns (every goal becomes manual again)."""
    # Not batch operations: SQLite's copy of the table would lose its AUTOINCREMENT key.
    op.execute("ALTER TABLE goal_events DROP COLUMN completion")
    op.execute("ALTER TABLE goals DROP COLUMN completion")
