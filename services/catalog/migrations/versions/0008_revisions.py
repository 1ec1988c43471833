"""revision counters that outlive their rows (team permissions on repositories)

Revision ID: 0008
Revises: 0007
Create Date: 2026-11-25 14:13:00.192275
"""
from alembic import op
import sqlalchemy as sa


revision = '0008'
down_revision = '0007'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('revisions',
    sa.Column('scope', sa.String(length=16), nullable=False),
    sa.Column('key', sa.String(length=400), nullable=False),
    sa.Column('revision', sa.Integer(), nullable=False),
    sa.PrimaryKeyConstraint('scope', 'key', name=op.f('pk_revisions'))
    )


def downgrade() -> None:
    op.drop_table('revisions')
