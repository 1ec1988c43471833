"""Catalog's composition root: every entry point (api, worker, relay, commands) starts here."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from functools import cached_property
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from catalog import config, consumers, models
from catalog.downloads import DownloadCounter, DownloadLogIngester
from catalog.loops import Periodic
from catalog.signing_client import SigningClient
from catalog.storage import FileSystemStorage
from catalog.use_cases import usage, webhooks
from catalog.use_cases.rollups import roll_up
from packyard.db import is_postgres
from packyard.process import Loop
from packyard.sealing import Sealer
from packyard.service import Platform, ServiceContainer


@dataclass
class Catalog(ServiceContainer):
    settings: config.Settings
    storage: FileSystemStorage

    @contextmanager
    def read_connection(self) -> Iterator[sa.Connection]:
        """A connection for requests that only read.

        On PostgreSQL it runs in autocommit, so a read costs its own statements and no
        BEGIN/ROLLBACK round trips; each statement sees a consistent snapshot, which is what
        the read models need (the hot ones are a single statement).
        """
        with self.platform.engine.connect() as conn:
            if is_postgres(conn):
                conn.execution_options(isolation_level="AUTOCOMMIT")
            yield conn

    @contextmanager
    def reader(self) -> Iterator[Session]:
        """A session on a :meth:`read_connection`, for read models that use the ORM."""
        with self.read_connection() as conn, Session(bind=conn) as session:
            yield session

    @cached_property
    def downloads(self) -> DownloadCounter:
        """This process's download counter in ``sendfile`` mode (its flusher is started by the API)."""
        return DownloadCounter(self.platform.engine, interval=self.settings.download_flush_interval,
                               clock=self.clock)

    @cached_property
    def download_log(self) -> DownloadLogIngester:
        """Counts the downloads the gateway logged (``accel`` mode; run by the worker)."""
        return DownloadLogIngester(self.platform.engine, self.settings.download_log_dir,
                                   grace_seconds=self.settings.download_log_grace, clock=self.clock)

    def roll_up_downloads(self) -> int:
        return roll_up(self.uow, self.clock(), delay_seconds=self.settings.rollup_delay)

    @cached_property
    def signing(self) -> SigningClient:
        """The signing service, for uploads carrying X-GPG-PASSPHRASE (catalog.signing_client)."""
        return SigningClient(self.settings.signing_url, self.settings.service_token)

    def reconcile_usage(self) -> int:
        return usage.reconcile(self.uow)

    def worker_loops(self) -> list[Loop]:
        """What the worker runs beside its consumers: daily roll-ups, storage usage checks, and the download log
        behind a gateway."""
        loops: list[Loop] = [Periodic("download-rollups", self.roll_up_downloads, self.settings.rollup_interval),
                             Periodic("usage-reconcile", self.reconcile_usage, self.settings.usage_reconcile_interval)]
        if self.settings.download_mode == "accel":
            loops.append(Periodic("download-log", self.download_log.run_once, self.settings.download_log_interval))
        return loops

    @cached_property
    def _sealer(self) -> Sealer:
        return Sealer(self.settings.mail_token_key)

    def seal(self, secret: str) -> str:
        """A secret sealed for the notifier (Fernet with the newest key of ``MAIL_TOKEN_KEY``)."""
        return self._sealer.seal(secret)

    def upload_limits(self) -> usage.Limits:
        settings = self.settings
        return usage.Limits(quota_bytes=settings.owner_quota_bytes, uploads=settings.upload_rate_limit,
                            window_seconds=settings.upload_rate_window)

    def webhook_policy(self) -> webhooks.Policy:
        return webhooks.Policy(limit=self.settings.webhook_limit, seal=self.seal,
                               allow=self.settings.webhook_allowed_targets)

    def close(self) -> None:
        """Write pending download counts and release connections (tests; the API does it at exit)."""
        if "downloads" in self.__dict__:
            self.downloads.stop()
        super().close()


def bootstrap(settings: config.Settings | None = None, *,
              jwks_source: Callable[[], dict[str, Any]] | None = None) -> Catalog:
    settings = config.validate(settings) if settings is not None else config.load()
    return Catalog(settings=settings, consumer_queues=consumers.QUEUES,
                   storage=FileSystemStorage(settings.blob_storage_path),
                   platform=Platform.of("catalog", settings, models, jwks_url=settings.jwks_url,
                                        jwks_source=jwks_source))
