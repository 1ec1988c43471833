"""the authentication epoch: answers about credentials cached at the gateway are kept under it

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-02 10:05:00
"""
from alembic import op
import sqlalchemy as sa


revision = '0009'
down_revision = '0008'
branch_labels = None
depends_on = None


def upgrade() -> None:
    table = op.create_table(
        'authn_epoch',
        sa.Column('id', sa.SmallInteger(), autoincrement=False, nullable=False),
        sa.Column('value', sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_authn_epoch')),
    )
    op.bulk_insert(table, [{'id': 1, 'value': 1}])


def downgrade() -> None:
    op.drop_table('authn_epoch')
