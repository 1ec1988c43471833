"""The fast test layer: use-case and consumer tests that need no server.

A service's ``tests/unit/`` directory holds them; ``make test-unit`` runs every such
directory (in seconds, without PostgreSQL, RabbitMQ or an SMTP server), and ``make test``
runs them first. Their ``conftest.py`` is two lines::

    from packyard.testing.unit import no_servers, sqlite_database  # noqa: F401 (fixtures)
    database_url = sqlite_database(ALEMBIC_INI)

:func:`sqlite_database` replaces the database fixture of the service's suite with a copy of
the service's schema — its real migrations on SQLite, the embedded database of a local run,
applied once per run — so the suite's other fixtures (containers, clients, event builders)
serve unchanged; :func:`no_servers` fails a test there that asks for a server fixture.
"""

from __future__ import annotations

import sqlite3
from pathlib import Path
from typing import Any

import pytest

from packyard.migrations import upgrade

__all__ = ["SERVER_FIXTURES", "migrated_sqlite", "no_servers", "refuse_servers", "sqlite_copy", "sqlite_database"]

# the plugin's fixtures that start or reach a server (packyard.testing.plugin)
SERVER_FIXTURES = frozenset({"postgres_server_url", "create_database", "rabbitmq", "amqp_url", "fresh_amqp_url",
                             "smtp_sink"})


def migrated_sqlite(alembic_ini: Path, directory: Path) -> Path:
    """An SQLite database file in ``directory`` migrated to the head of ``alembic_ini``."""
    path = directory / "template.db"
    upgrade(alembic_ini, f"sqlite:///{path}")
    return path


def sqlite_copy(template: Path, directory: Path, name: str = "service.db") -> str:
    """The URL of a fresh copy of ``template`` in ``directory`` (a page copy: milliseconds)."""
    target = directory / name
    with sqlite3.connect(template) as source, sqlite3.connect(target) as copy:
        source.backup(copy)
    return f"sqlite:///{target}"


def sqlite_database(alembic_ini: Path, *, name: str = "database_url") -> Any:
    """A fixture ``name``: the URL of a fresh SQLite copy of the schema of ``alembic_ini`` (migrated once)."""
    template: list[Path] = []

    @pytest.fixture(name=name)
    def database(tmp_path_factory: pytest.TempPathFactory, tmp_path: Path) -> str:
        if not template:
            template.append(migrated_sqlite(alembic_ini, tmp_path_factory.mktemp("schema")))
        return sqlite_copy(template[0], tmp_path)

    return database


@pytest.fixture(autouse=True)
def no_servers(request: pytest.FixtureRequest) -> None:
    """Autouse in a fast layer's conftest: :func:`refuse_servers` for every test."""
    refuse_servers(request)


def refuse_servers(request: pytest.FixtureRequest) -> None:
    """Fail the test when it asks for a server: the fast layer runs where none is."""
    asked = SERVER_FIXTURES.intersection(request.fixturenames)
    if asked:
        pytest.fail(f"{request.node.nodeid} is in the fast layer but asks for a server: {', '.join(sorted(asked))}; "
                    "move it beside the integration tests", pytrace=False)
