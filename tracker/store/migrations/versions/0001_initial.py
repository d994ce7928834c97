"""Initial schema: indicators, targets with versions, milestones, observations, milestone
progress and import batches; observations and progress are append-only.

Revision ID: 0001_initial
Revises:
Create Date: 2026-01-10
"""

import sqlalchemy as sa
from alembic import op

revision = "0001_initial"
down_revision = None
branch_labels = None
depends_on = None

ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
TS = sa.DateTime(timezone=True)
APPEND_ONLY = ("observation", "milestone_progress")


def upgrade() -> None:
    op.create_table(
        "indicator",
        sa.Column("id", sa.String(), primary_key=True),
        sa.Column("name", sa.String(), nullable=False),
        sa.Column("unit", sa.String(), nullable=False),
        sa.Column("kind", sa.String(), nullable=False),
        sa.Column("frequency", sa.String(), nullable=False),
        sa.Column("reporter", sa.String(), nullable=False),
        sa.Column("numerator", sa.String(), nullable=True),
        sa.Column("denominator", sa.String(), nullable=True),
        sa.Column("multiplier", sa.Float(), nullable=False),
        sa.Column("description", sa.String(), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("updated_at", TS, nullable=False),
    )
    op.create_table(
        "target",
        sa.Column("id", sa.String(), primary_key=True),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("indicator", sa.String(), nullable=False),
        sa.Column("comparator", sa.String(), nullable=False),
        sa.Column("value", sa.Float(), nullable=False),
        sa.Column("unit", sa.String(), nullable=False),
        sa.Column("deadline", sa.Date(), nullable=True),
        sa.Column("scope", sa.String(), nullable=False),
        sa.Column("soft", sa.Boolean(), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("updated_at", TS, nullable=False),
    )
    op.create_table(
        "target_version",
        sa.Column("id", ID, primary_key=True, autoincrement=True),
        sa.Column("target_id", sa.String(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("definition", sa.Text(), nullable=False),
        sa.Column("digest", sa.String(), nullable=False),
        sa.Column("synced_at", TS, nullable=False),
        sa.UniqueConstraint("target_id", "version", name="uq_target_version"),
    )
    op.create_table(
        "milestone",
        sa.Column("id", sa.String(), primary_key=True),
        sa.Column("plan", sa.String(), nullable=False),
        sa.Column("task", sa.Integer(), nullable=False),
        sa.Column("text", sa.String(), nullable=False),
        sa.Column("deadline", sa.Date(), nullable=True),
        sa.Column("quote", sa.String(), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("updated_at", TS, nullable=False),
    )
    op.create_table(
        "import_batch",
        sa.Column("id", ID, primary_key=True, autoincrement=True),
        sa.Column("file", sa.String(), nullable=False),
        sa.Column("sha256", sa.String(), nullable=False),
        sa.Column("entered_by", sa.String(), nullable=False),
        sa.Column("entered_at", TS, nullable=False),
        sa.Column("rows", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(), nullable=False),
    )
    op.create_table(
        "observation",
        sa.Column("id", ID, primary_key=True, autoincrement=True),
        sa.Column("indicator", sa.String(), nullable=False),
        sa.Column("region", sa.String(), nullable=False),
        sa.Column("period", sa.String(), nullable=False),
        sa.Column("period_end", sa.Date(), nullable=False),
        sa.Column("value", sa.Float(), nullable=False),
        sa.Column("revision", sa.Integer(), nullable=False),
        sa.Column("entered_by", sa.String(), nullable=False),
        sa.Column("entered_at", TS, nullable=False),
        sa.Column("source", sa.String(), nullable=False),
        sa.Column("note", sa.String(), nullable=False),
        sa.Column("batch_id", ID, nullable=True),
        sa.UniqueConstraint("indicator", "region", "period", "revision", name="uq_observation_cell_revision"),
    )
    op.create_index("ix_observation_entered_at", "observation", ["entered_at"])
    op.create_table(
        "milestone_progress",
        sa.Column("id", ID, primary_key=True, autoincrement=True),
        sa.Column("milestone", sa.String(), nullable=False),
        sa.Column("reporter", sa.String(), nullable=False),
        sa.Column("state", sa.String(), nullable=False),
        sa.Column("reported_on", sa.Date(), nullable=False),
        sa.Column("note", sa.String(), nullable=False),
        sa.Column("evidence", sa.String(), nullable=False),
        sa.Column("entered_by", sa.String(), nullable=False),
        sa.Column("entered_at", TS, nullable=False),
        sa.Column("source", sa.String(), nullable=False),
        sa.Column("batch_id", ID, nullable=True),
    )
    op.create_index("ix_milestone_progress_milestone", "milestone_progress", ["milestone", "reporter"])
    _append_only_triggers()


def _append_only_triggers() -> None:
    """Refuse UPDATE and DELETE on reported values, whoever connects: corrections are new
    revisions, and the audit trail is only worth something if it cannot be rewritten."""
    if op.get_bind().dialect.name == "postgresql":
        op.execute("""
            CREATE FUNCTION tracker_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
            BEGIN
                RAISE EXCEPTION '% is append-only: enter a correction as a new revision', TG_TABLE_NAME;
            END $$""")
        for table in APPEND_ONLY:
            op.execute(f"CREATE TRIGGER {table}_append_only BEFORE UPDATE OR DELETE ON {table} "
                       "FOR EACH ROW EXECUTE FUNCTION tracker_append_only()")
        return
    for table in APPEND_ONLY:
        for action in ("UPDATE", "DELETE"):
            op.execute(f"CREATE TRIGGER {table}_no_{action.lower()} BEFORE {action} ON {table} "
                       f"BEGIN SELECT RAISE(ABORT, '{table} is append-only: enter a correction "
                       "as a new revision'); END")


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        for table in APPEND_ONLY:
            op.execute(f"DROP TRIGGER IF EXISTS {table}_append_only ON {table}")
        op.execute("DROP FUNCTION IF EXISTS tracker_append_only()")
    for table in ("milestone_progress", "observation", "import_batch", "milestone",
                  "target_version", "target", "indicator"):
        op.drop_table(table)
