"""Calendar feeds: secret URLs serving a user's goals as iCalendar, kept as digests.

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-02
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None


# 64-bit ids on PostgreSQL; INTEGER on SQLite, as the other tables have.
Id = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
Stamp = sa.DateTime(timezone=True)


def upgrade() -> None:
    """Create the calendar_feeds table."""
    op.create_table(
        "calendar_feeds",
        sa.Column("id", Id, nullable=False),
        sa.Column("user_id", Id, nullable=False),
        sa.Column("name", sa.String(100), nullable=False),
        sa.Column("digest", sa.String(64), nullable=False),
        sa.Column("created_at", Stamp, nullable=False),
        sa.Column("last_used_at", Stamp, nullable=True),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name="fk_calendar_feeds_user_id_users", ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name="pk_calendar_feeds"),
        sa.UniqueConstraint("digest", name="uq_calendar_feeds_digest"),
        sqlite_autoincrement=True,
    )
    op.create_index("ix_calendar_feeds_user_id", "calendar_feeds", ["user_id"])


def downgrade() -> None:
    """Drop the calendar_feeds table (every feed URL stops working)."""
    op.drop_table("calendar_feeds")
