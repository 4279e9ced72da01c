"""workspace leases and the inbox: one process decides for a workspace at a time

Revision ID: 0005_leases
Revises: 0004_durable_facts
"""
import sqlalchemy as sa
from alembic import op

import storage.types

revision = "0005_leases"
down_revision = "0004_durable_facts"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "workspace_lease",
        sa.Column("workspace_id", sa.String(), nullable=False),
        sa.Column("owner", sa.String(), nullable=False),
        sa.Column("expires_at", storage.types.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("workspace_id"),
    )
    op.create_table(
        "inbox",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("workspace_id", sa.String(), nullable=False),
        sa.Column("key", sa.String(), nullable=False),
        sa.Column("event", sa.JSON(), nullable=False),
        sa.Column("received_at", storage.types.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("workspace_id", "key"),
    )


def downgrade() -> None:
    op.drop_table("inbox")
    op.drop_table("workspace_lease")
