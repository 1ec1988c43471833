"""The fast layer of social's tests: the suite's fixtures on SQLite, no server (packyard.testing.unit)."""

from packyard.testing.unit import no_servers, sqlite_database  # noqa: F401 - no_servers: an autouse fixture
from social.__main__ import ALEMBIC_INI

database_url = sqlite_database(ALEMBIC_INI)
