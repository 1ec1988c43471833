"""pytest fixtures: real PostgreSQL and RabbitMQ for every test run, isolated per run.

Where the servers come from:

* when a Docker engine is reachable, from testcontainers (``postgres:16``,
  ``rabbitmq:4-management``), started once per test session;
* otherwise from the environment (what CI uses)::

      PACKYARD_TEST_POSTGRES_URL=postgresql+psycopg://postgres@127.0.0.1:5432/postgres
      PACKYARD_TEST_AMQP_URL=amqp://guest:guest@127.0.0.1:5672/
      PACKYARD_TEST_RABBITMQ_API=http://guest:guest@127.0.0.1:15672   # management API

  ``PACKYARD_TEST_USE_DOCKER=0`` forces this even where Docker runs.

Isolation: every run gets its own databases (``pk_<run id>_<name>``) and its own RabbitMQ
virtual host, so concurrent runs on one machine never see each other's data; tests that
need a broker to themselves ask for :func:`fresh_amqp_url` (a vhost per test). Everything
is dropped at the end of the run; leftovers of crashed runs older than six hours are
removed at the start of the next one.
"""

from __future__ import annotations

import functools
import os
import re
import secrets
import shutil
import subprocess
import time
import urllib.parse
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field

import pytest
import requests
import sqlalchemy as sa

from packyard.testing import SmtpSink

_STALE_SECONDS = 6 * 3600


@functools.lru_cache(maxsize=1)
def _docker_available() -> bool:
    if os.environ.get("PACKYARD_TEST_USE_DOCKER", "").lower() in ("0", "false", "no"):
        return False
    try:
        import docker  # type: ignore[import-untyped]

        client = docker.from_env(timeout=3)
        client.ping()
        return True
    except Exception:  # noqa: BLE001 - no engine, no socket, no permission: all mean "no"
        return False


@pytest.fixture(scope="session")
def packyard_run_id() -> str:
    """``<unix time>_<random>``: unique per run, and tells later runs how old leftovers are."""
    return f"{int(time.time())}_{secrets.token_hex(3)}"


# --- PostgreSQL -------------------------------------------------------------------------------

@pytest.fixture(scope="session")
def postgres_server_url() -> Iterator[str]:
    """URL of a PostgreSQL server's maintenance database (``postgres``)."""
    url = os.environ.get("PACKYARD_TEST_POSTGRES_URL")
    if url:
        yield url
        return
    if _docker_available():
        from testcontainers.postgres import PostgresContainer

        with PostgresContainer("postgres:16-alpine", driver="psycopg") as pg:
            yield pg.get_connection_url()
        return
    pytest.fail("no PostgreSQL for the tests: start Docker, or set PACKYARD_TEST_POSTGRES_URL "
                "(e.g. postgresql+psycopg://postgres@127.0.0.1:5432/postgres)")


def _drop_database(engine: sa.Engine, name: str) -> None:
    with engine.connect() as conn:
        conn.execute(sa.text(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = :n AND pid <> pg_backend_pid()"),
            {"n": name})
        conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}"'))


@pytest.fixture(scope="session")
def create_database(postgres_server_url: str, packyard_run_id: str) -> Iterator[Callable[[str], str]]:
    """``create_database(name)`` → URL of a new, empty database owned by this run."""
    admin = sa.create_engine(postgres_server_url, isolation_level="AUTOCOMMIT", poolclass=sa.pool.NullPool)
    now = time.time()
    with admin.connect() as conn:
        names = [r[0] for r in conn.execute(sa.text("SELECT datname FROM pg_database WHERE datname LIKE 'pk\\_%'"))]
    for name in names:
        match = re.match(r"^pk_(\d+)_", name)
        if match and now - int(match.group(1)) > _STALE_SECONDS:
            _drop_database(admin, name)
    created: list[str] = []

    def create(name: str) -> str:
        db = f"pk_{packyard_run_id}_{name}"
        with admin.connect() as conn:
            conn.execute(sa.text(f'CREATE DATABASE "{db}"'))
        created.append(db)
        return sa.make_url(postgres_server_url).set(database=db).render_as_string(hide_password=False)

    yield create
    for db in created:
        _drop_database(admin, db)
    admin.dispose()


# --- RabbitMQ ---------------------------------------------------------------------------------

@dataclass
class RabbitMQ:
    """A RabbitMQ server and a way to create virtual hosts on it."""

    amqp_base: str  # amqp://user:pass@host:port/  (no vhost)
    api: str | None  # http://user:pass@host:15672 or None (then rabbitmqctl is used)
    vhosts: list[str] = field(default_factory=list)

    def url(self, vhost: str) -> str:
        return self.amqp_base.rstrip("/") + "/" + urllib.parse.quote(vhost, safe="")

    def _user(self) -> str:
        return urllib.parse.urlparse(self.amqp_base).username or "guest"

    def list_vhosts(self) -> list[str]:
        if self.api:
            response = requests.get(f"{self.api}/api/vhosts", timeout=10)
            response.raise_for_status()
            return [v["name"] for v in response.json()]
        out = subprocess.run(["rabbitmqctl", "-q", "list_vhosts"], check=True, capture_output=True, text=True)
        return [line.strip() for line in out.stdout.splitlines() if line.strip() and line.strip() != "name"]

    def create_vhost(self, name: str) -> str:
        if self.api:
            quoted = urllib.parse.quote(name, safe="")
            requests.put(f"{self.api}/api/vhosts/{quoted}", timeout=10).raise_for_status()
            requests.put(f"{self.api}/api/permissions/{quoted}/{self._user()}",
                         json={"configure": ".*", "write": ".*", "read": ".*"}, timeout=10).raise_for_status()
        else:
            subprocess.run(["rabbitmqctl", "-q", "add_vhost", name], check=True, capture_output=True)
            subprocess.run(["rabbitmqctl", "-q", "set_permissions", "-p", name, self._user(), ".*", ".*", ".*"],
                           check=True, capture_output=True)
        self.vhosts.append(name)
        return self.url(name)

    def delete_vhost(self, name: str) -> None:
        if self.api:
            requests.delete(f"{self.api}/api/vhosts/{urllib.parse.quote(name, safe='')}", timeout=30)
        else:
            subprocess.run(["rabbitmqctl", "-q", "delete_vhost", name], capture_output=True)


@pytest.fixture(scope="session")
def rabbitmq() -> Iterator[RabbitMQ]:
    url = os.environ.get("PACKYARD_TEST_AMQP_URL")
    if url:
        parsed = urllib.parse.urlparse(url)
        base = f"{parsed.scheme}://{parsed.netloc}/"
        api = os.environ.get("PACKYARD_TEST_RABBITMQ_API")
        if not api and not shutil.which("rabbitmqctl"):
            pytest.fail("set PACKYARD_TEST_RABBITMQ_API (management API) so tests can create their vhosts")
        server = RabbitMQ(base, api.rstrip("/") if api else None)
    elif _docker_available():
        from testcontainers.rabbitmq import RabbitMqContainer

        container = RabbitMqContainer("rabbitmq:4-management")
        container.with_exposed_ports(5672, 15672)
        container.start()
        host = container.get_container_host_ip()
        server = RabbitMQ(f"amqp://guest:guest@{host}:{container.get_exposed_port(5672)}/",
                          f"http://guest:guest@{host}:{container.get_exposed_port(15672)}")
        try:
            yield server
        finally:
            container.stop()
        return
    else:
        pytest.fail("no RabbitMQ for the tests: start Docker, or set PACKYARD_TEST_AMQP_URL "
                    "(and PACKYARD_TEST_RABBITMQ_API)")
    now = time.time()
    for name in server.list_vhosts():
        match = re.match(r"^pk-(\d+)_", name)
        if match and now - int(match.group(1)) > _STALE_SECONDS:
            server.delete_vhost(name)
    try:
        yield server
    finally:
        for name in server.vhosts:
            server.delete_vhost(name)


@pytest.fixture(scope="session")
def amqp_url(rabbitmq: RabbitMQ, packyard_run_id: str) -> str:
    """An AMQP URL on this run's own virtual host."""
    return rabbitmq.create_vhost(f"pk-{packyard_run_id}")


@pytest.fixture
def fresh_amqp_url(rabbitmq: RabbitMQ, packyard_run_id: str) -> Iterator[str]:
    """An AMQP URL on a virtual host of this test's own, deleted afterwards."""
    name = f"pk-{packyard_run_id}-{secrets.token_hex(3)}"
    url = rabbitmq.create_vhost(name)
    yield url
    rabbitmq.delete_vhost(name)
    rabbitmq.vhosts.remove(name)


# --- SMTP -------------------------------------------------------------------------------------

@pytest.fixture
def smtp_sink() -> Iterator[SmtpSink]:
    """A real SMTP server for this test, keeping every message it receives."""
    sink = SmtpSink()
    yield sink
    sink.stop()
