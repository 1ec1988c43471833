"""The fast layer of the notifier's tests: the suite's fixtures on SQLite, mail through a fake transport."""

import pytest

from notifier.__main__ import ALEMBIC_INI
from packyard.testing.unit import no_servers, sqlite_database  # noqa: F401 - no_servers: an autouse fixture

database_url = sqlite_database(ALEMBIC_INI)


@pytest.fixture
def notifier(make_notifier):
    return make_notifier()  # no SMTP server: tests that send hand the sender a FakeTransport


class FakeTransport:
    """The mail transport port, keeping what it is given."""

    def __init__(self):
        self.sent = []

    def connect(self):
        return self

    def send(self, message):
        self.sent.append(message)

    def close(self):
        pass


@pytest.fixture
def transport():
    return FakeTransport()
