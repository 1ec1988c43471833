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


def upgrade() -> None:
    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.add_column(sa.Column('followers_revision', sa.BigInteger(), server_default='0', nullable=False))

    with op.batch_alter_table('subject_repos', schema=None) as batch_op:
        batch_op.add_column(sa.Column('deleted', sa.Boolean(), server_default=sa.false(), nullable=False))
        batch_op.add_column(sa.Column('revision', sa.BigInteger(), nullable=True))
        batch_op.add_column(sa.Column('changed_at', sa.DateTime(timezone=True), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('subject_repos', schema=None) as batch_op:
        batch_op.drop_column('changed_at')
        batch_op.drop_column('revision')
        batch_op.drop_column('deleted')

    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.drop_column('followers_revision')
