"""permission replica: organization memberships and teams

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-25 13:04:06.491123
"""
from alembic import op
import sqlalchemy as sa


revision = '0002'
down_revision = '0001'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('memberships',
    sa.Column('org_id', sa.String(length=64), nullable=False),
    sa.Column('user_id', sa.String(length=64), nullable=False),
    sa.Column('org', sa.String(length=64), nullable=False),
    sa.Column('username', sa.String(length=64), nullable=False),
    sa.Column('role', sa.String(length=8), nullable=True),
    sa.Column('revision', sa.Integer(), nullable=False),
    sa.Column('changed_at', sa.DateTime(timezone=True), nullable=True),
    sa.PrimaryKeyConstraint('org_id', 'user_id', name=op.f('pk_memberships'))
    )
    op.create_index('ix_memberships_org_user_id', 'memberships', ['org', 'user_id'], unique=False)
    op.create_table('teams',
    sa.Column('subject', sa.String(length=64), nullable=False),
    sa.Column('name', sa.String(length=64), nullable=False),
    sa.Column('subject_type', sa.String(length=8), nullable=False),
    sa.Column('members', sa.JSON(), nullable=False),
    sa.Column('allow_repo_creation', sa.Boolean(), nullable=False),
    sa.Column('revision', sa.Integer(), nullable=False),
    sa.Column('deleted', sa.Boolean(), nullable=False),
    sa.Column('changed_at', sa.DateTime(timezone=True), nullable=True),
    sa.PrimaryKeyConstraint('subject', 'name', name=op.f('pk_teams'))
    )


def downgrade() -> None:
    op.drop_table('teams')
    op.drop_index('ix_memberships_org_user_id', table_name='memberships')
    op.drop_table('memberships')
