"""co-creation: decisions (with consent votes, offers and full-text search) and commitments

Revision ID: 0013_cocreation
Revises: 0012_onboarding
"""
import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

import storage.types

revision = "0013_cocreation"
down_revision = "0012_onboarding"
branch_labels = None
depends_on = None


def _utc(name: str, nullable: bool = True) -> sa.Column:
    return sa.Column(name, storage.types.UTCDateTime(timezone=True), nullable=nullable)


def upgrade() -> None:
    op.create_table(
        "decision",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column("workspace_id", sa.String(), nullable=False),
        sa.Column("channel_id", sa.String(), nullable=False),
        sa.Column("thread_id", sa.String(), nullable=False),
        sa.Column("origin", sa.String(), nullable=False),
        sa.Column("title", sa.String(), nullable=False),
        sa.Column("question", sa.String(), nullable=False, server_default=""),
        sa.Column("options", sa.JSON(), nullable=False),
        sa.Column("outcome", sa.String(), nullable=False, server_default=""),
        sa.Column("reasons", sa.JSON(), nullable=False),
        sa.Column("participants", sa.JSON(), nullable=False),
        sa.Column("authors", sa.JSON(), nullable=False),
        sa.Column("permalink", sa.String(), nullable=False, server_default=""),
        sa.Column("language", sa.String(), nullable=False, server_default="en"),
        sa.Column("private", sa.Boolean(), nullable=False, server_default=sa.false()),
        sa.Column("recorded_by", sa.String(), nullable=True),
        _utc("recorded_at", nullable=False),
        sa.Column("status", sa.String(), nullable=False, server_default="proposed"),
        sa.Column("round", sa.Integer(), nullable=False, server_default="0"),
        sa.Column("round_origin", sa.String(), nullable=False, server_default=""),
        _utc("consent_until", nullable=False),
        sa.Column("card_key", sa.String(), nullable=False, server_default=""),
        _utc("agreed_at"),
        _utc("objected_at"),
        sa.Column("objected_by", sa.String(), nullable=True),
        sa.Column("supersedes", sa.Integer(), nullable=True),
        sa.Column("superseded_by", sa.Integer(), nullable=True),
        _utc("updated_at", nullable=False),
        sa.UniqueConstraint("workspace_id", "origin", name="uq_decision_origin"),
        sqlite_autoincrement=True,  # an id is never reused: buttons and deadlines name it
    )
    op.create_index("ix_decision_thread", "decision", ["workspace_id", "thread_id"])
    op.create_index("ix_decision_status", "decision", ["workspace_id", "status", "consent_until"])
    if op.get_bind().dialect.name == "postgresql":
        # The same stemmed terms as the lessons (storage.lesson_search.index_terms), title 'A', body 'B'.
        op.add_column("decision", sa.Column("search", postgresql.TSVECTOR(), nullable=True))
        op.create_index("ix_decision_search", "decision", ["search"], postgresql_using="gin")
    else:
        op.execute(
            "CREATE VIRTUAL TABLE decision_fts USING fts5(title, body, tokenize = 'unicode61 remove_diacritics 2')"
        )
    op.create_table(
        "decision_vote",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column("workspace_id", sa.String(), nullable=False),
        sa.Column("decision_id", sa.Integer(), nullable=False),
        sa.Column("member_id", sa.String(), nullable=False),
        sa.Column("round", sa.Integer(), nullable=False, server_default="0"),
        sa.Column("vote", sa.String(), nullable=False),
        _utc("at", nullable=False),
        sa.Column("origin", sa.String(), nullable=False),
        sa.UniqueConstraint("workspace_id", "decision_id", "member_id", "round", name="uq_decision_vote"),
    )
    op.create_table(
        "decision_offer",
        sa.Column("workspace_id", sa.String(), primary_key=True),
        sa.Column("thread_id", sa.String(), primary_key=True),
        sa.Column("channel_id", sa.String(), nullable=False),
        sa.Column("message_id", sa.String(), nullable=False),
        _utc("offered_at", nullable=False),
    )
    op.create_table(
        "commitment",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column("workspace_id", sa.String(), nullable=False),
        sa.Column("owner_id", sa.String(), nullable=False),
        sa.Column("channel_id", sa.String(), nullable=False),
        sa.Column("thread_id", sa.String(), nullable=True),
        sa.Column("message_id", sa.String(), nullable=True),
        sa.Column("origin", sa.String(), nullable=False),
        sa.Column("text", sa.String(), nullable=False),
        sa.Column("language", sa.String(), nullable=False, server_default="en"),
        _utc("recorded_at", nullable=False),
        _utc("due_at", nullable=False),
        _utc("ask_at", nullable=False),
        sa.Column("round", sa.Integer(), nullable=False, server_default="0"),
        sa.Column("postponed", sa.Boolean(), nullable=False, server_default=sa.false()),
        sa.Column("status", sa.String(), nullable=False, server_default="open"),
        _utc("done_at"),
        sa.Column("help_question", sa.String(), nullable=True),
        _utc("updated_at", nullable=False),
        sa.UniqueConstraint("workspace_id", "origin", name="uq_commitment_origin"),
        sqlite_autoincrement=True,
    )
    op.create_index("ix_commitment_open", "commitment", ["workspace_id", "status", "ask_at"])
    op.create_index("ix_commitment_owner", "commitment", ["workspace_id", "owner_id"])


def downgrade() -> None:
    op.drop_index("ix_commitment_owner", table_name="commitment")
    op.drop_index("ix_commitment_open", table_name="commitment")
    op.drop_table("commitment")
    op.drop_table("decision_offer")
    op.drop_table("decision_vote")
    if op.get_bind().dialect.name == "postgresql":
        op.drop_index("ix_decision_search", table_name="decision")
    else:
        op.execute("DROP TABLE decision_fts")
    op.drop_index("ix_decision_status", table_name="decision")
    op.drop_index("ix_decision_thread", table_name="decision")
    op.drop_table("decision")
