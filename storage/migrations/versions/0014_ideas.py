"""ideas (with votes) and initiatives (with the decisions, ideas and commitments they group)

Revision ID: 0014_ideas
Revises: 0013_cocreation
"""
import sqlalchemy as sa
from alembic import op

import storage.types

revision = "0014_ideas"
down_revision = "0013_cocreation"
branch_labels = None
depends_on = None


def _utc(name: str, nullable: bool = True) -> sa.Column:
    return sa.Column(name, storage.types.UTCDateTime(timezone=True), nullable=nullable)


def upgrade() -> None:
    op.create_table(
        "idea",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column("workspace_id", sa.String(), nullable=False),
        sa.Column("channel_id", sa.String(), nullable=False),
        sa.Column("origin", sa.String(), nullable=False),
        sa.Column("text", sa.String(), nullable=False),
        sa.Column("author_id", sa.String(), nullable=True),
        sa.Column("language", sa.String(), nullable=False, server_default="en"),
        sa.Column("private", sa.Boolean(), nullable=False, server_default=sa.false()),
        _utc("created_at", nullable=False),
        sa.Column("status", sa.String(), nullable=False, server_default="proposed"),
        sa.Column("reason", sa.String(), nullable=False, server_default=""),
        sa.Column("status_by", sa.String(), nullable=True),
        _utc("status_at"),
        sa.Column("status_origin", sa.String(), nullable=False, server_default=""),
        sa.Column("card_key", sa.String(), nullable=False, server_default=""),
        sa.Column("revision", sa.Integer(), nullable=False, server_default="0"),
        sa.Column("comments", sa.Integer(), nullable=False, server_default="0"),
        _utc("updated_at", nullable=False),
        sa.UniqueConstraint("workspace_id", "origin", name="uq_idea_origin"),
        sqlite_autoincrement=True,  # an id is never reused: buttons and commands name it
    )
    op.create_index("ix_idea_status", "idea", ["workspace_id", "status"])
    op.create_table(
        "idea_vote",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column("workspace_id", sa.String(), nullable=False),
        sa.Column("idea_id", sa.Integer(), nullable=False),
        sa.Column("member_id", sa.String(), nullable=False),
        _utc("at", nullable=False),
        sa.Column("origin", sa.String(), nullable=False),
        sa.UniqueConstraint("workspace_id", "idea_id", "member_id", name="uq_idea_vote"),
    )
    op.create_table(
        "initiative",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column("workspace_id", sa.String(), nullable=False),
        sa.Column("name", sa.String(), nullable=False),
        sa.Column("name_key", sa.String(), nullable=False),
        sa.Column("goal", sa.String(), nullable=False, server_default=""),
        sa.Column("channel_id", sa.String(), nullable=False),
        sa.Column("created_by", sa.String(), nullable=True),
        _utc("created_at", nullable=False),
        sa.Column("status", sa.String(), nullable=False, server_default="active"),
        sa.UniqueConstraint("workspace_id", "name_key", name="uq_initiative_name"),
        sqlite_autoincrement=True,
    )
    op.create_table(
        "initiative_item",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column("workspace_id", sa.String(), nullable=False),
        sa.Column("initiative_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(), nullable=False),
        sa.Column("item_id", sa.Integer(), nullable=False),
        sa.Column("added_by", sa.String(), nullable=True),
        _utc("added_at", nullable=False),
        sa.UniqueConstraint("workspace_id", "initiative_id", "kind", "item_id", name="uq_initiative_item"),
    )


def downgrade() -> None:
    op.drop_table("initiative_item")
    op.drop_table("initiative")
    op.drop_table("idea_vote")
    op.drop_index("ix_idea_status", table_name="idea")
    op.drop_table("idea")
