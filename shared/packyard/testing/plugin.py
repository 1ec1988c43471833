"""pytest fixtures: real PostgreSQL and RabbitMQ for every test run, isolated per run.

Where the servers come from:

* when a Docker engine is reachable, from testcontainers (``postgres:16``,
  ``rabbitmq:4-management``), started once per test session;
* otherwise from the environment (what CI uses)::

      PACKYARD_TEST_POSTGRES_URL=postgresql+psycopg://postgres@127.0.0.1:5432/postgres
      PACKYARD_TEST_AMQP_URL=amqp://guest:guest@127.0.0.1:5672/
      PACKYARD_TEST_RABBITMQ_API=http://guest:guest@127.0.0.1:15672   # only for a remote broker
      PACKYARD_TEST_RABBITMQ_NODE=rabbit@localhost    # which local node rabbitmqctl administers

  A local broker is administered with ``rabbitmqctl`` (vhosts, users, permissions), so the
  management plugin is not needed; the management API serves only where rabbitmqctl cannot
  reach the broker.

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

from packyard.testing import SERVICE_TOKEN, SmtpSink

_STALE_SECONDS = 6 * 3600

# Every service requires SERVICE_TOKEN; processes and settings a test builds from the environment
# get the tests' one (the fixtures that build settings by hand pass packyard.testing.SERVICE_TOKEN).
os.environ.setdefault("SERVICE_TOKEN", SERVICE_TOKEN)


@functools.lru_cache(maxsize=1)
def _docker_available() -> bool:
    if os.environ.get("PACKYARD_TEST_USE_DOCKER", "").lower() in ("0", "false", "no"):
        return False
    try:
        import docker

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

_LOCAL_HOSTS = ("127.0.0.1", "localhost", "::1", "")


def _rabbitmqctl(*args: str, node: str | None = None, check: bool = True) -> subprocess.CompletedProcess[str]:
    command = ["rabbitmqctl", *(["-n", node] if node else []), "-q", *args]
    return subprocess.run(command, check=check, capture_output=True, text=True, timeout=120)


@dataclass
class RabbitMQ:
    """A RabbitMQ server and a way to create virtual hosts and users on it.

    A local broker is administered with ``rabbitmqctl`` (``node``: which local node, e.g.
    ``rabbit@localhost``; ``None`` lets rabbitmqctl pick, honouring ``RABBITMQ_NODENAME``), so
    the suite does not need the management plugin; the management HTTP API (``api``) is used
    only where rabbitmqctl cannot reach the broker (a testcontainer, a remote server).
    """

    amqp_base: str  # amqp://user:pass@host:port/  (no vhost)
    api: str | None  # http://user:pass@host:15672 or None (then rabbitmqctl is used)
    vhosts: list[str] = field(default_factory=list)
    node: str | None = None
    users: list[str] = field(default_factory=list)

    def url(self, vhost: str, *, user: str | None = None, password: str | None = None) -> str:
        base = self.amqp_base
        if user is not None:
            parsed = urllib.parse.urlparse(base)
            netloc = (f"{urllib.parse.quote(user, safe='')}:{urllib.parse.quote(password or '', safe='')}"
                      f"@{parsed.hostname}:{parsed.port or 5672}")
            base = parsed._replace(netloc=netloc).geturl()
        return base.rstrip("/") + "/" + urllib.parse.quote(vhost, safe="")

    def _user(self) -> str:
        return urllib.parse.unquote(urllib.parse.urlparse(self.amqp_base).username or "guest")

    def list_vhosts(self) -> list[str]:
        if self.api:
            response = requests.get(f"{self.api}/api/vhosts", timeout=10)
            response.raise_for_status()
            return [v["name"] for v in response.json()]
        out = _rabbitmqctl("list_vhosts", node=self.node)
        return [line.strip() for line in out.stdout.splitlines() if line.strip() and line.strip() != "name"]

    def set_permissions(self, vhost: str, user: str, configure: str, write: str, read: str) -> None:
        if self.api:
            requests.put(f"{self.api}/api/permissions/{urllib.parse.quote(vhost, safe='')}/"
                         f"{urllib.parse.quote(user, safe='')}",
                         json={"configure": configure, "write": write, "read": read}, timeout=10).raise_for_status()
        else:
            _rabbitmqctl("set_permissions", "-p", vhost, user, configure, write, read, node=self.node)

    def create_vhost(self, name: str) -> str:
        if self.api:
            quoted = urllib.parse.quote(name, safe="")
            requests.put(f"{self.api}/api/vhosts/{quoted}", timeout=10).raise_for_status()
        else:
            _rabbitmqctl("add_vhost", name, node=self.node)
        self.set_permissions(name, self._user(), ".*", ".*", ".*")
        self.vhosts.append(name)
        return self.url(name)

    def delete_vhost(self, name: str) -> None:
        if self.api:
            requests.delete(f"{self.api}/api/vhosts/{urllib.parse.quote(name, safe='')}", timeout=30)
        else:
            _rabbitmqctl("delete_vhost", name, node=self.node, check=False)

    def create_user(self, name: str, password: str) -> None:
        """A broker user with no permissions yet (grant them with :meth:`set_permissions`)."""
        if self.api:
            requests.put(f"{self.api}/api/users/{urllib.parse.quote(name, safe='')}",
                         json={"password": password, "tags": ""}, timeout=10).raise_for_status()
        else:
            # "--" ends the options: a generated password may start with "-".
            _rabbitmqctl("add_user", "--", name, password, node=self.node)
        self.users.append(name)

    def delete_user(self, name: str) -> None:
        if self.api:
            requests.delete(f"{self.api}/api/users/{urllib.parse.quote(name, safe='')}", timeout=30)
        else:
            _rabbitmqctl("delete_user", name, node=self.node, check=False)
        if name in self.users:
            self.users.remove(name)

    def list_users(self) -> list[str]:
        if self.api:
            response = requests.get(f"{self.api}/api/users", timeout=10)
            response.raise_for_status()
            return [u["name"] for u in response.json()]
        out = _rabbitmqctl("list_users", node=self.node)
        return [line.split()[0] for line in out.stdout.splitlines()[1:] if line.strip()]


def _local_broker_node(host: str | None) -> tuple[bool, str | None]:
    """Whether ``rabbitmqctl`` administers the broker at ``host`` (and on which node)."""
    node = os.environ.get("PACKYARD_TEST_RABBITMQ_NODE") or None
    if (host or "") not in _LOCAL_HOSTS or not shutil.which("rabbitmqctl"):
        return False, node
    try:
        return _rabbitmqctl("list_vhosts", node=node, check=False).returncode == 0, node
    except (OSError, subprocess.TimeoutExpired):
        return False, node


@pytest.fixture(scope="session")
def rabbitmq() -> Iterator[RabbitMQ]:
    url = os.environ.get("PACKYARD_TEST_AMQP_URL")
    if url:
        parsed = urllib.parse.urlparse(url)
        base = f"{parsed.scheme}://{parsed.netloc}/"
        api = os.environ.get("PACKYARD_TEST_RABBITMQ_API")
        local, node = _local_broker_node(parsed.hostname)
        if local:
            server = RabbitMQ(base, None, node=node)  # no management plugin needed
        elif api:
            server = RabbitMQ(base, api.rstrip("/"))
        else:
            pytest.fail(f"cannot administer the RabbitMQ at {parsed.hostname}: run the tests as a user allowed to "
                        "use rabbitmqctl (root, or one with the broker's Erlang cookie), or set "
                        "PACKYARD_TEST_RABBITMQ_API to its management API")
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
                    "(a local broker is administered with rabbitmqctl; a remote one needs PACKYARD_TEST_RABBITMQ_API)")
    now = time.time()
    for name in server.list_vhosts():
        match = re.match(r"^pk-(\d+)_", name)
        if match and now - int(match.group(1)) > _STALE_SECONDS:
            server.delete_vhost(name)
    for name in server.list_users():
        match = re.match(r"^pk-(\d+)_", name)
        if match and now - int(match.group(1)) > _STALE_SECONDS:
            server.delete_user(name)
    try:
        yield server
    finally:
        for name in list(server.users):
            server.delete_user(name)
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


# --- answers against the OpenAPI document -------------------------------------------------------

@pytest.fixture
def openapi_check() -> Iterator[object]:
    """Checks every answer of the in-process apps against their OpenAPI document during this test.

    The test fails after its body ran when one did not match (see :mod:`packyard.testing.openapi`);
    a service's suite enables it for all its tests with an autouse fixture in its conftest.
    """
    from packyard.testing.openapi import ResponseCheck

    check = ResponseCheck()
    check.start()
    try:
        yield check
    finally:
        check.stop()


@pytest.hookimpl(wrapper=True)
def pytest_runtest_call(item: pytest.Item) -> Iterator[None]:
    result = yield
    check = getattr(item, "funcargs", {}).get("openapi_check")
    if check is not None and check.mismatches:
        found = "\n  ".join(check.mismatches)
        raise AssertionError(f"answers that disagree with the OpenAPI document:\n  {found}")
    return result
