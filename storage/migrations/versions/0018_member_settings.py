"""member settings: the time zone a member chose for themselves, over the one the platform reports

(A member's own quiet hours use the `quiet_start` and `quiet_end` columns the member table has had since 0001.)

Revision ID: 0018_member_settings
Revises: 0017_slack_installations
"""
import sqlalchemy as sa
from alembic import op

revision = "0018_member_settings"
down_revision = "0017_slack_installations"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("member") as batch:
        batch.add_column(sa.Column("chosen_timezone", sa.String(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("member") as batch:
        batch.drop_column("chosen_timezone")
