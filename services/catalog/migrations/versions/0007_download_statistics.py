"""download statistics: daily roll-ups, positions in the gateway's download log, recent-days index

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-25 14:13:00.192275
"""
from alembic import op
import sqlalchemy as sa


revision = '0007'
down_revision = '0006'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('download_rollups',
    sa.Column('package_id', sa.Integer(), nullable=False),
    sa.Column('day', sa.Date(), nullable=False),
    sa.Column('downloads', sa.BigInteger(), nullable=False),
    sa.Column('rolled_up_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['package_id'], ['packages.id'], name=op.f('fk_download_rollups_package_id_packages'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('package_id', 'day', name=op.f('pk_download_rollups'))
    )
    op.create_table('download_log_positions',
    sa.Column('name', sa.String(length=255), nullable=False),
    sa.Column('inode', sa.BigInteger(), nullable=False),
    sa.Column('position', sa.BigInteger(), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('name', name=op.f('pk_download_log_positions'))
    )
    op.create_index('ix_download_counts_day', 'download_counts', ['day'], unique=False)


def downgrade() -> None:
    op.drop_index('ix_download_counts_day', table_name='download_counts')
    op.drop_table('download_log_positions')
    op.drop_table('download_rollups')
