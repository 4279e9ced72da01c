"""lessons: the knowledge store with full-text search

Revision ID: 0002_lessons
Revises: 0001_core
"""
from alembic import op
import sqlalchemy as sa
from sqlalchemy.dialects import postgresql
import sqlmodel
import storage.types


revision = '0002_lessons'
down_revision = '0001_core'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('lesson',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('workspace_id', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
    sa.Column('source_message_id', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
    sa.Column('channel_id', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
    sa.Column('title', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
    sa.Column('summary', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
    sa.Column('steps', sa.JSON(), nullable=False),
    sa.Column('tags', sa.JSON(), nullable=False),
    sa.Column('permalink', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
    sa.Column('contributors', sa.JSON(), nullable=False),
    sa.Column('created_at', storage.types.UTCDateTime(timezone=True), nullable=False),
    sa.Column('updated_at', storage.types.UTCDateTime(timezone=True), nullable=False),
    sa.Column('verified_at', storage.types.UTCDateTime(timezone=True), nullable=True),
    sa.Column('verified_by', sqlmodel.sql.sqltypes.AutoString(), nullable=True),
    sa.Column('private', sa.Boolean(), nullable=False),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('workspace_id', 'source_message_id', name='uq_lesson_source')
    )
    op.create_index('ix_lesson_workspace_updated', 'lesson', ['workspace_id', 'updated_at'], unique=False)
    if op.get_bind().dialect.name == 'postgresql':
        # Stemmed terms (computed by storage.lessons) in a weighted tsvector: title 'A', body 'B'.
        op.add_column('lesson', sa.Column('search', postgresql.TSVECTOR(), nullable=True))
        op.create_index('ix_lesson_search', 'lesson', ['search'], postgresql_using='gin')
    else:
        op.execute(
            "CREATE VIRTUAL TABLE lesson_fts USING fts5("
            "title, body, tokenize = 'unicode61 remove_diacritics 2')"
        )


def downgrade() -> None:
    if op.get_bind().dialect.name == 'postgresql':
        op.drop_index('ix_lesson_search', table_name='lesson')
    else:
        op.execute("DROP TABLE lesson_fts")
    op.drop_index('ix_lesson_workspace_updated', table_name='lesson')
    op.drop_table('lesson')
