"""Social's composition root: every entry point (api, worker, relay) starts here."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from packyard.auth import Principal
from packyard.db import UnitOfWork
from packyard.service import Platform, ServiceContainer
from social import config, consumers, models
from social.models import Message
from social.use_cases import messages


@dataclass
class Social(ServiceContainer):
    settings: config.Settings

    # -- use cases with this deployment's settings bound (views pass only the request's data) --
    def send_message(self, uow: UnitOfWork, principal: Principal, to: str, subject: str | None,
                     body: str) -> Message:
        """:func:`social.use_cases.messages.send` with the hourly limits and the length limit of the settings."""
        s = self.settings
        return messages.send(uow, principal, to, subject, body, new_conversations_per_hour=s.new_conversations_per_hour,
                             messages_per_hour=s.messages_per_hour, max_chars=s.message_max_chars)


def bootstrap(settings: config.Settings | None = None, *,
              jwks_source: Callable[[], dict[str, Any]] | None = None) -> Social:
    settings = settings or config.load()
    return Social(settings=settings, consumer_queues=consumers.QUEUES,
                  platform=Platform.of("social", settings, models, jwks_url=settings.jwks_url,
                                       jwks_source=jwks_source))
