"""lesson cards: what worked and tips beside the problem and the steps

Revision ID: 0006_lesson_cards
Revises: 0005_leases
"""
import sqlalchemy as sa
from alembic import op

revision = "0006_lesson_cards"
down_revision = "0005_leases"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("lesson", sa.Column("solution", sa.String(), nullable=False, server_default=""))
    op.add_column("lesson", sa.Column("tips", sa.JSON(), nullable=False, server_default="[]"))


def downgrade() -> None:
    with op.batch_alter_table("lesson") as batch:
        batch.drop_column("tips")
        batch.drop_column("solution")
