"""links of packages into other repositories, and inclusion requests

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-25 14:13:00.192275
"""
from alembic import op
import sqlalchemy as sa


revision = '0004'
down_revision = '0003'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('links',
    sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
    sa.Column('repo_id', sa.Integer(), nullable=False),
    sa.Column('package_id', sa.Integer(), nullable=False),
    sa.Column('path_prefix', sa.String(length=1024), nullable=True),
    sa.Column('created', sa.DateTime(timezone=True), nullable=False),
    sa.Column('created_by', sa.String(length=64), nullable=False),
    sa.ForeignKeyConstraint(['package_id'], ['packages.id'], name=op.f('fk_links_package_id_packages'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['repo_id'], ['repos.id'], name=op.f('fk_links_repo_id_repos'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_links')),
    sa.UniqueConstraint('repo_id', 'package_id', name='uq_links_repo_id_package_id')
    )
    op.create_index('ix_links_package_id', 'links', ['package_id'], unique=False)
    op.create_table('inclusion_requests',
    sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
    sa.Column('package_id', sa.Integer(), nullable=False),
    sa.Column('repo_id', sa.Integer(), nullable=False),
    sa.Column('requester', sa.String(length=64), nullable=False),
    sa.Column('requester_id', sa.String(length=64), nullable=False),
    sa.Column('message', sa.Text(), nullable=True),
    sa.Column('path_prefix', sa.String(length=1024), nullable=True),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('reason', sa.Text(), nullable=True),
    sa.Column('decided_by', sa.String(length=64), nullable=True),
    sa.Column('created', sa.DateTime(timezone=True), nullable=False),
    sa.Column('decided_at', sa.DateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['package_id'], ['packages.id'], name=op.f('fk_inclusion_requests_package_id_packages'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['repo_id'], ['repos.id'], name=op.f('fk_inclusion_requests_repo_id_repos'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_inclusion_requests'))
    )
    op.create_index('ix_inclusion_requests_package_id', 'inclusion_requests', ['package_id'], unique=False)
    op.create_index('ix_inclusion_requests_repo_id_status', 'inclusion_requests', ['repo_id', 'status'], unique=False)
    op.create_index('ix_inclusion_requests_requester_id', 'inclusion_requests', ['requester_id'], unique=False)
    op.create_index('uq_inclusion_requests_pending', 'inclusion_requests', ['package_id', 'repo_id'], unique=True, postgresql_where=sa.text("status = 'pending'"), sqlite_where=sa.text("status = 'pending'"))


def downgrade() -> None:
    op.drop_index('uq_inclusion_requests_pending', table_name='inclusion_requests', postgresql_where=sa.text("status = 'pending'"), sqlite_where=sa.text("status = 'pending'"))
    op.drop_index('ix_inclusion_requests_requester_id', table_name='inclusion_requests')
    op.drop_index('ix_inclusion_requests_repo_id_status', table_name='inclusion_requests')
    op.drop_index('ix_inclusion_requests_package_id', table_name='inclusion_requests')
    op.drop_table('inclusion_requests')
    op.drop_index('ix_links_package_id', table_name='links')
    op.drop_table('links')
