"""digest runs: one claimed row per channel and period

Revision ID: 0003_digests
Revises: 0001_core
"""
import sqlalchemy as sa
from alembic import op

import storage.types

revision = "0003_digests"
down_revision = "0001_core"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "digest_run",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("workspace_id", sa.String(), nullable=False),
        sa.Column("channel_id", sa.String(), nullable=False),
        sa.Column("period_key", sa.String(), nullable=False),
        sa.Column("status", sa.String(), nullable=False),
        sa.Column("owner", sa.String(), nullable=False),
        sa.Column("message_ref", sa.String(), nullable=True),
        sa.Column("claimed_at", storage.types.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("workspace_id", "channel_id", "period_key"),
    )


def downgrade() -> None:
    op.drop_table("digest_run")
