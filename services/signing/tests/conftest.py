from __future__ import annotations

import subprocess
import tempfile
from pathlib import Path

import pytest
import sqlalchemy as sa

from packyard.testing import SERVICE_TOKEN, TokenMinter
from packyard.testing.events import IdentityEvents
from packyard.testing.service import postgres_database, service_fixtures
from signing.__main__ import ALEMBIC_INI
from signing.app import create_app
from signing.bootstrap import bootstrap
from signing.config import Settings
from signing.models import Subject

QUEUE = "signing.subjects"

database_url = postgres_database(ALEMBIC_INI, "signing")

SECRET_KEY = "a-test-secret-key-of-at-least-32-characters"


@pytest.fixture(scope="session")
def minter():
    return TokenMinter()


def build(database_url, minter, amqp_url="amqp://guest:guest@127.0.0.1:5672/%2F", **extra):
    """What ``make_signing(amqp_url=..., **settings)`` builds: a signing container on this test's database."""
    settings = Settings(database_url=database_url, amqp_url=amqp_url, jwks_url="http://identity.invalid/jwks",
                        service_token=SERVICE_TOKEN, secret_key=SECRET_KEY, **extra)
    return bootstrap(settings, jwks_source=minter.jwks)


@pytest.fixture
def subjects(signing):
    """``subjects()`` → the replica as {id: (name, kind, revision, deleted)}."""
    def read():
        with signing.uow() as uow:
            rows = uow.session.execute(sa.select(Subject.__table__)).all()
        return {r.id: (r.name, r.kind, r.revision, r.deleted_at is not None) for r in rows}
    return read


@pytest.fixture
def identity():
    """Identity's events as they travel on the bus, built from the contract (packyard.testing.events)."""
    return IdentityEvents()


# make_signing, a container, its test client, deliver(event) → the outcome on QUEUE without a broker, and
# running_worker → a RabbitMQ vhost a worker consumes from (packyard.testing.service)
make_signing, signing, client, deliver, running_worker = service_fixtures("signing", build, create_app, queue=QUEUE)


class Keys:
    """Real GPG keys made with the real gpg, once per test session (key generation is slow)."""

    def __init__(self, root):
        self._root = root
        self._made = {}

    def _gpg(self, *args, home, input=None):
        return subprocess.run(["gpg", "--homedir", str(home), "--batch", "--yes", "--pinentry-mode", "loopback",
                               *args], input=input, capture_output=True, check=True).stdout.decode()

    def make(self, name, *, passphrase="", expire="0", faked_time=None):
        """(public armor, private armor, fingerprint) of a new Ed25519 signing key."""
        home = Path(tempfile.mkdtemp(prefix="k", dir=self._root))
        extra = ["--faked-system-time", faked_time] if faked_time else []
        self._gpg(*extra, "--passphrase", passphrase, "--quick-generate-key", f"{name} <{name}@example.com>",
                  "ed25519", "sign", expire, home=home)
        fingerprint = self._gpg("--list-keys", "--with-colons", home=home).split("fpr:::::::::")[1].split(":")[0]
        public = self._gpg("--armor", "--export", fingerprint, home=home)
        private = self._gpg("--passphrase", passphrase, "--armor", "--export-secret-keys", fingerprint, home=home)
        return public, private, fingerprint, home

    def get(self, label, **kwargs):
        if label not in self._made:
            self._made[label] = self.make(label.replace("_", "-"), **kwargs)
        return self._made[label]

    def revoked(self, label):
        public, private, fingerprint, home = self.get(label)
        certificate = (home / "openpgp-revocs.d" / f"{fingerprint}.rev").read_text().replace(":-----", "-----")
        self._gpg("--import", home=home, input=certificate.encode())
        return self._gpg("--armor", "--export", fingerprint, home=home), private, fingerprint


@pytest.fixture(scope="session")
def keys(tmp_path_factory):
    return Keys(tmp_path_factory.mktemp("gpgkeys"))


@pytest.fixture(autouse=True)
def _answers_match_the_openapi_document(openapi_check):
    """Every answer a test receives is checked against the service's OpenAPI document."""
    return openapi_check
