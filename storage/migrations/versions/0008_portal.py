"""the portal: one-time sign-in links and the session cookie's signing key

Revision ID: 0008_portal
Revises: 0007_answer_doubt
"""
import sqlalchemy as sa
from alembic import op

import storage.types

revision = "0008_portal"
down_revision = "0007_answer_doubt"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "portal_sign_in",
        sa.Column("token_hash", sa.String(), primary_key=True),
        sa.Column("workspace_id", sa.String(), nullable=False),
        sa.Column("member_id", sa.String(), nullable=False),
        sa.Column("created_at", storage.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("expires_at", storage.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("used_at", storage.types.UTCDateTime(timezone=True), nullable=True),
    )
    op.create_table(
        "portal_key",
        sa.Column("name", sa.String(), primary_key=True),
        sa.Column("value", sa.String(), nullable=False),
    )


def downgrade() -> None:
    op.drop_table("portal_key")
    op.drop_table("portal_sign_in")
