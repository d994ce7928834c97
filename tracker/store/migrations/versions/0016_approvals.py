"""Review and approval of reported figures: one state per (reporting unit, plan, period) and
the append-only history of its transitions.

Revision ID: 0016_approvals
Revises: 0013_leases
Create Date: 2026-12-10
"""

import sqlalchemy as sa
from alembic import op

revision = "0016_approvals"
down_revision = "0013_leases"
branch_labels = None
depends_on = None

ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
TS = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "approval",
        sa.Column("id", ID, primary_key=True, autoincrement=True),
        sa.Column("unit", sa.String(), nullable=False),
        sa.Column("plan", sa.String(), nullable=False),
        sa.Column("period", sa.String(), nullable=False),
        sa.Column("frequency", sa.String(), nullable=False),
        sa.Column("period_start", sa.Date(), nullable=False),
        sa.Column("period_end", sa.Date(), nullable=False),
        sa.Column("state", sa.String(), nullable=False),
        sa.Column("reopened", sa.Boolean(), nullable=False),
        sa.Column("last_action", sa.String(), nullable=False),
        sa.Column("note", sa.Text(), nullable=False),
        sa.Column("updated_by", sa.String(), nullable=False),
        sa.Column("updated_at", TS, nullable=False),
        sa.Column("created_at", TS, nullable=False),
        sa.UniqueConstraint("unit", "plan", "period", name="uq_approval_unit_plan_period"),
    )
    op.create_index("ix_approval_plan_state", "approval", ["plan", "state"])
    op.create_table(
        "approval_event",
        sa.Column("id", ID, primary_key=True, autoincrement=True),
        sa.Column("approval_id", ID, sa.ForeignKey("approval.id"), nullable=False),
        sa.Column("action", sa.String(), nullable=False),
        sa.Column("from_state", sa.String(), nullable=False),
        sa.Column("to_state", sa.String(), nullable=False),
        sa.Column("actor", sa.String(), nullable=False),
        sa.Column("actor_unit", sa.String(), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("at", TS, nullable=False),
    )
    op.create_index("ix_approval_event_approval", "approval_event", ["approval_id", "id"])


def downgrade() -> None:
    op.drop_index("ix_approval_event_approval", table_name="approval_event")
    op.drop_table("approval_event")
    op.drop_index("ix_approval_plan_state", table_name="approval")
    op.drop_table("approval")
