"""replicas announce themselves: each process knows how many share the work, so it holds only its fair share

Revision ID: 0020_replicas
Revises: 0019_digest_indexes
"""
import sqlalchemy as sa
from alembic import op

import storage.types

revision = "0020_replicas"
down_revision = "0019_digest_indexes"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "replica",
        sa.Column("owner", sa.String(), nullable=False),
        sa.Column("expires_at", storage.types.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("owner"),
    )


def downgrade() -> None:
    op.drop_table("replica")
