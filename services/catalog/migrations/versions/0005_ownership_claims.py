"""ownership claims, their history, and where moved packages used to be

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-25 14:13:00.192275
"""
from alembic import op
import sqlalchemy as sa


revision = '0005'
down_revision = '0004'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('claims',
    sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
    sa.Column('package_id', sa.Integer(), nullable=True),
    sa.Column('owner', sa.String(length=64), nullable=False),
    sa.Column('repo', sa.String(length=64), nullable=False),
    sa.Column('package', sa.String(length=128), nullable=False),
    sa.Column('claimant', sa.String(length=64), nullable=False),
    sa.Column('claimant_id', sa.String(length=64), nullable=False),
    sa.Column('reason', sa.Text(), nullable=False),
    sa.Column('evidence', sa.Text(), nullable=False),
    sa.Column('target_owner', sa.String(length=64), nullable=False),
    sa.Column('target_repo', sa.String(length=64), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('filed', sa.DateTime(timezone=True), nullable=False),
    sa.Column('answer_due', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['package_id'], ['packages.id'], name=op.f('fk_claims_package_id_packages'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_claims'))
    )
    op.create_index('ix_claims_claimant_id', 'claims', ['claimant_id'], unique=False)
    op.create_index('ix_claims_owner', 'claims', ['owner'], unique=False)
    op.create_index('ix_claims_package_id', 'claims', ['package_id'], unique=False)
    op.create_index('ix_claims_status', 'claims', ['status'], unique=False)
    op.create_table('claim_steps',
    sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
    sa.Column('claim_id', sa.Integer(), nullable=False),
    sa.Column('action', sa.String(length=16), nullable=False),
    sa.Column('actor', sa.String(length=64), nullable=False),
    sa.Column('at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('message', sa.Text(), nullable=True),
    sa.ForeignKeyConstraint(['claim_id'], ['claims.id'], name=op.f('fk_claim_steps_claim_id_claims'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_claim_steps'))
    )
    op.create_index('ix_claim_steps_claim_id', 'claim_steps', ['claim_id'], unique=False)
    op.create_table('package_moves',
    sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
    sa.Column('package_id', sa.Integer(), nullable=False),
    sa.Column('from_owner', sa.String(length=64), nullable=False),
    sa.Column('from_repo', sa.String(length=64), nullable=False),
    sa.Column('package', sa.String(length=128), nullable=False),
    sa.Column('moved_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['package_id'], ['packages.id'], name=op.f('fk_package_moves_package_id_packages'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_package_moves'))
    )
    op.create_index('ix_package_moves_from_owner_from_repo', 'package_moves', ['from_owner', 'from_repo'], unique=False)
    op.create_index('ix_package_moves_package_id', 'package_moves', ['package_id'], unique=False)


def downgrade() -> None:
    op.drop_index('ix_package_moves_package_id', table_name='package_moves')
    op.drop_index('ix_package_moves_from_owner_from_repo', table_name='package_moves')
    op.drop_table('package_moves')
    op.drop_index('ix_claim_steps_claim_id', table_name='claim_steps')
    op.drop_table('claim_steps')
    op.drop_index('ix_claims_status', table_name='claims')
    op.drop_index('ix_claims_package_id', table_name='claims')
    op.drop_index('ix_claims_owner', table_name='claims')
    op.drop_index('ix_claims_claimant_id', table_name='claims')
    op.drop_table('claims')
