"""The service skeleton: what every service's composition root assembles the same way.

Each service's ``bootstrap.py`` builds a :class:`Platform` from its settings and models
(:meth:`Platform.of`) — engine, session factory, unit-of-work factory, relay, consumer runner,
token verifier, readiness checks — and returns its container, a :class:`ServiceContainer`
subclass that adds the service's own collaborators. The container is all the shared entry
points need: :mod:`packyard.cli` migrates, runs workers and relays with it, and
:func:`create_service_app` builds the API around it. Nothing here is built at import time:
a :class:`Platform` creates its engine when first asked.
"""

from __future__ import annotations

import socket
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from functools import cached_property
from types import ModuleType
from typing import Any

import flask
import sqlalchemy as sa
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session, sessionmaker

from packyard import amqp
from packyard.auth import JwksVerifier
from packyard.config import ConfigError, env
from packyard.consumer import ConsumerQueue, ConsumerRunner
from packyard.db import UnitOfWork, make_engine, make_session_factory, utcnow
from packyard.logs import configure_logging
from packyard.process import Loop
from packyard.relay import PikaPublisher, Relay, RelayConfig
from packyard.web import ReadinessCheck, create_api

__all__ = ["BaseSettings", "Platform", "ServiceContainer", "create_service_app"]


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
        clock: Callable[[], datetime] = utcnow,
    ) -> None:
        self.service = service
        self.settings = settings
        self.outbox = outbox
        self.inbox = inbox
        self._uow_class = uow_class
        self._jwks_url = jwks_url
        self._jwks_source = jwks_source
        self.clock = clock  # a ServiceContainer points it at its own clock

    @classmethod
    def of(cls, service: str, settings: BaseSettings, models: ModuleType, *, jwks_url: str | None = None,
           jwks_source: Callable[[], dict[str, Any]] | None = None) -> Platform:
        """The platform of ``service``, on the ``outbox`` and ``inbox`` tables its ``models`` module defines.

        ``jwks_url`` is where identity's keys are fetched (``jwks_source`` replaces the fetch: identity
        reads its own keys, tests hand in theirs).
        """
        return cls(service, settings, outbox=models.outbox, inbox=models.inbox, jwks_url=jwks_url,
                   jwks_source=jwks_source)

    @cached_property
    def engine(self) -> Engine:
        return make_engine(self.settings.database_url, pool_size=self.settings.db_pool_size)

    @cached_property
    def session_factory(self) -> sessionmaker[Session]:
        return make_session_factory(self.engine)

    def uow(self) -> UnitOfWork:
        """A new unit of work (use it as a context manager) telling the time by :attr:`clock`."""
        return self._uow_class(self.session_factory, source=self.service, outbox=self.outbox, clock=self.clock)

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


@dataclass(kw_only=True)
class ServiceContainer:
    """The base of every service's container (what its ``bootstrap()`` returns).

    It holds the settings, the :class:`Platform` and the clock, and declares everything the
    shared entry points ask of a service (:class:`packyard.cli.Container`): its consumer
    queues, the loops its worker runs beside them, and what to do once its database is
    migrated. A service subclasses it as a dataclass and adds its own collaborators.

    Guarantees: every unit of work made through this container's platform — by the API
    (:meth:`uow`), a consumer or a worker loop — reads the time from :attr:`clock`, at the
    moment it asks; replacing ``container.clock`` (a test's clock) moves all of them.
    """

    settings: BaseSettings
    platform: Platform
    clock: Callable[[], datetime] = utcnow
    consumer_queues: Sequence[ConsumerQueue] = ()

    def __post_init__(self) -> None:
        self.platform.clock = lambda: self.clock()

    def uow(self) -> UnitOfWork:
        """A new unit of work on this service's database (use it as a context manager)."""
        return self.platform.uow()

    def consumer(self) -> ConsumerRunner:
        """The runner of this service's consumer queues (the worker's main loop)."""
        return self.platform.consumer(self.consumer_queues)

    def worker_loops(self) -> list[Loop]:
        """Loops ``python -m <service> worker`` runs beside the consumers (senders, periodic passes)."""
        return []

    def after_migrate(self) -> None:
        """Run by ``python -m <service> migrate`` once the schema is current (e.g. a first signing key)."""

    def close(self) -> None:
        """Release the database connections (tests; a process lets them go at exit)."""
        if "engine" in self.platform.__dict__:
            self.platform.engine.dispose()


def create_service_app(import_name: str, container: ServiceContainer, blueprints: Iterable[Any], *,
                       description: str, readiness: Iterable[ReadinessCheck] = (),
                       max_content_length: int | None = 16 * 1024 * 1024) -> flask.Flask:
    """The Flask app of ``container``'s service: its blueprints on :func:`packyard.web.create_api`.

    Logging is configured for the service, the caller's token is verified with the platform's
    verifier, readiness is the platform's checks plus ``readiness``, and the container is
    ``app.extensions[<service>]``, where the views find it.
    """
    service = container.platform.service
    configure_logging(service, container.settings.log_level)
    app, api = create_api(import_name, service=service, verifier=container.platform.verifier,
                          service_token=container.settings.service_token,
                          readiness=[*container.platform.api_readiness(), *readiness],
                          max_content_length=max_content_length, description=description)
    app.extensions[service] = container
    for blueprint in blueprints:
        api.register_blueprint(blueprint)
    return app
