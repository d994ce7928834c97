"""A small key-value table for what the tracker keeps about itself: the digest of the targets
model last synced, so a command syncs targets.yaml only when its content changed.

Revision ID: 0004_meta
Revises: 0003_web
Create Date: 2026-12-01
"""

import sqlalchemy as sa
from alembic import op

revision = "0004_meta"
down_revision = "0003_web"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "meta",
        sa.Column("key", sa.String(), primary_key=True),
        sa.Column("value", sa.String(), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
    )


def downgrade() -> None:
    op.drop_table("meta")
