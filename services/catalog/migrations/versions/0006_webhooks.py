"""webhook registrations

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-25 14:13:00.192275
"""
from alembic import op
import sqlalchemy as sa


revision = '0006'
down_revision = '0005'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('webhooks',
    sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
    sa.Column('package_id', sa.Integer(), nullable=False),
    sa.Column('username', sa.String(length=64), nullable=False),
    sa.Column('user_id', sa.String(length=64), nullable=False),
    sa.Column('url', sa.String(length=1000), nullable=False),
    sa.Column('method', sa.String(length=8), nullable=False),
    sa.Column('failure_count', sa.Integer(), nullable=False),
    sa.Column('failures_as_of', sa.DateTime(timezone=True), nullable=True),
    sa.Column('created', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['package_id'], ['packages.id'], name=op.f('fk_webhooks_package_id_packages'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_webhooks')),
    sa.UniqueConstraint('package_id', 'username', name='uq_webhooks_package_id_username')
    )
    op.create_index('ix_webhooks_username', 'webhooks', ['username'], unique=False)


def downgrade() -> None:
    op.drop_index('ix_webhooks_username', table_name='webhooks')
    op.drop_table('webhooks')
