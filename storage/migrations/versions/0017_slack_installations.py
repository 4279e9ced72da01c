"""Slack installations ("Add to Slack"): one bot token per workspace, and the OAuth states of installs under way

Revision ID: 0017_slack_installations
Revises: 0016_sponsor_report
"""
import sqlalchemy as sa
from alembic import op

import storage.types

revision = "0017_slack_installations"
down_revision = "0016_sponsor_report"
branch_labels = None
depends_on = None


def _utc(name: str, nullable: bool = True) -> sa.Column:
    return sa.Column(name, storage.types.UTCDateTime(timezone=True), nullable=nullable)


def upgrade() -> None:
    op.create_table(
        "slack_installation",
        sa.Column("enterprise_id", sa.String(), nullable=False, server_default=""),
        sa.Column("team_id", sa.String(), nullable=False, server_default=""),
        sa.Column("app_id", sa.String(), nullable=True),
        sa.Column("enterprise_name", sa.String(), nullable=True),
        sa.Column("enterprise_url", sa.String(), nullable=True),
        sa.Column("team_name", sa.String(), nullable=True),
        sa.Column("bot_token", sa.String(), nullable=True),
        sa.Column("bot_id", sa.String(), nullable=True),
        sa.Column("bot_user_id", sa.String(), nullable=True),
        sa.Column("bot_scopes", sa.String(), nullable=False, server_default=""),
        sa.Column("bot_refresh_token", sa.String(), nullable=True),
        _utc("bot_token_expires_at"),
        sa.Column("installer_user_id", sa.String(), nullable=True),
        sa.Column("is_enterprise_install", sa.Boolean(), nullable=False, server_default=sa.false()),
        sa.Column("token_type", sa.String(), nullable=True),
        _utc("installed_at", nullable=False),
        sa.PrimaryKeyConstraint("enterprise_id", "team_id"),
    )
    op.create_table(
        "slack_oauth_state",
        sa.Column("state", sa.String(), primary_key=True),
        _utc("expires_at", nullable=False),
    )
    op.create_index("ix_slack_oauth_state_expires_at", "slack_oauth_state", ["expires_at"])


def downgrade() -> None:
    op.drop_index("ix_slack_oauth_state_expires_at", table_name="slack_oauth_state")
    op.drop_table("slack_oauth_state")
    op.drop_table("slack_installation")
