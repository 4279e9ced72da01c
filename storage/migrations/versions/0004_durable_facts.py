"""durable facts: processed events, expertise evidence, checkpoints, channel activity, confirmations asked

Revision ID: 0004_durable_facts
Revises: 0002_lessons, 0003_digests
"""
import sqlalchemy as sa
from alembic import op

import storage.types

revision = "0004_durable_facts"
down_revision = ("0002_lessons", "0003_digests")
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "processed_event",
        sa.Column("workspace_id", sa.String(), nullable=False),
        sa.Column("key", sa.String(), nullable=False),
        sa.Column("at", storage.types.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("workspace_id", "key"),
    )
    op.create_index("ix_processed_event_at", "processed_event", ["at"])
    op.create_table(
        "response",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("workspace_id", sa.String(), nullable=False),
        sa.Column("question_id", sa.String(), nullable=False),
        sa.Column("message_id", sa.String(), nullable=False),
        sa.Column("responder_id", sa.String(), nullable=False),
        sa.Column("at", storage.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("recorded_at", storage.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("first", sa.Boolean(), nullable=False),
        sa.Column("accepted", sa.Boolean(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("workspace_id", "question_id", "message_id", "accepted"),
    )
    op.create_table(
        "working_set_checkpoint",
        sa.Column("workspace_id", sa.String(), nullable=False),
        sa.Column("format", sa.Integer(), nullable=False),
        sa.Column("taken_at", storage.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("blob", sa.LargeBinary(), nullable=False),
        sa.PrimaryKeyConstraint("workspace_id"),
    )
    with op.batch_alter_table("channel") as batch:
        batch.add_column(sa.Column("last_activity_at", storage.types.UTCDateTime(timezone=True), nullable=True))
    with op.batch_alter_table("question") as batch:
        batch.add_column(sa.Column("confirm_asked_at", storage.types.UTCDateTime(timezone=True), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("question") as batch:
        batch.drop_column("confirm_asked_at")
    with op.batch_alter_table("channel") as batch:
        batch.drop_column("last_activity_at")
    op.drop_table("working_set_checkpoint")
    op.drop_table("response")
    op.drop_index("ix_processed_event_at", "processed_event")
    op.drop_table("processed_event")
