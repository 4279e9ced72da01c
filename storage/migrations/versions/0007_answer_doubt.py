"""how sure Steward was that a question is unanswered, and when it checked with the asker instead of flagging

Revision ID: 0007_answer_doubt
Revises: 0006_lesson_cards
"""
import sqlalchemy as sa
from alembic import op

import storage.types

revision = "0007_answer_doubt"
down_revision = "0006_lesson_cards"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("question") as batch:
        batch.add_column(sa.Column("unanswered_confidence", sa.Float(), nullable=True))
        batch.add_column(sa.Column("checked_at", storage.types.UTCDateTime(timezone=True), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("question") as batch:
        batch.drop_column("checked_at")
        batch.drop_column("unanswered_confidence")
