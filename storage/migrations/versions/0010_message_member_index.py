"""an index on messages by member and time: who is new this week, and which channels a member writes in

Revision ID: 0010_message_member_index
Revises: 0009_unreachable_channels
"""
from alembic import op

revision = "0010_message_member_index"
down_revision = "0009_unreachable_channels"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index("ix_message_member_posted", "message", ["workspace_id", "user_id", "posted_at"])


def downgrade() -> None:
    op.drop_index("ix_message_member_posted", table_name="message")
