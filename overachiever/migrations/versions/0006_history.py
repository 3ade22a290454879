"""History: operations, goal events, the operation that last changed each goal, app secrets.

Goals that exist already get a `created` event at their created_at (with their present fields,
the only ones known), and a `trashed` event at their deleted_at when in the trash, in one
`baseline` operation per owner, which cannot be undone.

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-02
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None

# 64-bit ids on PostgreSQL; INTEGER on SQLite, as the other tables have.
Id = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
Stamp = sa.DateTime(timezone=True)


def upgrade() -> None:
    """Create the history tables and record the goals that exist."""
    op.create_table(
        "operations",
        sa.Column("id", Id, nullable=False),
        sa.Column("owner_id", Id, nullable=False),
        sa.Column("actor_id", Id, nullable=True),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("at", Stamp, nullable=False),
        sa.Column("undoes", Id, nullable=True),
        sa.Column("undone_by", Id, nullable=True),
        sa.ForeignKeyConstraint(
            ["owner_id"], ["users.id"], name="fk_operations_owner_id_users", ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["actor_id"], ["users.id"], name="fk_operations_actor_id_users", ondelete="SET NULL"
        ),
        sa.PrimaryKeyConstraint("id", name="pk_operations"),
        sqlite_autoincrement=True,
    )
    op.create_index("ix_operations_owner_id_id", "operations", ["owner_id", "id"])
    op.create_table(
        "goal_events",
        sa.Column("id", Id, nullable=False),
        sa.Column("operation_id", Id, nullable=False),
        sa.Column("owner_id", Id, nullable=False),
        sa.Column("goal_id", Id, nullable=False),
        sa.Column("prev_id", Id, nullable=True),
        sa.Column("at", Stamp, nullable=False),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("erased", sa.Boolean(), nullable=False),
        sa.Column("name", sa.String(200), nullable=True),
        sa.Column("description", sa.Text(), nullable=True),
        sa.Column("parent_id", Id, nullable=True),
        sa.Column("position", sa.Integer(), nullable=True),
        sa.Column("start", Stamp, nullable=True),
        sa.Column("end", Stamp, nullable=True),
        sa.Column("due", Stamp, nullable=True),
        sa.Column("deleted_at", Stamp, nullable=True),
        sa.Column("trash_root_id", Id, nullable=True),
        sa.ForeignKeyConstraint(
            ["operation_id"],
            ["operations.id"],
            name="fk_goal_events_operation_id_operations",
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["owner_id"], ["users.id"], name="fk_goal_events_owner_id_users", ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name="pk_goal_events"),
        sqlite_autoincrement=True,
    )
    op.create_index("ix_goal_events_goal_id_id", "goal_events", ["goal_id", "id"])
    op.create_index("ix_goal_events_owner_id_id", "goal_events", ["owner_id", "id"])
    op.create_index("ix_goal_events_owner_id_at", "goal_events", ["owner_id", "at"])
    op.create_index("ix_goal_events_operation_id", "goal_events", ["operation_id"])
    op.create_table(
        "app_secrets",
        sa.Column("name", sa.String(32), nullable=False),
        sa.Column("value", sa.String(128), nullable=False),
        sa.PrimaryKeyConstraint("name", name="pk_app_secrets"),
    )
    op.add_column("goals", sa.Column("operation_id", Id, nullable=True))
    op.create_index("ix_goals_operation_id", "goals", ["operation_id"])
    _record_existing_goals()


def _record_existing_goals() -> None:
    """One baseline operation per owner; a created event per goal, a trashed one if trashed."""
    op.execute(
        "INSERT INTO operations (owner_id, actor_id, kind, at)"
        " SELECT owner_id, owner_id, 'baseline', min(created_at) FROM goals"
        " GROUP BY owner_id ORDER BY owner_id"
    )
    op.execute(
        "INSERT INTO goal_events (operation_id, owner_id, goal_id, at, kind, erased,"
        ' name, description, parent_id, position, start, "end", due)'
        " SELECT o.id, g.owner_id, g.id, g.created_at, 'created', FALSE,"
        ' g.name, g.description, g.parent_id, g.position, g.start, g."end", g.due'
        " FROM goals g JOIN operations o ON o.owner_id = g.owner_id AND o.kind = 'baseline'"
        " ORDER BY g.id"
    )
    op.execute(
        "INSERT INTO goal_events (operation_id, owner_id, goal_id, prev_id, at, kind, erased,"
        ' name, description, parent_id, position, start, "end", due, deleted_at, trash_root_id)'
        " SELECT o.id, g.owner_id, g.id, (SELECT max(e.id) FROM goal_events e"
        " WHERE e.goal_id = g.id), g.deleted_at, 'trashed', FALSE,"
        ' g.name, g.description, g.parent_id, g.position, g.start, g."end", g.due,'
        " g.deleted_at, g.trash_root_id"
        " FROM goals g JOIN operations o ON o.owner_id = g.owner_id AND o.kind = 'baseline'"
        " WHERE g.deleted_at IS NOT NULL ORDER BY g.id"
    )
    op.execute(
        "UPDATE goals SET operation_id = (SELECT o.id FROM operations o"
        " WHERE o.owner_id = goals.owner_id AND o.kind = 'baseline')"
    )


def downgrade() -> None:
    """Drop the history tables (the record is lost)."""
    op.drop_index("ix_goals_operation_id", table_name="goals")
    # Not a batch operation: SQLite's copy of the table would lose its AUTOINCREMENT key.
    op.execute("ALTER TABLE goals DROP COLUMN operation_id")
    op.drop_table("app_secrets")
    for index in ("operation_id", "owner_id_at", "owner_id_id", "goal_id_id"):
        op.drop_index(f"ix_goal_events_{index}", table_name="goal_events")
    op.drop_table("goal_events")
    op.drop_index("ix_operations_owner_id_id", table_name="operations")
    op.drop_table("operations")
