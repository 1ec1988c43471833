"""Replicas wait for the migration step: is_migrated / wait_until_migrated / wait-for-migrations."""

from __future__ import annotations

import itertools
import textwrap
from pathlib import Path
from types import SimpleNamespace

import pytest

from packyard.cli import main
from packyard.migrations import is_migrated, upgrade, wait_until_migrated

_numbers = itertools.count(1)

ENV = textwrap.dedent('''
    import sqlalchemy as sa

    from packyard.migrations import run_env

    run_env(sa.MetaData())
''')

REVISION = textwrap.dedent('''
    from alembic import op
    import sqlalchemy as sa

    revision = "{rev}"
    down_revision = {down!r}
    branch_labels = None
    depends_on = None


    def upgrade():
        op.create_table("t{rev}", sa.Column("id", sa.Integer, primary_key=True))


    def downgrade():
        op.drop_table("t{rev}")
''')


def _history(root: Path, revisions: list[str]) -> Path:
    """A service-shaped Alembic history (alembic.ini beside migrations/) with ``revisions`` in a line."""
    (root / "migrations" / "versions").mkdir(parents=True)
    (root / "alembic.ini").write_text("[alembic]\nscript_location = %(here)s/migrations\n")
    (root / "migrations" / "env.py").write_text(ENV)
    for down, rev in zip([None, *revisions], revisions, strict=False):
        (root / "migrations" / "versions" / f"{rev}.py").write_text(REVISION.format(rev=rev, down=down))
    return root / "alembic.ini"


@pytest.fixture
def database_url(create_database) -> str:
    return create_database(f"waitmig{next(_numbers)}")


@pytest.fixture
def ini(tmp_path) -> Path:
    return _history(tmp_path / "release2", ["0001", "0002"])


def test_a_database_without_schema_or_behind_is_not_migrated(ini, database_url):
    assert not is_migrated(ini, database_url)
    upgrade(ini, database_url, "0001")
    assert not is_migrated(ini, database_url)
    upgrade(ini, database_url)
    assert is_migrated(ini, database_url)


def test_a_database_migrated_by_a_newer_release_lets_this_one_start(tmp_path, ini, database_url):
    newer = _history(tmp_path / "release3", ["0001", "0002", "0003"])
    upgrade(newer, database_url)
    assert is_migrated(ini, database_url)  # a rollback to release 2 must be able to start


def test_waiting_ends_as_soon_as_the_migration_lands(ini, database_url):
    naps: list[float] = []

    def sleep(seconds: float) -> None:
        naps.append(seconds)
        upgrade(ini, database_url)  # the migration Job finishes while this replica waits

    assert wait_until_migrated(ini, database_url, timeout=60, interval=1.5, sleep=sleep)
    assert naps == [1.5]


def test_waiting_gives_up_after_the_timeout(ini, database_url):
    now = [0.0]

    def sleep(seconds: float) -> None:
        now[0] += seconds

    assert not wait_until_migrated(ini, database_url, timeout=10, interval=2, clock=lambda: now[0], sleep=sleep)
    assert now[0] == 10


def test_an_unreachable_database_counts_as_not_yet(ini):
    url = "postgresql+psycopg://nobody@127.0.0.1:1/none?connect_timeout=1"
    assert not wait_until_migrated(ini, url, timeout=0)


def test_the_command_exits_1_until_migrated_then_0(ini, database_url, capsys):
    container = SimpleNamespace(
        platform=SimpleNamespace(service="testsvc", settings=SimpleNamespace(database_url=database_url,
                                                                             log_level="WARNING")),
        consumer_queues=[])

    def run() -> int:
        return main("testsvc", bootstrap=lambda: container, alembic_ini=ini,
                    argv=["wait-for-migrations", "--timeout", "0"])

    assert run() == 1
    assert "python -m testsvc migrate" in capsys.readouterr().err
    upgrade(ini, database_url)
    assert run() == 0
