"""Social's composition root: every entry point (api, worker, relay) starts here."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from packyard.service import Platform, ServiceContainer
from social import config, consumers, models


@dataclass
class Social(ServiceContainer):
    settings: config.Settings


def bootstrap(settings: config.Settings | None = None, *,
              jwks_source: Callable[[], dict[str, Any]] | None = None) -> Social:
    settings = settings or config.load()
    return Social(settings=settings, consumer_queues=consumers.QUEUES,
                  platform=Platform.of("social", settings, models, jwks_url=settings.jwks_url,
                                       jwks_source=jwks_source))
