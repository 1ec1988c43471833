"""Catalog's composition root: every entry point (api, worker, relay, commands) starts here."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from catalog import config, consumers, models
from packyard.consumer import ConsumerQueue
from packyard.db import UnitOfWork, utcnow
from packyard.service import Platform


@dataclass
class Catalog:
    settings: config.Settings
    platform: Platform
    clock: Callable[[], datetime] = field(default=utcnow)

    def uow(self) -> UnitOfWork:
        return self.platform.uow()

    @property
    def consumer_queues(self) -> Sequence[ConsumerQueue]:
        return consumers.QUEUES


def bootstrap(settings: config.Settings | None = None, *,
              jwks_source: Callable[[], dict[str, Any]] | None = None) -> Catalog:
    settings = config.validate(settings) if settings is not None else config.load()
    platform = Platform("catalog", settings, outbox=models.outbox, inbox=models.inbox,
                        jwks_url=settings.jwks_url, jwks_source=jwks_source)
    return Catalog(settings=settings, platform=platform)
