"""Automatic signing of files published after their version's release: the repositories' signing flags
and one-file signing jobs.

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-02 00:40:00
"""
from alembic import op
import sqlalchemy as sa


revision = '0003'
down_revision = '0002'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('repos',
    sa.Column('owner', sa.String(length=64), nullable=False),
    sa.Column('name', sa.String(length=64), nullable=False),
    sa.Column('gpg_sign_files', sa.Boolean(), nullable=False),
    sa.Column('gpg_use_owner_key', sa.Boolean(), nullable=False),
    sa.Column('revision', sa.Integer(), nullable=False),
    sa.Column('deleted', sa.Boolean(), nullable=False),
    sa.PrimaryKeyConstraint('owner', 'name', name=op.f('pk_repos'))
    )
    with op.batch_alter_table('signing_jobs') as batch:
        batch.add_column(sa.Column('path', sa.String(length=1024), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('signing_jobs') as batch:
        batch.drop_column('path')
    op.drop_table('repos')
