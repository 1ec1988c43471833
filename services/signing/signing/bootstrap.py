"""Signing's composition root: every entry point (api, worker, relay) starts here."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from packyard.consumer import ConsumerQueue
from packyard.db import UnitOfWork, utcnow
from packyard.service import Platform
from signing import config, consumers, models


@dataclass
class Signing:
    settings: config.Settings
    platform: Platform
    clock: Callable[[], datetime] = field(default=utcnow)

    def uow(self) -> UnitOfWork:
        return self.platform.uow()

    @property
    def consumer_queues(self) -> Sequence[ConsumerQueue]:
        return consumers.QUEUES


def bootstrap(settings: config.Settings | None = None, *,
              jwks_source: Callable[[], dict[str, Any]] | None = None) -> Signing:
    settings = settings or config.load()
    platform = Platform("signing", settings, outbox=models.outbox, inbox=models.inbox,
                        jwks_url=settings.jwks_url, jwks_source=jwks_source)
    return Signing(settings=settings, platform=platform)
