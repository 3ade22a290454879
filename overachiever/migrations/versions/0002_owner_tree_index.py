"""Index of each owner's goals in tree order: forest reads without a sort, fast sibling checks.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-21
"""

from __future__ import annotations

from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    """Add ix_goals_owner_tree: (owner_id, parent_id, position, id)."""
    op.create_index("ix_goals_owner_tree", "goals", ["owner_id", "parent_id", "position", "id"])


def downgrade() -> None:
    """Drop ix_goals_owner_tree."""
    op.drop_index("ix_goals_owner_tree", table_name="goals")
