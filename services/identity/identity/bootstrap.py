"""Identity's composition root: every entry point (api, worker, relay, commands) starts here."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import argon2

from identity import config, consumers, models
from identity.avatars import Avatars
from identity.credentials import ApiKeyVault, KeyRing, Passwords, ResetTokens, Tokens, derive_key
from identity.use_cases import ThrottlePolicy
from packyard.db import utcnow
from packyard.service import Platform, ServiceContainer


@dataclass
class Identity(ServiceContainer):
    settings: config.Settings
    passwords: Passwords
    vault: ApiKeyVault
    keyring: KeyRing
    tokens: Tokens
    resets: ResetTokens
    throttle: ThrottlePolicy
    avatars: Avatars

    def after_migrate(self) -> None:
        from identity.commands import ensure_signing_key

        ensure_signing_key(self)

    def jwks(self) -> dict[str, Any]:
        with self.uow() as uow:
            return self.keyring.jwks(uow.session)


def bootstrap(settings: config.Settings | None = None, *, passwords: Passwords | None = None,
              clock: Callable[[], datetime] = utcnow) -> Identity:
    """Build identity from ``settings`` (the environment by default).

    ``passwords`` replaces the argon2 parameters (tests use cheaper ones); ``clock`` the time.
    """
    settings = config.check(settings or config.load())
    keyring = KeyRing(settings.secret_key)
    ident: Identity
    platform = Platform.of("identity", settings, models, jwks_source=lambda: ident.jwks())
    ident = Identity(
        settings=settings,
        platform=platform,
        consumer_queues=consumers.QUEUES,
        passwords=passwords or Passwords(argon2.PasswordHasher(memory_cost=settings.password_hash_memory_kib,
                                                               type=argon2.Type.ID),
                                         max_concurrent=settings.password_hash_concurrency),
        vault=ApiKeyVault(settings.secret_key),
        keyring=keyring,
        tokens=Tokens(keyring, access_ttl=settings.access_token_ttl, login_ttl=settings.login_token_ttl),
        resets=ResetTokens(settings.secret_key, settings.mail_token_key),
        throttle=ThrottlePolicy(max_failures_per_user=settings.login_max_failures_per_user,
                                max_failures_per_address=settings.login_max_failures_per_address,
                                max_lockout=settings.login_max_lockout,
                                max_signups_per_address=settings.signups_per_address_per_hour,
                                digest_key=derive_key(settings.secret_key, "login-throttle-names")),
        avatars=Avatars(max_bytes=settings.avatar_max_bytes, size=settings.avatar_size),
        clock=clock,
    )
    return ident
