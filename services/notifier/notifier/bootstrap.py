"""The notifier's composition root: every entry point (api, worker, relay) starts here."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from notifier import config, consumers, models
from notifier.mail.sender import MailSender, SenderConfig
from notifier.mail.templates import Renderer
from notifier.mail.tokens import MailTokenCipher
from notifier.mail.transport import SmtpTransport, Transport
from packyard.consumer import ConsumerQueue
from packyard.db import UnitOfWork, utcnow
from packyard.service import Platform


@dataclass
class Notifier:
    settings: config.Settings
    platform: Platform
    cipher: MailTokenCipher
    clock: Callable[[], datetime] = field(default=utcnow)

    def uow(self) -> UnitOfWork:
        return self.platform.uow()

    @property
    def consumer_queues(self) -> Sequence[ConsumerQueue]:
        return consumers.QUEUES

    def renderer(self) -> Renderer:
        s = self.settings
        return Renderer(cipher=self.cipher, public_base_url=s.public_base_url, mail_from=s.mail_from,
                        clock=self.clock)

    def smtp(self) -> SmtpTransport:
        s = self.settings
        return SmtpTransport(s.smtp_host, s.smtp_port, username=s.smtp_username, password=s.smtp_password,
                             starttls=s.smtp_starttls, timeout=s.smtp_timeout)

    def mail_sender(self, transport: Transport | None = None) -> MailSender:
        s = self.settings
        return MailSender(
            engine=self.platform.engine, uow_factory=self.uow, renderer=self.renderer(),
            transport=transport or self.smtp(), clock=self.clock,
            config=SenderConfig(batch_size=s.mail_batch_size, poll_interval=s.mail_poll_interval,
                                max_attempts=s.mail_max_attempts, retry_delay=s.mail_retry_delay,
                                retry_max_delay=s.mail_retry_max_delay))

    def worker_loops(self) -> list[Any]:
        """Run by ``python -m notifier worker`` beside the consumers."""
        return [self.mail_sender()]


def bootstrap(settings: config.Settings | None = None, *,
              jwks_source: Callable[[], dict[str, Any]] | None = None) -> Notifier:
    settings = settings or config.load()
    platform = Platform("notifier", settings, outbox=models.outbox, inbox=models.inbox,
                        jwks_url=settings.jwks_url, jwks_source=jwks_source)
    return Notifier(settings=settings, platform=platform, cipher=MailTokenCipher(settings.mail_token_key))
