"""Shares: a goal and its subtree given to another user as viewer or editor.

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-02
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


# 64-bit ids on PostgreSQL; INTEGER on SQLite, as the other tables have.
Id = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
Stamp = sa.DateTime(timezone=True)


def upgrade() -> None:
    """Create the shares table."""
    op.create_table(
        "shares",
        sa.Column("id", Id, nullable=False),
        sa.Column("goal_id", Id, nullable=False),
        sa.Column("owner_id", Id, nullable=False),
        sa.Column("user_id", Id, nullable=False),
        sa.Column("role", sa.String(8), nullable=False),
        sa.Column("created_at", Stamp, nullable=False),
        sa.Column("updated_at", Stamp, nullable=False),
        sa.UniqueConstraint("goal_id", "user_id", name="uq_shares_goal_id_user_id"),
        sa.ForeignKeyConstraint(
            ["goal_id"], ["goals.id"], name="fk_shares_goal_id_goals", ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["owner_id"], ["users.id"], name="fk_shares_owner_id_users", ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name="fk_shares_user_id_users", ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name="pk_shares"),
        sqlite_autoincrement=True,
    )
    op.create_index("ix_shares_user_id_owner_id", "shares", ["user_id", "owner_id"])
    op.create_index("ix_shares_owner_id", "shares", ["owner_id"])


def downgrade() -> None:
    """Drop the shares table (every share is revoked)."""
    op.drop_table("shares")
