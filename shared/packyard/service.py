"""The parts every service's composition root assembles the same way.

Each service's ``bootstrap.py`` builds a :class:`Platform` from its settings and models —
engine, session factory, unit-of-work factory, relay, consumer runner, token verifier,
readiness checks — and adds its own collaborators. Nothing here is built at import time:
a :class:`Platform` creates its engine when first asked.
"""

from __future__ import annotations

import socket
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from functools import cached_property
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session, sessionmaker

from packyard import amqp
from packyard.auth import JwksVerifier
from packyard.config import ConfigError, env
from packyard.consumer import ConsumerQueue, ConsumerRunner
from packyard.db import UnitOfWork, make_engine, make_session_factory
from packyard.relay import PikaPublisher, Relay, RelayConfig
from packyard.web import ReadinessCheck

__all__ = ["BaseSettings", "Platform"]


@dataclass(frozen=True, kw_only=True)
class BaseSettings:
    """Settings every service reads, under the same names everywhere (DESIGN §6)."""

    database_url: str = env("DATABASE_URL", help="SQLAlchemy URL of this service's own database")
    amqp_url: str = env("AMQP_URL", help="RabbitMQ URL, e.g. amqp://user:pass@rabbitmq:5672/%2F")
    log_level: str = env("LOG_LEVEL", default="INFO")
    health_port: int = env("HEALTH_PORT", default=9000, help="port of /livez, /readyz, /metrics of workers and relays")
    db_pool_size: int = env("DB_POOL_SIZE", default=5)
    relay_poll_interval: float = env("RELAY_POLL_INTERVAL", default=1.0)
    relay_batch_size: int = env("RELAY_BATCH_SIZE", default=200)
    consumer_prefetch: int = env("CONSUMER_PREFETCH", default=20)
    consumer_max_retries: int = env("CONSUMER_MAX_RETRIES", default=5)
    consumer_retry_delay_ms: int = env("CONSUMER_RETRY_DELAY_MS", default=5000)
    consumer_delivery_limit: int = env("CONSUMER_DELIVERY_LIMIT", default=10)
    service_token: str = env("SERVICE_TOKEN", secret=True,
                             help="at least 32 random characters, the same in every service and the gateway: "
                                  "the credential of calls to /internal/* endpoints (header X-Service-Token)")

    def __post_init__(self) -> None:
        if isinstance(self.service_token, str) and len(self.service_token) < 32:
            raise ConfigError("SERVICE_TOKEN must be at least 32 characters long")


class Platform:
    """Database, messaging and auth plumbing of one service."""

    def __init__(
        self,
        service: str,
        settings: BaseSettings,
        *,
        outbox: sa.Table,
        inbox: sa.Table,
        uow_class: type[UnitOfWork] = UnitOfWork,
        jwks_url: str | None = None,
        jwks_source: Callable[[], dict[str, Any]] | None = None,
    ) -> None:
        self.service = service
        self.settings = settings
        self.outbox = outbox
        self.inbox = inbox
        self._uow_class = uow_class
        self._jwks_url = jwks_url
        self._jwks_source = jwks_source

    @cached_property
    def engine(self) -> Engine:
        return make_engine(self.settings.database_url, pool_size=self.settings.db_pool_size)

    @cached_property
    def session_factory(self) -> sessionmaker[Session]:
        return make_session_factory(self.engine)

    def uow(self) -> UnitOfWork:
        """A new unit of work (use it as a context manager)."""
        return self._uow_class(self.session_factory, source=self.service, outbox=self.outbox)

    @cached_property
    def verifier(self) -> JwksVerifier | None:
        if self._jwks_source is not None:
            return JwksVerifier(source=self._jwks_source)
        if self._jwks_url:
            return JwksVerifier(self._jwks_url)
        return None

    @property
    def retry_policy(self) -> amqp.RetryPolicy:
        s = self.settings
        return amqp.RetryPolicy(max_retries=s.consumer_max_retries, delay_ms=s.consumer_retry_delay_ms,
                                delivery_limit=s.consumer_delivery_limit)

    def relay(self) -> Relay:
        s = self.settings
        return Relay(
            self.engine,
            self.outbox,
            lambda: PikaPublisher(s.amqp_url, self.service),
            service=self.service,
            config=RelayConfig(batch_size=s.relay_batch_size, poll_interval=s.relay_poll_interval),
        )

    def consumer(self, queues: Iterable[ConsumerQueue]) -> ConsumerRunner:
        return ConsumerRunner(
            service=self.service,
            amqp_url=self.settings.amqp_url,
            queues=queues,
            uow_factory=self.uow,
            inbox=self.inbox,
            retry=self.retry_policy,
            prefetch=self.settings.consumer_prefetch,
        )

    # -- readiness --------------------------------------------------------------------------
    def check_database(self) -> bool:
        with self.engine.connect() as conn:
            conn.execute(sa.text("SELECT 1"))
        return True

    def check_broker_reachable(self) -> bool:
        """A TCP connection to the broker succeeds (cheap enough for every probe)."""
        import pika

        params = pika.URLParameters(self.settings.amqp_url)
        with socket.create_connection((params.host, params.port), timeout=2):
            return True

    def api_readiness(self) -> list[ReadinessCheck]:
        # The API keeps serving while the broker is away — its events wait in the outbox —
        # so the broker is reported but does not take the API out of rotation.
        return [ReadinessCheck("database", self.check_database),
                ReadinessCheck("broker", self.check_broker_reachable, critical=False)]
