"""Web accounts name the plan they work in: 省民政厅 in Guangdong's plan is Guangdong's
department, not Hainan's, though the two have one name. Empty: the home plans, as before (a
region's account works in the plan holding its region).

Revision ID: 0017_user_plan
Revises: 0016_approvals
Create Date: 2026-12-02
"""

import sqlalchemy as sa
from alembic import op

revision = "0017_user_plan"
down_revision = "0016_approvals"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("web_user") as batch:
        batch.add_column(sa.Column("plan", sa.String(), nullable=False, server_default=""))


def downgrade() -> None:
    with op.batch_alter_table("web_user") as batch:
        batch.drop_column("plan")
