"""storage used per owner (quota) and uploads per user and window (upload rate limit)

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-02 00:05:00
"""
from alembic import op
import sqlalchemy as sa


revision = '0010'
down_revision = '0009'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('owner_usage',
    sa.Column('owner', sa.String(length=64), nullable=False),
    sa.Column('used_bytes', sa.BigInteger(), nullable=False),
    sa.Column('revision', sa.Integer(), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('owner', name=op.f('pk_owner_usage'))
    )
    op.create_table('upload_windows',
    sa.Column('user_id', sa.String(length=64), nullable=False),
    sa.Column('window_start', sa.DateTime(timezone=True), nullable=False),
    sa.Column('uploads', sa.Integer(), nullable=False),
    sa.PrimaryKeyConstraint('user_id', 'window_start', name=op.f('pk_upload_windows'))
    )
    op.create_index('ix_upload_windows_window_start', 'upload_windows', ['window_start'], unique=False)
    # Owners who already store files start with their current usage (announced with their next change).
    op.execute("INSERT INTO owner_usage (owner, used_bytes, revision, updated_at) "
               "SELECT r.owner, SUM(f.size), 0, CURRENT_TIMESTAMP FROM files f JOIN repos r ON r.id = f.repo_id "
               "GROUP BY r.owner")


def downgrade() -> None:
    op.drop_index('ix_upload_windows_window_start', table_name='upload_windows')
    op.drop_table('upload_windows')
    op.drop_table('owner_usage')
