"""initial: outbox, inbox and the subjects replica

Revision ID: 0001
Revises:
Create Date: 2026-11-25 12:54:04.256885
"""
from alembic import op
import sqlalchemy as sa


revision = '0001'
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('inbox',
    sa.Column('consumer', sa.String(length=200), nullable=False),
    sa.Column('event_id', sa.String(length=200), nullable=False),
    sa.Column('event_type', sa.String(length=200), nullable=False),
    sa.Column('received_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('consumer', 'event_id', name=op.f('pk_inbox'))
    )
    op.create_index('ix_inbox_received_at', 'inbox', ['received_at'], unique=False)
    op.create_table('outbox',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), autoincrement=True, nullable=False),
    sa.Column('event_id', sa.String(length=64), nullable=False),
    sa.Column('type', sa.String(length=200), nullable=False),
    sa.Column('subject', sa.String(length=400), nullable=True),
    sa.Column('body', sa.Text(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('sent_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('attempts', sa.Integer(), server_default='0', nullable=False),
    sa.Column('last_error', sa.Text(), nullable=True),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_outbox')),
    sa.UniqueConstraint('event_id', name=op.f('uq_outbox_event_id'))
    )
    op.create_index('ix_outbox_sent_at', 'outbox', ['sent_at'], unique=False)
    op.create_index('ix_outbox_unsent', 'outbox', ['id'], unique=False, postgresql_where=sa.text('sent_at IS NULL'), sqlite_where=sa.text('sent_at IS NULL'))
    op.create_table('subjects',
    sa.Column('name', sa.String(length=64), nullable=False),
    sa.Column('kind', sa.String(length=8), nullable=False),
    sa.Column('identity_id', sa.String(length=64), nullable=False),
    sa.Column('full_name', sa.String(length=200), nullable=False),
    sa.Column('owner_id', sa.String(length=64), nullable=True),
    sa.Column('registered', sa.DateTime(timezone=True), nullable=True),
    sa.Column('revision', sa.Integer(), nullable=False),
    sa.Column('deleted', sa.Boolean(), nullable=False),
    sa.Column('changed_at', sa.DateTime(timezone=True), nullable=True),
    sa.PrimaryKeyConstraint('name', name=op.f('pk_subjects'))
    )
    op.create_index('ix_subjects_identity_id', 'subjects', ['identity_id'], unique=False)


def downgrade() -> None:
    op.drop_index('ix_subjects_identity_id', table_name='subjects')
    op.drop_table('subjects')
    op.drop_index('ix_outbox_unsent', table_name='outbox', postgresql_where=sa.text('sent_at IS NULL'), sqlite_where=sa.text('sent_at IS NULL'))
    op.drop_index('ix_outbox_sent_at', table_name='outbox')
    op.drop_table('outbox')
    op.drop_index('ix_inbox_received_at', table_name='inbox')
    op.drop_table('inbox')
