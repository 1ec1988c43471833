"""social counters ordered by count_revision; the package's average rating

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-02 01:25:00
"""
from alembic import op
import sqlalchemy as sa


revision = '0011'
down_revision = '0010'
branch_labels = None
depends_on = None


def upgrade() -> None:
    # Null until the first event carrying a count_revision: any such event then applies.
    op.add_column('packages', sa.Column('followers_count_revision', sa.BigInteger(), nullable=True))
    op.add_column('packages', sa.Column('ratings_count_revision', sa.BigInteger(), nullable=True))
    op.add_column('packages', sa.Column('rating', sa.Float(), nullable=False, server_default='0'))


def downgrade() -> None:
    with op.batch_alter_table('packages') as batch:
        batch.drop_column('rating')
        batch.drop_column('ratings_count_revision')
        batch.drop_column('followers_count_revision')
