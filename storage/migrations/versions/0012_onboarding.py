"""onboarding and recognition: when a newcomer joined, was welcomed, invited and first posted; credits for thanks;
answers by who gave them

Revision ID: 0012_onboarding
Revises: 0011_lesson_history
"""
import sqlalchemy as sa
from alembic import op

import storage.types

revision = "0012_onboarding"
down_revision = "0011_lesson_history"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("member") as batch:
        batch.add_column(sa.Column("joined_at", storage.types.UTCDateTime(timezone=True), nullable=True))
        batch.add_column(sa.Column("joined_channel", sa.String(), nullable=True))
        batch.add_column(sa.Column("welcomed_at", storage.types.UTCDateTime(timezone=True), nullable=True))
        batch.add_column(sa.Column("invited_at", storage.types.UTCDateTime(timezone=True), nullable=True))
        batch.add_column(sa.Column("first_post_at", storage.types.UTCDateTime(timezone=True), nullable=True))
    op.create_index("ix_member_joined", "member", ["workspace_id", "joined_at"])
    # Newcomer conversion and `/steward me` look answers up by who gave them.
    op.create_index("ix_response_responder", "response", ["workspace_id", "responder_id", "at"])
    op.create_table(
        "credit",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column("workspace_id", sa.String(), nullable=False),
        sa.Column("key", sa.String(), nullable=False),
        sa.Column("member_id", sa.String(), nullable=False),
        sa.Column("by_id", sa.String(), nullable=True),
        sa.Column("how", sa.String(), nullable=False),
        sa.Column("at", storage.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("channel_id", sa.String(), nullable=True),
        sa.Column("question_id", sa.String(), nullable=True),
        sa.Column("message_id", sa.String(), nullable=True),
        sa.Column("reason", sa.String(), nullable=False, server_default=""),
        sa.UniqueConstraint("workspace_id", "key"),
    )
    op.create_index("ix_credit_member", "credit", ["workspace_id", "member_id", "at"])


def downgrade() -> None:
    op.drop_index("ix_credit_member", table_name="credit")
    op.drop_table("credit")
    op.drop_index("ix_response_responder", table_name="response")
    op.drop_index("ix_member_joined", table_name="member")
    with op.batch_alter_table("member") as batch:
        batch.drop_column("first_post_at")
        batch.drop_column("invited_at")
        batch.drop_column("welcomed_at")
        batch.drop_column("joined_channel")
        batch.drop_column("joined_at")
