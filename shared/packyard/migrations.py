"""Alembic helpers: each service keeps its own migration history (``services/<name>/migrations``).

A service's ``migrations/env.py`` is two lines::

    from packyard.migrations import run_env
    from identity.models import metadata
    run_env(metadata)

and :func:`upgrade` runs that history against a URL, which is what the ``migrate`` command
(a Kubernetes Job, a compose one-off service, the local start script) and the test suite do.
Migrations are never run by API or worker replicas at start: they wait instead
(:func:`wait_until_migrated`, the ``wait-for-migrations`` command of their init containers)
until the database holds this code's schema.

SQLite cannot alter tables in place; ``render_as_batch`` makes the same migration scripts
work on both databases.
"""

from __future__ import annotations

import logging
import os
import time
from collections.abc import Callable
from pathlib import Path

import sqlalchemy as sa
from alembic import command, context
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory

from packyard.db import make_engine

__all__ = ["alembic_config", "upgrade", "is_migrated", "wait_until_migrated", "run_env"]

log = logging.getLogger(__name__)


def alembic_config(ini_path: str | Path, database_url: str) -> Config:
    ini_path = Path(ini_path)
    config = Config(str(ini_path))
    config.set_main_option("script_location", str(ini_path.parent / "migrations"))
    config.set_main_option("sqlalchemy.url", database_url.replace("%", "%%"))
    return config


def upgrade(ini_path: str | Path, database_url: str, revision: str = "head") -> None:
    """Apply the service's migrations up to ``revision`` (idempotent)."""
    command.upgrade(alembic_config(ini_path, database_url), revision)


def is_migrated(ini_path: str | Path, database_url: str) -> bool:
    """True when the database holds the schema this code expects, or a newer one.

    "Newer" is a revision this code's history does not know: a later release has already
    migrated, and expand-then-contract migrations keep the previous code working (a rollback
    must be able to start). A database with no revision, or one behind the heads, is not
    migrated.
    """
    config = alembic_config(ini_path, database_url)
    script = ScriptDirectory.from_config(config)
    heads = set(script.get_heads())
    known = {revision.revision for revision in script.walk_revisions()}
    engine = make_engine(database_url, pool_size=1)
    alembic_log = logging.getLogger("alembic.runtime.migration")
    level = alembic_log.level
    alembic_log.setLevel(logging.WARNING)  # it announces its dialect at every look
    try:
        with engine.connect() as connection:
            current = set(MigrationContext.configure(connection).get_current_heads())
    finally:
        alembic_log.setLevel(level)
        engine.dispose()
    if not current:
        return False
    return current == heads or not current <= known


def wait_until_migrated(
    ini_path: str | Path,
    database_url: str,
    *,
    timeout: float,
    interval: float = 2.0,
    clock: Callable[[], float] = time.monotonic,
    sleep: Callable[[float], None] = time.sleep,
) -> bool:
    """Poll :func:`is_migrated` until it holds (True) or ``timeout`` seconds pass (False).

    An unreachable database counts as "not yet": the process waiting is usually started
    together with the database and the migration.
    """
    deadline = clock() + timeout
    said = None
    while True:
        try:
            if is_migrated(ini_path, database_url):
                return True
            news = "waiting for the database to be migrated"
        except sa.exc.SQLAlchemyError as exc:
            news = f"waiting for the database to be reachable ({exc.__class__.__name__})"
        if news != said:
            log.info(news)
            said = news
        if clock() >= deadline:
            return False
        sleep(interval)


def run_env(metadata: sa.MetaData) -> None:
    """The body of every service's ``migrations/env.py``."""
    config = context.config
    url = config.get_main_option("sqlalchemy.url") or os.environ.get("DATABASE_URL")
    if not url:
        raise SystemExit("configuration error: missing required environment variable DATABASE_URL")
    if context.is_offline_mode():
        context.configure(url=url, target_metadata=metadata, literal_binds=True,
                          render_as_batch=url.startswith("sqlite"))
        with context.begin_transaction():
            context.run_migrations()
        return
    engine = make_engine(url, pool_size=1)
    try:
        with engine.connect() as connection:
            context.configure(connection=connection, target_metadata=metadata,
                              render_as_batch=connection.dialect.name == "sqlite",
                              compare_type=True)
            with context.begin_transaction():
                context.run_migrations()
            connection.commit()
    finally:
        engine.dispose()
