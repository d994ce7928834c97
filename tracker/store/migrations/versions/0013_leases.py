"""Run leases: a fencing token that every claim of a run increments, and the moment the
holder's lease runs out (renewed by its heartbeat), so a crashed run is taken over within
the lease and a run that lost its lease can tell.

Revision ID: 0013_leases
Revises: 0011_period_keys
Create Date: 2026-12-01
"""

import sqlalchemy as sa
from alembic import op

revision = "0013_leases"
down_revision = "0011_period_keys"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("run") as batch:
        batch.add_column(sa.Column("token", sa.Integer(), nullable=False, server_default="0"))
        batch.add_column(sa.Column("lease_until", sa.DateTime(timezone=True), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("run") as batch:
        batch.drop_column("lease_until")
        batch.drop_column("token")
