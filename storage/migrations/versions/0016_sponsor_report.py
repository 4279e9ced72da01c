"""sponsor report: monthly runs and facilitators' notes; the skills map's consent

Revision ID: 0016_sponsor_report
Revises: 0015_learning_paths
"""
import sqlalchemy as sa
from alembic import op

import storage.types

revision = "0016_sponsor_report"
down_revision = "0015_learning_paths"
branch_labels = None
depends_on = None


def _utc(name: str, nullable: bool = True) -> sa.Column:
    return sa.Column(name, storage.types.UTCDateTime(timezone=True), nullable=nullable)


def upgrade() -> None:
    op.create_table(
        "sponsor_report_run",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column("workspace_id", sa.String(), nullable=False),
        sa.Column("month", sa.String(), nullable=False),
        sa.Column("status", sa.String(), nullable=False, server_default="claimed"),
        sa.Column("owner", sa.String(), nullable=False),
        _utc("claimed_at", nullable=False),
        sa.UniqueConstraint("workspace_id", "month", name="uq_sponsor_report_month"),
    )
    op.create_table(
        "report_note",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column("workspace_id", sa.String(), nullable=False),
        sa.Column("month", sa.String(), nullable=False),
        sa.Column("author_id", sa.String(), nullable=False),
        sa.Column("text", sa.String(), nullable=False),
        _utc("written_at", nullable=False),
    )
    op.create_index("ix_report_note_month", "report_note", ["workspace_id", "month"])
    op.create_table(
        "skills_consent",
        sa.Column("workspace_id", sa.String(), primary_key=True),
        sa.Column("member_id", sa.String(), primary_key=True),
        sa.Column("visible", sa.Boolean(), nullable=False, server_default=sa.false()),
        _utc("changed_at", nullable=False),
    )


def downgrade() -> None:
    op.drop_table("skills_consent")
    op.drop_index("ix_report_note_month", table_name="report_note")
    op.drop_table("report_note")
    op.drop_table("sponsor_report_run")
