"""indexes by time for the digest: it reads one period's questions and answers without walking the whole history

Revision ID: 0019_digest_indexes
Revises: 0018_member_settings
"""
from alembic import op

revision = "0019_digest_indexes"
down_revision = "0018_member_settings"
branch_labels = None
depends_on = None

INDEXES = {
    "ix_response_at": ("response", ["workspace_id", "at"]),
    "ix_question_asked": ("question", ["workspace_id", "channel_id", "asked_at"]),
    "ix_question_first_response": ("question", ["workspace_id", "first_response_at"]),
    "ix_question_resolved": ("question", ["workspace_id", "resolved_at"]),
}


def upgrade() -> None:
    for name, (table, columns) in INDEXES.items():
        op.create_index(name, table, columns)


def downgrade() -> None:
    for name, (table, _) in INDEXES.items():
        op.drop_index(name, table_name=table)
