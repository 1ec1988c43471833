"""storage usage of users and organizations (Bintray quota_used_bytes), from catalog's usage events

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-01 23:59:00
"""
from alembic import op
import sqlalchemy as sa


revision = '0007'
down_revision = '0006'
branch_labels = None
depends_on = None

# In place, not through a batch "move and copy" (see 0002: it would cascade-delete on SQLite).


def upgrade() -> None:
    for table in ('users', 'orgs'):
        op.add_column(table, sa.Column('quota_used_bytes', sa.BigInteger(), server_default='0', nullable=False))
        op.add_column(table, sa.Column('usage_revision', sa.BigInteger(), server_default='0', nullable=False))


def downgrade() -> None:
    for table in ('users', 'orgs'):
        op.drop_column(table, 'usage_revision')
        op.drop_column(table, 'quota_used_bytes')
