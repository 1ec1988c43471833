"""catalog: repositories, team permissions, packages, versions, files and download counts

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-25 13:04:06.491123
"""
from alembic import op
import sqlalchemy as sa


revision = '0003'
down_revision = '0002'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('repos',
    sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
    sa.Column('owner', sa.String(length=64), nullable=False),
    sa.Column('name', sa.String(length=64), nullable=False),
    sa.Column('type', sa.String(length=16), nullable=False),
    sa.Column('private', sa.Boolean(), nullable=False),
    sa.Column('desc', sa.Text(), nullable=True),
    sa.Column('labels', sa.JSON(), nullable=False),
    sa.Column('gpg_sign_metadata', sa.Boolean(), nullable=False),
    sa.Column('gpg_sign_files', sa.Boolean(), nullable=False),
    sa.Column('gpg_use_owner_key', sa.Boolean(), nullable=False),
    sa.Column('created', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated', sa.DateTime(timezone=True), nullable=False),
    sa.Column('revision', sa.Integer(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_repos')),
    sa.UniqueConstraint('owner', 'name', name='uq_repos_owner_name')
    )
    op.create_table('packages',
    sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
    sa.Column('repo_id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=128), nullable=False),
    sa.Column('desc', sa.Text(), nullable=True),
    sa.Column('labels', sa.JSON(), nullable=False),
    sa.Column('licenses', sa.JSON(), nullable=False),
    sa.Column('custom_licenses', sa.JSON(), nullable=False),
    sa.Column('vcs_url', sa.String(length=1000), nullable=True),
    sa.Column('website_url', sa.String(length=1000), nullable=True),
    sa.Column('issue_tracker_url', sa.String(length=1000), nullable=True),
    sa.Column('github_repo', sa.String(length=200), nullable=True),
    sa.Column('github_release_notes_file', sa.String(length=500), nullable=True),
    sa.Column('public_download_numbers', sa.Boolean(), nullable=False),
    sa.Column('public_stats', sa.Boolean(), nullable=False),
    sa.Column('maturity', sa.String(length=16), nullable=False),
    sa.Column('attributes', sa.JSON(), nullable=False),
    sa.Column('readme', sa.JSON(), nullable=True),
    sa.Column('release_notes', sa.JSON(), nullable=True),
    sa.Column('followers_count', sa.Integer(), nullable=False),
    sa.Column('followers_as_of', sa.DateTime(timezone=True), nullable=True),
    sa.Column('rating_count', sa.Integer(), nullable=False),
    sa.Column('ratings_as_of', sa.DateTime(timezone=True), nullable=True),
    sa.Column('created', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated', sa.DateTime(timezone=True), nullable=False),
    sa.Column('revision', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['repo_id'], ['repos.id'], name=op.f('fk_packages_repo_id_repos'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_packages')),
    sa.UniqueConstraint('repo_id', 'name', name='uq_packages_repo_id_name')
    )
    op.create_table('repo_permissions',
    sa.Column('repo_id', sa.Integer(), nullable=False),
    sa.Column('team', sa.String(length=64), nullable=False),
    sa.Column('permission', sa.String(length=8), nullable=False),
    sa.ForeignKeyConstraint(['repo_id'], ['repos.id'], name=op.f('fk_repo_permissions_repo_id_repos'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('repo_id', 'team', name=op.f('pk_repo_permissions'))
    )
    op.create_table('versions',
    sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
    sa.Column('package_id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=128), nullable=False),
    sa.Column('desc', sa.Text(), nullable=True),
    sa.Column('labels', sa.JSON(), nullable=False),
    sa.Column('attributes', sa.JSON(), nullable=False),
    sa.Column('release_notes', sa.JSON(), nullable=True),
    sa.Column('ordinal', sa.Float(), nullable=False),
    sa.Column('github_release_notes_file', sa.String(length=500), nullable=True),
    sa.Column('github_use_tag_release_notes', sa.Boolean(), nullable=False),
    sa.Column('vcs_tag', sa.String(length=200), nullable=True),
    sa.Column('created', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated', sa.DateTime(timezone=True), nullable=False),
    sa.Column('released', sa.DateTime(timezone=True), nullable=True),
    sa.Column('published_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('rating_count', sa.Integer(), nullable=False),
    sa.Column('ratings_as_of', sa.DateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['package_id'], ['packages.id'], name=op.f('fk_versions_package_id_packages'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_versions')),
    sa.UniqueConstraint('package_id', 'name', name='uq_versions_package_id_name')
    )
    op.create_table('download_counts',
    sa.Column('file_id', sa.Integer(), nullable=False),
    sa.Column('day', sa.Date(), nullable=False),
    sa.Column('country', sa.String(length=16), nullable=False),
    sa.Column('version_id', sa.Integer(), nullable=False),
    sa.Column('package_id', sa.Integer(), nullable=False),
    sa.Column('count', sa.BigInteger(), nullable=False),
    sa.ForeignKeyConstraint(['package_id'], ['packages.id'], name=op.f('fk_download_counts_package_id_packages'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['version_id'], ['versions.id'], name=op.f('fk_download_counts_version_id_versions'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('file_id', 'day', 'country', name=op.f('pk_download_counts'))
    )
    op.create_index('ix_download_counts_package_id_day', 'download_counts', ['package_id', 'day'], unique=False)
    op.create_index('ix_download_counts_version_id_day', 'download_counts', ['version_id', 'day'], unique=False)
    op.create_table('files',
    sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
    sa.Column('repo_id', sa.Integer(), nullable=False),
    sa.Column('package_id', sa.Integer(), nullable=False),
    sa.Column('version_id', sa.Integer(), nullable=False),
    sa.Column('path', sa.String(length=1024), nullable=False),
    sa.Column('name', sa.String(length=255), nullable=False),
    sa.Column('size', sa.BigInteger(), nullable=False),
    sa.Column('sha1', sa.String(length=40), nullable=False),
    sa.Column('sha256', sa.String(length=64), nullable=False),
    sa.Column('uploader', sa.String(length=64), nullable=False),
    sa.Column('created', sa.DateTime(timezone=True), nullable=False),
    sa.Column('published_at', sa.DateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['package_id'], ['packages.id'], name=op.f('fk_files_package_id_packages'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['repo_id'], ['repos.id'], name=op.f('fk_files_repo_id_repos'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['version_id'], ['versions.id'], name=op.f('fk_files_version_id_versions'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_files')),
    sa.UniqueConstraint('repo_id', 'path', name='uq_files_repo_id_path'),
    sqlite_autoincrement=True
    )
    op.create_index('ix_files_name', 'files', ['name'], unique=False)
    op.create_index('ix_files_package_id', 'files', ['package_id'], unique=False)
    op.create_index('ix_files_sha1', 'files', ['sha1'], unique=False)
    op.create_index('ix_files_sha256', 'files', ['sha256'], unique=False)
    op.create_index('ix_files_version_id', 'files', ['version_id'], unique=False)


def downgrade() -> None:
    op.drop_index('ix_files_version_id', table_name='files')
    op.drop_index('ix_files_sha256', table_name='files')
    op.drop_index('ix_files_sha1', table_name='files')
    op.drop_index('ix_files_package_id', table_name='files')
    op.drop_index('ix_files_name', table_name='files')
    op.drop_table('files')
    op.drop_index('ix_download_counts_version_id_day', table_name='download_counts')
    op.drop_index('ix_download_counts_package_id_day', table_name='download_counts')
    op.drop_table('download_counts')
    op.drop_table('versions')
    op.drop_table('repo_permissions')
    op.drop_table('packages')
    op.drop_table('repos')
