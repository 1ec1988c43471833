"""GPG keys of subjects, the platform keys, org memberships and automatic signing jobs.

Revision ID: 0002
Revises: 0001
Create Date: 2026-12-01 23:55:00
"""
from alembic import op
import sqlalchemy as sa


revision = '0002'
down_revision = '0001'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('gpg_keys',
    sa.Column('subject_id', sa.String(length=36), nullable=False),
    sa.Column('fingerprint', sa.String(length=64), nullable=False),
    sa.Column('key_id', sa.String(length=16), nullable=False),
    sa.Column('user_ids', sa.JSON(), nullable=False),
    sa.Column('algorithm', sa.String(length=32), nullable=False),
    sa.Column('created', sa.DateTime(timezone=True), nullable=False),
    sa.Column('expires', sa.DateTime(timezone=True), nullable=True),
    sa.Column('public_key', sa.Text(), nullable=False),
    sa.Column('private_key_ciphertext', sa.Text(), nullable=True),
    sa.Column('passphrase_protected', sa.Boolean(), nullable=False),
    sa.Column('uploaded', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['subject_id'], ['subjects.id'], name=op.f('fk_gpg_keys_subject_id_subjects'),
                            ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('subject_id', name=op.f('pk_gpg_keys'))
    )
    op.create_table('platform_keys',
    sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
    sa.Column('fingerprint', sa.String(length=64), nullable=False),
    sa.Column('public_key', sa.Text(), nullable=False),
    sa.Column('private_key_ciphertext', sa.Text(), nullable=False),
    sa.Column('source', sa.String(length=16), nullable=False),
    sa.Column('created', sa.DateTime(timezone=True), nullable=False),
    sa.Column('retired', sa.DateTime(timezone=True), nullable=True),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_platform_keys')),
    sa.UniqueConstraint('fingerprint', name=op.f('uq_platform_keys_fingerprint'))
    )
    op.create_table('memberships',
    sa.Column('org_id', sa.String(length=36), nullable=False),
    sa.Column('username', sa.String(length=50), nullable=False),
    sa.Column('role', sa.String(length=8), nullable=True),
    sa.Column('revision', sa.Integer(), nullable=False),
    sa.PrimaryKeyConstraint('org_id', 'username', name=op.f('pk_memberships'))
    )
    op.create_table('signing_jobs',
    sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
    sa.Column('owner', sa.String(length=64), nullable=False),
    sa.Column('repo', sa.String(length=64), nullable=False),
    sa.Column('package', sa.String(length=128), nullable=False),
    sa.Column('version', sa.String(length=128), nullable=False),
    sa.Column('use_owner_key', sa.Boolean(), nullable=False),
    sa.Column('publisher', sa.String(length=64), nullable=True),
    sa.Column('attempts', sa.Integer(), nullable=False),
    sa.Column('next_attempt', sa.DateTime(timezone=True), nullable=False),
    sa.Column('last_error', sa.Text(), nullable=True),
    sa.Column('created', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_signing_jobs'))
    )
    op.create_index('ix_signing_jobs_next_attempt', 'signing_jobs', ['next_attempt'], unique=False)


def downgrade() -> None:
    op.drop_index('ix_signing_jobs_next_attempt', table_name='signing_jobs')
    op.drop_table('signing_jobs')
    op.drop_table('memberships')
    op.drop_table('platform_keys')
    op.drop_table('gpg_keys')
