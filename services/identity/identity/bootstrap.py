"""Identity's composition root: every entry point (api, worker, relay, commands) starts here."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import argon2

from identity import config, consumers, models, use_cases
from identity.authn_epoch import AuthnEpoch
from identity.avatars import Avatars
from identity.credentials import ApiKeyVault, KeyRing, Passwords, ResetTokens, Tokens, derive_key
from identity.models import Avatar, Org, OrgMember, Team, User
from identity.use_cases import ThrottlePolicy
from packyard.auth import Principal
from packyard.db import UnitOfWork, utcnow
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
    epoch: AuthnEpoch

    # -- use cases with this deployment's collaborators bound (views pass only the request's data) --
    def register_user(self, uow: UnitOfWork, cmd: use_cases.SignUp, address: str | None) -> User:
        """:func:`identity.use_cases.register_user`, sign-ups from ``address`` throttled by this deployment's policy."""
        return use_cases.register_user(uow, self.passwords, cmd, self.clock(), policy=self.throttle, address=address)

    def log_in(self, uow: UnitOfWork, cmd: use_cases.LogIn) -> use_cases.LoggedIn:
        return use_cases.log_in(uow, self.passwords, self.tokens, self.throttle, cmd, self.clock())

    def log_out(self, uow: UnitOfWork, login_jti: str | None, login_expires: int | None) -> None:
        use_cases.log_out(uow, login_jti, login_expires, self.clock())

    def request_password_reset(self, uow: UnitOfWork, email: str) -> None:
        """:func:`identity.use_cases.request_password_reset` with this deployment's link lifetime."""
        use_cases.request_password_reset(uow, self.resets, email, self.settings.password_reset_ttl, self.clock())

    def confirm_password_reset(self, uow: UnitOfWork, cmd: use_cases.ConfirmPasswordReset) -> None:
        use_cases.confirm_password_reset(uow, self.passwords, self.resets, cmd, self.clock())

    def change_password(self, uow: UnitOfWork, cmd: use_cases.ChangePassword) -> tuple[str, int]:
        return use_cases.change_password(uow, self.passwords, self.tokens, self.throttle, cmd, self.clock())

    def delete_account(self, uow: UnitOfWork, cmd: use_cases.DeleteAccount) -> None:
        use_cases.delete_account(uow, self.passwords, self.throttle, cmd, self.clock())

    def make_admin(self, uow: UnitOfWork, username: str, email: str | None,
                   password: str | None) -> tuple[User, bool]:
        return use_cases.make_admin(uow, self.passwords, username, email, password, self.clock())

    def update_profile(self, uow: UnitOfWork, cmd: use_cases.UpdateProfile) -> User:
        return use_cases.update_profile(uow, self.passwords, self.throttle, cmd, self.clock())

    def set_avatar(self, uow: UnitOfWork, user_id: str, data: bytes) -> Avatar:
        return use_cases.set_avatar(uow, self.avatars, user_id, data, self.clock())

    def show_api_key(self, uow: UnitOfWork, principal: Principal) -> str:
        return use_cases.show_api_key(uow, self.vault, principal, self.clock())

    def create_api_key(self, uow: UnitOfWork, principal: Principal) -> str:
        """:func:`identity.use_cases.create_api_key`, the key sealed for mail with this deployment's key."""
        return use_cases.create_api_key(uow, self.vault, self.resets.encrypt_for_mail, principal, self.clock())

    def regenerate_api_key(self, uow: UnitOfWork, principal: Principal) -> str:
        return use_cases.regenerate_api_key(uow, self.vault, self.resets.encrypt_for_mail, principal, self.clock())

    def create_org(self, uow: UnitOfWork, actor_id: str, cmd: use_cases.NewOrg) -> Org:
        return use_cases.create_org(uow, actor_id, cmd, self.clock())

    def add_member(self, uow: UnitOfWork, actor_id: str, org_name: str, username: str, role: str) -> OrgMember:
        return use_cases.add_member(uow, actor_id, org_name, username, role, self.clock())

    def create_team(self, uow: UnitOfWork, actor_id: str, owner: use_cases.TeamOwner,
                    cmd: use_cases.NewTeam) -> Team:
        return use_cases.create_team(uow, actor_id, owner, cmd, self.clock())

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
        epoch=AuthnEpoch(platform.engine, settings.gateway_control_urls.replace(",", " ").split(),
                         service_token=settings.service_token or "",
                         keep_seconds=settings.authn_epoch_recheck_seconds),
        clock=clock,
    )
    ident.epoch.watch(platform.session_factory)
    return ident
