"""Identity's composition root: every entry point (api, worker, relay, commands) starts here."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from identity import config, consumers, models
from identity.credentials import ApiKeyVault, KeyRing, Passwords, Tokens
from packyard.consumer import ConsumerQueue
from packyard.db import UnitOfWork, utcnow
from packyard.service import Platform


@dataclass
class Identity:
    settings: config.Settings
    platform: Platform
    passwords: Passwords
    vault: ApiKeyVault
    keyring: KeyRing
    tokens: Tokens
    clock: Callable[[], datetime] = field(default=utcnow)

    def uow(self) -> UnitOfWork:
        return self.platform.uow()

    @property
    def consumer_queues(self) -> Sequence[ConsumerQueue]:
        return consumers.QUEUES

    def after_migrate(self) -> None:
        from identity.commands import ensure_signing_key

        ensure_signing_key(self)

    def jwks(self) -> dict[str, Any]:
        with self.uow() as uow:
            return self.keyring.jwks(uow.session)


def bootstrap(settings: config.Settings | None = None) -> Identity:
    settings = settings or config.load()
    keyring = KeyRing(settings.secret_key)
    ident: Identity
    platform = Platform("identity", settings, outbox=models.outbox, inbox=models.inbox,
                        jwks_source=lambda: ident.jwks())
    ident = Identity(
        settings=settings,
        platform=platform,
        passwords=Passwords(),
        vault=ApiKeyVault(settings.secret_key),
        keyring=keyring,
        tokens=Tokens(keyring, access_ttl=settings.access_token_ttl, login_ttl=settings.login_token_ttl),
    )
    return ident
