"""Identity's migrations: they build exactly the models' schema on PostgreSQL and SQLite, keep data, and undo."""

from datetime import UTC, datetime

import pytest
import sqlalchemy as sa
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext

from identity.__main__ import ALEMBIC_INI
from identity.models import metadata
from packyard.migrations import alembic_config, upgrade


@pytest.fixture(params=["postgresql", "sqlite"])
def database_url(request, create_database, tmp_path):
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path}/identity.db"
    return create_database(f"identity_migrations_{tmp_path.name[-20:].replace('-', '_')}".lower())


def schema_diff(url):
    engine = sa.create_engine(url)
    try:
        with engine.connect() as conn:
            context = MigrationContext.configure(conn, opts={"compare_type": True})
            return compare_metadata(context, metadata)
    finally:
        engine.dispose()


def test_migrations_build_exactly_the_models(database_url):
    upgrade(ALEMBIC_INI, database_url)
    assert schema_diff(database_url) == []


def test_existing_accounts_survive_the_upgrade(database_url):
    upgrade(ALEMBIC_INI, database_url, "0001")
    engine = sa.create_engine(database_url)
    now = datetime.now(UTC)
    with engine.begin() as conn:
        conn.execute(sa.text(
            "INSERT INTO users (id, username, username_key, email, email_key, password_hash, full_name, is_admin,"
            " created_at, token_generation, followers_count) VALUES ('u1', 'Alice', 'alice', 'a@example.com',"
            " 'a@example.com', 'hash', 'Alice Pleasance Liddell', false, :now, 0, 4)"), {"now": now})
        conn.execute(sa.text("INSERT INTO api_keys (user_id, ciphertext, digest, created_at)"
                             " VALUES ('u1', 'c', 'd', :now)"), {"now": now})
    upgrade(ALEMBIC_INI, database_url)
    with engine.connect() as conn:
        user = conn.execute(sa.text("SELECT first_name, last_name, show_email, release_alerts_email, revision"
                                    " FROM users")).one()
        assert tuple(user) == ("Alice", "Pleasance Liddell", False, True, 0)
        assert conn.execute(sa.text("SELECT count(*) FROM api_keys")).scalar() == 1
        assert conn.execute(sa.text("SELECT name_key, kind FROM subject_names")).all() == [("alice", "user")]
    command.downgrade(alembic_config(ALEMBIC_INI, database_url), "0001")
    with engine.connect() as conn:
        assert conn.execute(sa.text("SELECT count(*) FROM api_keys")).scalar() == 1
        assert conn.execute(sa.text("SELECT full_name FROM users")).scalar() == "Alice Pleasance Liddell"
    engine.dispose()


def test_migrations_undo_cleanly(database_url):
    config = alembic_config(ALEMBIC_INI, database_url)
    command.upgrade(config, "head")
    command.downgrade(config, "base")
    engine = sa.create_engine(database_url)
    with engine.connect() as conn:
        assert set(sa.inspect(conn).get_table_names()) <= {"alembic_version"}
    engine.dispose()
    command.upgrade(config, "head")
    assert schema_diff(database_url) == []
