"""profiles: personal fields, privacy, email preferences, linked accounts, avatars

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-25 13:00:00
"""
from alembic import op
import sqlalchemy as sa


revision = '0002'
down_revision = '0001'
branch_labels = None
depends_on = None

TEXT_COLUMNS = [
    ('first_name', sa.String(length=100)),
    ('last_name', sa.String(length=100)),
    ('bio', sa.Text()),
    ('company', sa.String(length=100)),
    ('location', sa.String(length=100)),
    ('website', sa.String(length=500)),
    ('twitter', sa.String(length=64)),
    ('github', sa.String(length=64)),
    ('google', sa.String(length=64)),
    ('bitbucket', sa.String(length=64)),
    ('hidden_fields', sa.String(length=200)),
]


# Columns are added and dropped in place (SQLite 3.35+ does both), never through a batch
# "move and copy": with foreign keys on, SQLite would drop the old users table by deleting
# its rows, and the ON DELETE CASCADE of api_keys would empty that table too.


def upgrade() -> None:
    for name, type_ in TEXT_COLUMNS:
        op.add_column('users', sa.Column(name, type_, server_default='', nullable=False))
    op.add_column('users', sa.Column('show_email', sa.Boolean(), server_default=sa.false(), nullable=False))
    op.add_column('users', sa.Column('release_alerts_email', sa.Boolean(), server_default=sa.true(), nullable=False))
    op.add_column('users', sa.Column('news_email', sa.Boolean(), server_default=sa.false(), nullable=False))
    op.add_column('users', sa.Column('revision', sa.Integer(), server_default='0', nullable=False))

    # Accounts made before first and last names existed keep their full name: its first word
    # becomes the first name, the rest the last name (their owners can correct it).
    users = sa.table('users', sa.column('id', sa.String), sa.column('full_name', sa.String),
                     sa.column('first_name', sa.String), sa.column('last_name', sa.String))
    connection = op.get_bind()
    for user_id, full_name in connection.execute(sa.select(users.c.id, users.c.full_name)
                                                 .where(users.c.full_name != '')).all():
        first, _, last = full_name.strip().partition(' ')
        connection.execute(users.update().where(users.c.id == user_id)
                           .values(first_name=first[:100], last_name=last.strip()[:100]))

    op.create_table('avatars',
    sa.Column('user_id', sa.String(length=36), nullable=False),
    sa.Column('content_type', sa.String(length=30), nullable=False),
    sa.Column('image', sa.LargeBinary(), nullable=False),
    sa.Column('etag', sa.String(length=64), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_avatars_user_id_users'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('user_id', name=op.f('pk_avatars'))
    )


def downgrade() -> None:
    op.drop_table('avatars')
    for name in ('revision', 'news_email', 'release_alerts_email', 'show_email'):
        op.drop_column('users', name)
    for name, _type in reversed(TEXT_COLUMNS):
        op.drop_column('users', name)
