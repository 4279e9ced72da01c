"""learning paths: paths of lessons in order, the members who follow them and the lessons they finished

Revision ID: 0015_learning_paths
Revises: 0014_ideas
"""
import sqlalchemy as sa
from alembic import op

import storage.types

revision = "0015_learning_paths"
down_revision = "0014_ideas"
branch_labels = None
depends_on = None


def _utc(name: str, nullable: bool = True) -> sa.Column:
    return sa.Column(name, storage.types.UTCDateTime(timezone=True), nullable=nullable)


def upgrade() -> None:
    op.create_table(
        "learning_path",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column("workspace_id", sa.String(), nullable=False),
        sa.Column("name", sa.String(), nullable=False),
        sa.Column("goal", sa.String(), nullable=False, server_default=""),
        sa.Column("created_by", sa.String(), nullable=True),
        _utc("created_at", nullable=False),
        _utc("updated_at", nullable=False),
        sa.UniqueConstraint("workspace_id", "name", name="uq_learning_path_name"),
        sqlite_autoincrement=True,  # an id is never reused: buttons and deadlines name it
    )
    op.create_table(
        "learning_path_lesson",
        sa.Column("path_id", sa.Integer(), primary_key=True),
        sa.Column("lesson_id", sa.Integer(), primary_key=True),
        sa.Column("workspace_id", sa.String(), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
    )
    op.create_index("ix_learning_path_lesson_lesson", "learning_path_lesson", ["workspace_id", "lesson_id"])
    op.create_table(
        "learning_path_member",
        sa.Column("workspace_id", sa.String(), primary_key=True),
        sa.Column("path_id", sa.Integer(), primary_key=True),
        sa.Column("member_id", sa.String(), primary_key=True),
        sa.Column("pace_days", sa.Integer(), nullable=False, server_default="2"),
        sa.Column("status", sa.String(), nullable=False, server_default="active"),
        sa.Column("round", sa.Integer(), nullable=False, server_default="0"),
        _utc("due_at", nullable=False),
        sa.Column("delivered_round", sa.Integer(), nullable=False, server_default="-1"),
        _utc("started_at", nullable=False),
        _utc("finished_at"),
        _utc("updated_at", nullable=False),
    )
    op.create_index("ix_learning_path_member_status", "learning_path_member", ["workspace_id", "status"])
    op.create_table(
        "learning_path_done",
        sa.Column("workspace_id", sa.String(), primary_key=True),
        sa.Column("path_id", sa.Integer(), primary_key=True),
        sa.Column("member_id", sa.String(), primary_key=True),
        sa.Column("lesson_id", sa.Integer(), primary_key=True),
        _utc("done_at", nullable=False),
    )


def downgrade() -> None:
    op.drop_table("learning_path_done")
    op.drop_index("ix_learning_path_member_status", table_name="learning_path_member")
    op.drop_table("learning_path_member")
    op.drop_index("ix_learning_path_lesson_lesson", table_name="learning_path_lesson")
    op.drop_table("learning_path_lesson")
    op.drop_table("learning_path")
