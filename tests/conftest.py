"""Fixtures for the cross-service tests: a whole Packyard running on real PostgreSQL and RabbitMQ.

`platform` starts every process of the Procfile (the same launcher `make run` uses) on free
ports, with one PostgreSQL database per service and this run's own RabbitMQ vhost reached
through a TCP proxy the tests can cut (a broker outage as the services see it).
"""

from __future__ import annotations

import email
import email.policy
import json
import secrets
import subprocess
import sys
import urllib.parse
import uuid
from pathlib import Path

import pika
import pytest
import requests
import sqlalchemy as sa

from packyard import amqp
from packyard.testing import TcpProxy, free_port

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "deploy" / "local"))
sys.path.insert(0, str(ROOT / "deploy" / "gateway"))

from launcher import DEFAULT_PORTS, SERVICES, LocalPlatform  # noqa: E402

RETRIES = 2  # consumer retries in the platform under test (kept small so poison parks quickly)


class Gateway:
    """A client of the platform under test, through its gateway, plus ways to look inside it."""

    def __init__(self, platform: LocalPlatform, broker_url: str, proxy: TcpProxy) -> None:
        self.platform = platform
        self.url = platform.gateway_url
        self.broker_url = broker_url  # straight to the broker, bypassing the proxy
        self.proxy = proxy
        self.retries = RETRIES
        self.http = requests.Session()
        self._engines: dict[str, sa.Engine] = {}

    # -- HTTP ------------------------------------------------------------------------------
    def request(self, method: str, path: str, **kwargs) -> requests.Response:
        kwargs.setdefault("timeout", 30)
        return self.http.request(method, self.url + path, **kwargs)

    def get(self, path: str, **kwargs) -> requests.Response:
        return self.request("GET", path, **kwargs)

    def post(self, path: str, **kwargs) -> requests.Response:
        return self.request("POST", path, **kwargs)

    def unique_name(self, prefix: str = "user") -> str:
        return f"{prefix}-{uuid.uuid4().hex[:10]}"

    def signup(self, username: str | None = None, password: str = "a long enough password") -> dict:
        username = username or self.unique_name()
        response = self.post("/auth/signup", json={"username": username, "email": f"{username}@example.com",
                                                   "password": password})
        assert response.status_code == 201, response.text
        return {"username": username, "email": f"{username}@example.com", "password": password}

    def login(self, user: dict) -> dict[str, str]:
        response = self.post("/auth/login", json={"username": user["username"], "password": user["password"]})
        assert response.status_code == 200, response.text
        return {"Authorization": f"Bearer {response.json()['token']}"}

    def api_key(self, user: dict) -> tuple[str, str]:
        """Basic credentials (username, API key) for ``user``, creating the key if needed."""
        headers = self.login(user)
        response = self.post("/me/apikey", headers=headers)
        if response.status_code == 409:
            response = self.get("/me/apikey", headers=headers)
        assert response.status_code in (200, 201), response.text
        return user["username"], response.json()["api_key"]

    # -- inside ----------------------------------------------------------------------------
    def mail_to(self, address: str) -> list[email.message.EmailMessage]:
        maildir = self.platform.var_dir / "mail"
        found = []
        for path in sorted(maildir.glob("*.eml")):
            message = email.message_from_bytes(path.read_bytes(), policy=email.policy.default)
            if address in str(message.get("To", "")):
                found.append(message)
        return found

    def engine(self, service: str) -> sa.Engine:
        if service not in self._engines:
            self._engines[service] = sa.create_engine(self.platform.env[f"{service.upper()}_DATABASE_URL"],
                                                      poolclass=sa.pool.NullPool)
        return self._engines[service]

    def query(self, service: str, sql: str, **params) -> list:
        with self.engine(service).connect() as conn:
            return list(conn.execute(sa.text(sql), params))

    def publish_raw(self, exchange: str, routing_key: str, body: bytes, message_id: str | None = None) -> None:
        conn = pika.BlockingConnection(pika.URLParameters(self.broker_url))
        try:
            channel = conn.channel()
            channel.confirm_delivery()
            channel.basic_publish(exchange, routing_key, body, pika.BasicProperties(
                content_type="application/cloudevents+json", delivery_mode=2, type=routing_key,
                message_id=message_id or str(uuid.uuid4())), mandatory=True)
        finally:
            conn.close()

    def queue_messages(self, queue: str) -> list[tuple]:
        """Take every message out of ``queue`` (for dead-letter inspection)."""
        conn = pika.BlockingConnection(pika.URLParameters(self.broker_url))
        out = []
        try:
            channel = conn.channel()
            while True:
                method, props, body = channel.basic_get(queue, auto_ack=True)
                if method is None:
                    break
                out.append((props, body))
        finally:
            conn.close()
        return out

    def event_body(self, service: str, type_: str, subject: str) -> str:
        rows = self.query(service, "SELECT body FROM outbox WHERE type = :t AND subject = :s", t=type_, s=subject)
        assert rows, f"no {type_} about {subject} in {service}'s outbox"
        return rows[0][0]


def service_broker_users(rabbitmq, amqp_url: str, proxied_amqp: str) -> dict[str, str]:
    """Each service's own broker user, as in production (``<SERVICE>_AMQP_URL``, through the proxy).

    The permissions are the platform's (``packyard.amqp.broker_permissions``): a service may
    publish only on its own exchange. The events exchanges are declared first, as compose's
    broker-users and the Kubernetes Topology Operator objects do, so that the migrations can
    bind to each other's exchanges in any order.
    """
    vhost = pika.URLParameters(amqp_url).virtual_host
    connection = pika.BlockingConnection(pika.URLParameters(amqp_url))
    try:
        channel = connection.channel()
        for svc in SERVICES:
            amqp.declare_events_exchange(channel, svc)
    finally:
        connection.close()
    proxied = urllib.parse.urlsplit(proxied_amqp)
    urls = {}
    for svc in SERVICES:
        user, password = f"{vhost}-{svc}", secrets.token_urlsafe(16)
        rabbitmq.create_user(user, password)
        rabbitmq.set_permissions(vhost, user, *amqp.broker_permissions(svc))
        urls[f"{svc.upper()}_AMQP_URL"] = proxied._replace(
            netloc=f"{urllib.parse.quote(user, safe='')}:{password}@{proxied.hostname}:{proxied.port}").geturl()
    return urls


@pytest.fixture(scope="session")
def platform(create_database, rabbitmq, amqp_url, tmp_path_factory):
    parsed = pika.URLParameters(amqp_url)
    proxy = TcpProxy(parsed.host, parsed.port)
    proxied_amqp = amqp_url.replace(f"{parsed.host}:{parsed.port}", f"127.0.0.1:{proxy.port}")
    overrides = {name: str(free_port()) for name in DEFAULT_PORTS}
    overrides.update({f"{svc.upper()}_DATABASE_URL": create_database(f"e2e_{svc}") for svc in SERVICES})
    overrides.update(service_broker_users(rabbitmq, amqp_url, proxied_amqp))
    overrides.update({
        "AMQP_URL": proxied_amqp,
        "CONSUMER_MAX_RETRIES": str(RETRIES),
        "CONSUMER_RETRY_DELAY_MS": "300",
        "RELAY_POLL_INTERVAL": "1",
        "WEB_CONCURRENCY": "1",
        "SIGNUPS_PER_ADDRESS_PER_HOUR": "100000",  # every test signs people up from 127.0.0.1
        # webhook receivers of the tests listen on 127.0.0.2 only, so 127.0.0.1 stays a refused target
        "WEBHOOK_ALLOWED_TARGETS": "127.0.0.2",
        "WEBHOOK_RETRY_DELAY": "0.2", "WEBHOOK_RETRY_MAX_DELAY": "0.5", "WEBHOOK_MAX_ATTEMPTS": "2",
        "WEBHOOK_TIMEOUT": "1", "MAIL_RETRY_DELAY": "0.3", "MAIL_RETRY_MAX_DELAY": "1",
        "FANOUT_BATCH_SIZE": "25", "DIGEST_INTERVAL": "1",
        "LOG_LEVEL": "INFO",
    })
    local = LocalPlatform(tmp_path_factory.mktemp("platform"), overrides=overrides, log_to_files=True)
    local.migrate()
    local.start()
    try:
        local.wait_ready(timeout=90)
        yield Gateway(local, amqp_url, proxy)
    finally:
        local.stop()
        proxy.close()


class BintrayClient:
    """The real bintray-python client, pointed at the gateway, for one user's credentials."""

    def __init__(self, process: subprocess.Popen, base: str, username: str | None, api_key: str | None) -> None:
        self._process, self._base, self._username, self._api_key = process, base, username, api_key

    def __getattr__(self, method: str):
        def call(*args, **kwargs):
            request = {"base": self._base, "username": self._username, "api_key": self._api_key,
                       "method": method, "args": list(args), "kwargs": kwargs}
            self._process.stdin.write(json.dumps(request) + "\n")
            self._process.stdin.flush()
            answer = json.loads(self._process.stdout.readline())
            if "error" in answer:
                raise BintrayError(answer["error"])
            return answer["result"]
        return call


class BintrayError(Exception):
    """What bintray-python raised (it turns every HTTP error into an Exception with the message)."""


@pytest.fixture(scope="session")
def bintray_process():
    python = ROOT / ".venv-bintray" / "bin" / "python"
    if not python.exists():
        pytest.fail("the bintray-python virtualenv is missing: run `make install` (it creates .venv-bintray)")
    process = subprocess.Popen([str(python), str(ROOT / "tests" / "e2e" / "bintray_rpc.py")], stdin=subprocess.PIPE,
                               stdout=subprocess.PIPE, text=True)
    yield process
    process.stdin.close()
    process.wait(10)


@pytest.fixture
def bintray(bintray_process, platform):
    """``bintray(username, api_key)`` → the real bintray-python client for those credentials."""
    return lambda username=None, api_key=None: BintrayClient(bintray_process, platform.url, username, api_key)


@pytest.fixture
def gw(platform):
    platform.proxy.restore()
    return platform
