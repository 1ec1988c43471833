"""team permissions on repositories, a replica of catalog's grants (Bintray permitted_repos)

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-25 14:30:00
"""
from alembic import op
import sqlalchemy as sa


revision = '0006'
down_revision = '0005'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        'team_permissions',
        sa.Column('subject', sa.String(length=50), nullable=False),
        sa.Column('repo', sa.String(length=100), nullable=False),
        sa.Column('team', sa.String(length=64), nullable=False),
        sa.Column('permission', sa.String(length=16), nullable=True),
        sa.Column('revision', sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint('subject', 'repo', 'team', name=op.f('pk_team_permissions')),
    )


def downgrade() -> None:
    op.drop_table('team_permissions')
