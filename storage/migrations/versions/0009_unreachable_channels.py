"""unreachable channels: where Steward can no longer post, so the facilitators are told once

Revision ID: 0009_unreachable_channels
Revises: 0008_portal
"""
import sqlalchemy as sa
from alembic import op

import storage.types

revision = "0009_unreachable_channels"
down_revision = "0008_portal"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "unreachable_channel",
        sa.Column("workspace_id", sa.String(), nullable=False),
        sa.Column("channel_id", sa.String(), nullable=False),
        sa.Column("reason", sa.String(), nullable=False),
        sa.Column("since", storage.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("notice_key", sa.String(), nullable=True),
        sa.PrimaryKeyConstraint("workspace_id", "channel_id"),
    )


def downgrade() -> None:
    op.drop_table("unreachable_channel")
