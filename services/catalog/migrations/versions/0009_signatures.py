"""signatures of files (which key, when) and the replica of signing's GPG keys

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-01 23:58:00
"""
from alembic import op
import sqlalchemy as sa


revision = '0009'
down_revision = '0008'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('files') as batch:
        batch.add_column(sa.Column('signature_fingerprint', sa.String(length=64), nullable=True))
        batch.add_column(sa.Column('signed_at', sa.DateTime(timezone=True), nullable=True))
    op.create_table('gpg_keys',
    sa.Column('subject', sa.String(length=64), nullable=False),
    sa.Column('fingerprint', sa.String(length=64), nullable=True),
    sa.Column('has_private_key', sa.Boolean(), nullable=False),
    sa.Column('passphrase_protected', sa.Boolean(), nullable=False),
    sa.Column('changed_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('subject', name=op.f('pk_gpg_keys'))
    )


def downgrade() -> None:
    op.drop_table('gpg_keys')
    with op.batch_alter_table('files') as batch:
        batch.drop_column('signed_at')
        batch.drop_column('signature_fingerprint')
