"""The fast layer of identity's tests: the suite's fixtures on SQLite, no server (packyard.testing.unit)."""

import argon2
import pytest

from identity.__main__ import ALEMBIC_INI
from identity.bootstrap import bootstrap
from identity.commands import ensure_signing_key
from identity.credentials import Passwords
from packyard.testing.service import containers
from packyard.testing.unit import no_servers, sqlite_database  # noqa: F401 - no_servers: an autouse fixture

sqlite_url = sqlite_database(ALEMBIC_INI, name="sqlite_url")


@pytest.fixture
def make_identity(sqlite_url, clock, settings_for):
    """``make_identity(**settings)`` → identity on this test's SQLite database, with cheap argon2 parameters."""
    def build(**overrides):
        cheap = Passwords(argon2.PasswordHasher(time_cost=1, memory_cost=8, parallelism=1, type=argon2.Type.ID))
        ident = bootstrap(settings_for(sqlite_url, **overrides), passwords=cheap, clock=clock)
        ensure_signing_key(ident)
        return ident
    yield from containers(build)


@pytest.fixture
def identity(make_identity):
    return make_identity()
