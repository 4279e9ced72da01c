"""responses by time: the digest reads one period's answers without walking every answer ever recorded

Revision ID: 0019_response_time_index
Revises: 0018_member_settings
"""
from alembic import op

revision = "0019_response_time_index"
down_revision = "0018_member_settings"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index("ix_response_at", "response", ["workspace_id", "at"])


def downgrade() -> None:
    op.drop_index("ix_response_at", table_name="response")
