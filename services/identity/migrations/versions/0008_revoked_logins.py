"""login tokens logged out before they expire (POST /auth/logout), by jti

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-02 01:45:00
"""
from alembic import op
import sqlalchemy as sa


revision = '0008'
down_revision = '0007'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        'revoked_logins',
        sa.Column('jti', sa.String(length=64), nullable=False),
        sa.Column('expires_at', sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint('jti', name=op.f('pk_revoked_logins')),
    )
    op.create_index(op.f('ix_revoked_logins_expires_at'), 'revoked_logins', ['expires_at'], unique=False)


def downgrade() -> None:
    op.drop_index(op.f('ix_revoked_logins_expires_at'), table_name='revoked_logins')
    op.drop_table('revoked_logins')
