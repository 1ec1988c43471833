"""event ordering: revisions of follower counts, tombstones of deleted repositories

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-25 13:00:00
"""
from alembic import op
import sqlalchemy as sa


revision = '0005'
down_revision = '0004'
branch_labels = None
depends_on = None


# In place, not through a batch "move and copy" (see 0002: it would cascade-delete on SQLite).


def upgrade() -> None:
    op.add_column('users', sa.Column('followers_revision', sa.BigInteger(), server_default='0', nullable=False))
    op.add_column('subject_repos', sa.Column('deleted', sa.Boolean(), server_default=sa.false(), nullable=False))
    op.add_column('subject_repos', sa.Column('revision', sa.BigInteger(), nullable=True))
    op.add_column('subject_repos', sa.Column('changed_at', sa.DateTime(timezone=True), nullable=True))


def downgrade() -> None:
    op.drop_column('subject_repos', 'changed_at')
    op.drop_column('subject_repos', 'revision')
    op.drop_column('subject_repos', 'deleted')
    op.drop_column('users', 'followers_revision')
