"""The notifier's composition root: every entry point (api, worker, relay) starts here."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from notifier import config, consumers, models, webhooks
from notifier.activity import KeyExpiryWatcher
from notifier.digests import DigestAndNewsLoop
from notifier.mail.sender import MailSender, SenderConfig
from notifier.mail.templates import Renderer
from notifier.mail.tokens import MailTokenCipher
from notifier.mail.transport import SmtpTransport, Transport
from notifier.mail.unsubscribe import UnsubscribeSigner
from notifier.models import Delivery, MastodonAccount
from notifier.webhooks import DeliverySender, SenderSettings
from packyard.db import UnitOfWork
from packyard.process import Loop
from packyard.service import Platform, ServiceContainer


@dataclass
class Notifier(ServiceContainer):
    settings: config.Settings
    cipher: MailTokenCipher

    @property
    def base_url(self) -> str:
        return self.settings.public_base_url.rstrip("/")

    # -- use cases with this deployment's collaborators bound (views pass only the request's data) --
    def redeliver(self, uow: UnitOfWork, *, username: str, delivery_id: str) -> Delivery:
        """:func:`notifier.webhooks.redeliver` with the clock and the attempts of the settings."""
        return webhooks.redeliver(uow, username=username, delivery_id=delivery_id, now=self.clock(),
                                  max_attempts=self.settings.webhook_max_attempts)

    def link_mastodon(self, uow: UnitOfWork, *, user_id: str, username: str, instance_url: str,
                      access_token: str) -> MastodonAccount:
        """:func:`notifier.webhooks.link_mastodon` with the token cipher, the allowed targets and the clock."""
        return webhooks.link_mastodon(uow, user_id=user_id, username=username, instance_url=instance_url,
                                      access_token=access_token, cipher=self.cipher,
                                      allow=self.settings.allow_list, now=self.clock())

    def unsubscribe_signer(self) -> UnsubscribeSigner:
        return UnsubscribeSigner(self.settings.mail_token_key)

    def renderer(self) -> Renderer:
        s = self.settings
        return Renderer(cipher=self.cipher, public_base_url=s.public_base_url, mail_from=s.mail_from,
                        clock=self.clock, unsubscribe=self.unsubscribe_signer())

    def delivery_sender(self, request: Callable[..., Any] | None = None) -> DeliverySender:
        s = self.settings
        extra = {"request": request} if request is not None else {}
        return DeliverySender(
            engine=self.platform.engine, uow_factory=self.uow, cipher=self.cipher, base_url=self.base_url,
            clock=self.clock, settings=SenderSettings(
                allow=s.allow_list, connect_timeout=s.webhook_connect_timeout, timeout=s.webhook_timeout,
                retry_delay=s.webhook_retry_delay, retry_max_delay=s.webhook_retry_max_delay,
                concurrency=s.webhook_concurrency, poll_interval=max(s.mail_poll_interval, 0.1)), **extra)

    def digest_loop(self) -> DigestAndNewsLoop:
        s = self.settings
        return DigestAndNewsLoop(engine=self.platform.engine, uow_factory=self.uow, clock=self.clock,
                                 interval=s.digest_interval, news_per_minute=s.news_per_minute)

    def key_expiry_watcher(self) -> KeyExpiryWatcher:
        return KeyExpiryWatcher(engine=self.platform.engine, uow_factory=self.uow, base=self.base_url,
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

    def worker_loops(self) -> list[Loop]:
        """Run by ``python -m notifier worker`` beside the consumers."""
        return [self.mail_sender(), self.delivery_sender(), self.digest_loop(), self.key_expiry_watcher()]


def bootstrap(settings: config.Settings | None = None, *,
              jwks_source: Callable[[], dict[str, Any]] | None = None) -> Notifier:
    settings = settings or config.load()
    queues = consumers.queues(consumers.Options(base_url=settings.public_base_url,
                                                batch_size=settings.fanout_batch_size,
                                                webhook_max_attempts=settings.webhook_max_attempts))
    return Notifier(settings=settings, consumer_queues=queues, cipher=MailTokenCipher(settings.mail_token_key),
                    platform=Platform.of("notifier", settings, models, jwks_url=settings.jwks_url,
                                         jwks_source=jwks_source))
