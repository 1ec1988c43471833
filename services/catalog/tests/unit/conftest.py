"""The fast layer of catalog's tests: the suite's fixtures on SQLite, no server (packyard.testing.unit)."""

from catalog.__main__ import ALEMBIC_INI
from packyard.testing.unit import no_servers, sqlite_database  # noqa: F401 - no_servers: an autouse fixture

catalog_db = sqlite_database(ALEMBIC_INI, name="catalog_db")
