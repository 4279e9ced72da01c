"""the history of each lesson: captured, edited, retagged, verified, merged, and by whom

Revision ID: 0011_lesson_history
Revises: 0010_message_member_index
"""
import sqlalchemy as sa
from alembic import op

import storage.types

revision = "0011_lesson_history"
down_revision = "0010_message_member_index"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "lesson_change",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column("workspace_id", sa.String(), nullable=False),
        sa.Column("lesson_id", sa.Integer(), nullable=False),
        sa.Column("at", storage.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("by", sa.String(), nullable=True),
        sa.Column("change", sa.String(), nullable=False),
        sa.Column("detail", sa.String(), nullable=False, server_default=""),
    )
    op.create_index("ix_lesson_change_lesson", "lesson_change", ["workspace_id", "lesson_id", "at"])


def downgrade() -> None:
    op.drop_index("ix_lesson_change_lesson", table_name="lesson_change")
    op.drop_table("lesson_change")
