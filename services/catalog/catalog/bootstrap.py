"""Catalog's composition root: every entry point (api, worker, relay, commands) starts here."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from functools import cached_property
from typing import Any

from catalog import config, consumers, models
from catalog.downloads import DownloadCounter
from catalog.storage import FileSystemStorage
from packyard.consumer import ConsumerQueue
from packyard.db import UnitOfWork, utcnow
from packyard.service import Platform


@dataclass
class Catalog:
    settings: config.Settings
    platform: Platform
    storage: FileSystemStorage
    clock: Callable[[], datetime] = field(default=utcnow)

    def uow(self) -> UnitOfWork:
        return self.platform.uow()

    @property
    def consumer_queues(self) -> Sequence[ConsumerQueue]:
        return consumers.QUEUES

    @cached_property
    def downloads(self) -> DownloadCounter:
        """This process's download counter (its flusher is started by the API)."""
        return DownloadCounter(self.platform.engine, interval=self.settings.download_flush_interval,
                               clock=self.clock)

    def close(self) -> None:
        """Write pending download counts and release connections (tests; the API does it at exit)."""
        if "downloads" in self.__dict__:
            self.downloads.stop()
        self.platform.engine.dispose()


def bootstrap(settings: config.Settings | None = None, *,
              jwks_source: Callable[[], dict[str, Any]] | None = None) -> Catalog:
    settings = config.validate(settings) if settings is not None else config.load()
    platform = Platform("catalog", settings, outbox=models.outbox, inbox=models.inbox,
                        jwks_url=settings.jwks_url, jwks_source=jwks_source)
    return Catalog(settings=settings, platform=platform, storage=FileSystemStorage(settings.blob_storage_path))
