"""Alembic helpers: each service keeps its own migration history (``services/<name>/migrations``).

A service's ``migrations/env.py`` is two lines::

    from packyard.migrations import run_env
    from identity.models import metadata
    run_env(metadata)

and :func:`upgrade` runs that history against a URL, which is what the ``migrate`` command
(a Kubernetes Job, a compose one-off service, the local start script) and the test suite do.
Migrations are never run by API or worker replicas at start.

SQLite cannot alter tables in place; ``render_as_batch`` makes the same migration scripts
work on both databases.
"""

from __future__ import annotations

import os
from pathlib import Path

import sqlalchemy as sa
from alembic import command, context
from alembic.config import Config

from packyard.db import make_engine

__all__ = ["alembic_config", "upgrade", "run_env"]


def alembic_config(ini_path: str | Path, database_url: str) -> Config:
    ini_path = Path(ini_path)
    config = Config(str(ini_path))
    config.set_main_option("script_location", str(ini_path.parent / "migrations"))
    config.set_main_option("sqlalchemy.url", database_url.replace("%", "%%"))
    return config


def upgrade(ini_path: str | Path, database_url: str, revision: str = "head") -> None:
    """Apply the service's migrations up to ``revision`` (idempotent)."""
    command.upgrade(alembic_config(ini_path, database_url), revision)


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
