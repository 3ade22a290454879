"""PostgreSQL: tell the planner that goals have many distinct parents.

With most goals under one parent, ANALYZE samples few distinct parent ids, and the planner
then expects every goal to be a child of every goal: a tree walk scans the whole table once
per goal it reaches. The column's n_distinct is fixed at a tenth of the rows instead.

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-02
"""

from __future__ import annotations

from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    """Set goals.parent_id's n_distinct (PostgreSQL only); the next ANALYZE applies it.

    Not analyzed here: autovacuum does it when the table has changed enough, as for any table,
    and a migration that read the whole table would hold up a start on a large database.
    """
    if op.get_bind().dialect.name == "postgresql":
        op.execute("ALTER TABLE goals ALTER COLUMN parent_id SET (n_distinct = -0.1)")


def downgrade() -> None:
    """Let ANALYZE estimate parent_id's distinct values again."""
    if op.get_bind().dialect.name == "postgresql":
        op.execute("ALTER TABLE goals ALTER COLUMN parent_id RESET (n_distinct)")
