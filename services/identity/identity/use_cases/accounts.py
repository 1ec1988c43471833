"""Accounts and credentials: sign-up, login, logout, passwords, deletion, admins.

Requests are authenticated in :mod:`identity.authn` (the gateway's hot path), not here.
"""

from __future__ import annotations

import logging
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import sqlalchemy as sa
import sqlalchemy.exc

from identity import events
from identity.access import caller, user_by_name
from identity.credentials import Passwords, ResetTokens, Tokens
from identity.models import PasswordReset, RevokedLogin, SubjectRepo, Team, TeamMember, User
from identity.use_cases import throttle
from identity.use_cases.api_keys import drop_api_key
from identity.use_cases.common import (
    Rejected,
    check_password,
    claim_subject_name,
    retire_subject_name,
    verify_password,
)
from identity.use_cases.orgs import leave_all_orgs, sole_owned_orgs
from identity.use_cases.teams import forget_team_member, publish_team_deleted
from packyard.db import UnitOfWork, as_utc
from packyard.errors import Conflict, Invalid, Unauthorized

log = logging.getLogger(__name__)

RESETS_PER_HOUR = 3


@dataclass(frozen=True)
class SignUp:
    username: str
    email: str
    password: str
    full_name: str = ""


def _split_name(full_name: str) -> tuple[str, str]:
    first, _, last = full_name.strip().partition(" ")
    return first[:100], last.strip()[:100]


def register_user(uow: UnitOfWork, passwords: Passwords, cmd: SignUp, now: datetime, *, admin: bool = False,
                  policy: throttle.ThrottlePolicy | None = None, address: str | None = None) -> User:
    """Create an account and announce it. Usernames (shared with organizations) and emails are unique,
    case-insensitively. With a ``policy``, sign-ups from one address are limited per hour."""
    session = uow.session
    check_password(cmd.password, username=cmd.username, email=cmd.email)
    if policy is not None:
        throttle.count_signup(uow, policy, address, now)
    if session.scalar(sa.select(sa.func.count()).select_from(User).where(User.email_key == cmd.email.lower())):
        raise Conflict("An account with this email address already exists")
    claim_subject_name(uow, cmd.username, "user", now)
    first_name, last_name = _split_name(cmd.full_name)
    user = User(
        id=str(uuid.uuid4()),
        username=cmd.username,
        username_key=cmd.username.lower(),
        email=cmd.email,
        email_key=cmd.email.lower(),
        password_hash=passwords.hash(cmd.password),
        full_name=cmd.full_name.strip(),
        first_name=first_name,
        last_name=last_name,
        is_admin=admin,
        created_at=now,
        token_generation=0,
        followers_count=0,
    )
    try:
        with session.begin_nested():  # the unique address decides between two sign-ups at once
            session.add(user)
    except sqlalchemy.exc.IntegrityError:
        raise Conflict("An account with this email address already exists") from None
    uow.publish(events.USER_REGISTERED, {
        "user_id": user.id, "username": user.username, "email": user.email,
        "full_name": user.full_name, "registered": now,
    }, subject=user.username)
    return user


@dataclass(frozen=True)
class LogIn:
    username: str  # or the account's email address
    password: str
    address: str | None  # the client's, for throttling
    device_token: str | None = None  # the device cookie of an earlier login from this client


@dataclass(frozen=True)
class LoggedIn:
    token: str
    expires_in: int
    device: str  # the device cookie: this client logged into this account before


def log_in(uow: UnitOfWork, passwords: Passwords, tokens: Tokens, policy: throttle.ThrottlePolicy, cmd: LogIn,
           now: datetime) -> LoggedIn:
    """A login bearer token for a username (or email) and password.

    ``cmd.device_token`` is the cookie an earlier login from this client got: with it, failures
    elsewhere never keep this client out (see :mod:`identity.use_cases.throttle`).
    """
    username, password, address, device_token = cmd.username, cmd.password, cmd.address, cmd.device_token
    user = user_by_name(uow.session, username) or uow.session.scalars(
        sa.select(User).where(User.email_key == username.lower())).first()
    key = user.username_key if user else policy.unknown_name(username)
    device = policy.device_of(user.id, device_token) if user else None
    attempt = throttle.Attempt.of(key, address, device)
    throttle.check(uow, policy, attempt, now)
    if not passwords.verify(user.password_hash if user else None, password) or user is None:
        throttle.record_failure(uow, policy, attempt, now)
        # What was typed is logged only when it is an account's name: it may be a mistyped password.
        log.info("failed login", extra={"username": user.username if user else None, "address": address})
        raise Rejected(Unauthorized("Wrong username or password"))
    throttle.succeeded(uow, attempt)
    if passwords.needs_rehash(user.password_hash):
        user.password_hash = passwords.hash(password)
    token = tokens.issue_login(uow.session, user_id=user.id, username=user.username,
                               generation=user.token_generation, now=now.timestamp())
    # a device is only ever read from a device token
    return LoggedIn(token, tokens.login_ttl, device_token if device and device_token else policy.new_device(user.id))


def log_out(uow: UnitOfWork, login_jti: str | None, login_expires: int | None, now: datetime) -> None:
    """Refuse the caller's login token from now on, everywhere (the gateway asks identity on every request).

    The token is known by its ``jti`` only, kept until the token would have expired anyway; rows of
    tokens already expired are dropped here. Credentials that are not a login token (an API key)
    have nothing to log out of.
    """
    if not login_jti or login_expires is None:
        raise Invalid("Only a login token (from /auth/login) can be logged out; an API key is revoked "
                      "by regenerating it")
    now = as_utc(now)
    uow.session.execute(sa.delete(RevokedLogin).where(RevokedLogin.expires_at <= now))
    expires = datetime.fromtimestamp(login_expires, tz=UTC)
    if expires > now and uow.session.get(RevokedLogin, login_jti) is None:
        try:
            with uow.session.begin_nested():  # the same token logged out twice at once: one row
                uow.session.add(RevokedLogin(jti=login_jti, expires_at=expires))
        except sa.exc.IntegrityError:
            pass


def _set_password(uow: UnitOfWork, passwords: Passwords, user: User, password: str, now: datetime, *,
                  reset: bool, api_key_revoked: bool = False) -> None:
    """A new password: every bearer token issued before is refused, every reset link dies, the owner is told."""
    user.password_hash = passwords.hash(password)
    user.token_generation += 1
    uow.session.execute(sa.delete(PasswordReset).where(PasswordReset.user_id == user.id))
    uow.publish(events.USER_PASSWORD_CHANGED, {
        "user_id": user.id, "username": user.username, "email": user.email, "reset": reset,
        "api_key_revoked": api_key_revoked, "changed": now}, subject=user.username)


@dataclass(frozen=True)
class ChangePassword:
    user_id: str  # the caller
    old_password: str
    new_password: str
    retype_password: str
    address: str | None  # the client's: a wrong old password counts like a failed login


def change_password(uow: UnitOfWork, passwords: Passwords, tokens: Tokens, policy: throttle.ThrottlePolicy,
                    cmd: ChangePassword, now: datetime) -> tuple[str, int]:
    """Replace the caller's password; returns a fresh login token, the old ones being refused from now on."""
    old_password, new_password, retype_password = cmd.old_password, cmd.new_password, cmd.retype_password
    user = caller(uow.session, cmd.user_id, lock=True)
    if new_password != retype_password:
        raise Invalid("The new password and its retyped copy do not match")
    if new_password == old_password:
        raise Invalid("The new password must differ from the old one")
    check_password(new_password, username=user.username, email=user.email)
    verify_password(uow, passwords, policy, user, old_password, cmd.address, now,
                    Invalid("The old password is wrong"))
    _set_password(uow, passwords, user, new_password, now, reset=False)
    log.info("password changed", extra={"username": user.username})
    token = tokens.issue_login(uow.session, user_id=user.id, username=user.username,
                               generation=user.token_generation, now=now.timestamp())
    return token, tokens.login_ttl


def request_password_reset(uow: UnitOfWork, resets: ResetTokens, email: str, ttl: int, now: datetime) -> None:
    """Send a single-use, expiring reset link to the account with this address, if there is one.

    Answers the same whether or not the address belongs to an account; a few links an hour
    at most, so the address cannot be flooded.
    """
    user = uow.session.scalars(sa.select(User).where(User.email_key == email.strip().lower())).first()
    token = resets.generate()
    ciphertext = resets.encrypt_for_mail(token)  # done either way: the answer takes the same time
    if user is None:
        return
    session = uow.session
    session.execute(sa.delete(PasswordReset).where(PasswordReset.user_id == user.id,
                                                   PasswordReset.expires_at < now))
    recent = session.execute(sa.select(sa.func.count()).select_from(PasswordReset).where(
        PasswordReset.user_id == user.id, PasswordReset.created_at > now - timedelta(hours=1))).scalar_one()
    if recent >= RESETS_PER_HOUR:
        log.info("password reset not sent: too many asked for this hour", extra={"username": user.username})
        return
    expires_at = now + timedelta(seconds=ttl)
    session.add(PasswordReset(id=str(uuid.uuid4()), user_id=user.id, digest=resets.digest(token),
                              created_at=now, expires_at=expires_at))
    uow.publish(events.USER_PASSWORD_RESET_REQUESTED, {
        "user_id": user.id, "username": user.username, "email": user.email,
        "token_ciphertext": ciphertext, "expires_at": expires_at,
    }, subject=user.username)
    log.info("password reset link requested", extra={"username": user.username})


@dataclass(frozen=True)
class ConfirmPasswordReset:
    token: str  # the reset link's
    new_password: str
    revoke_api_key: bool = False  # whoever made the reset necessary may hold the API key too


def confirm_password_reset(uow: UnitOfWork, passwords: Passwords, resets: ResetTokens, cmd: ConfirmPasswordReset,
                           now: datetime) -> None:
    """Set a new password with a reset link's token; the link works once, before it expires."""
    new_password = cmd.new_password
    row = uow.session.scalars(sa.select(PasswordReset).where(PasswordReset.digest == resets.digest(cmd.token))
                              .with_for_update()).first()
    if row is None or as_utc(row.expires_at) <= now:
        raise Invalid("This password-reset link is invalid or has expired: ask for a new one")
    user = caller(uow.session, row.user_id, lock=True)
    check_password(new_password, username=user.username, email=user.email)
    revoked = drop_api_key(uow, user) if cmd.revoke_api_key else False
    _set_password(uow, passwords, user, new_password, now, reset=True, api_key_revoked=revoked)
    throttle.clear(uow, user.username_key)
    log.info("password reset", extra={"username": user.username})


@dataclass(frozen=True)
class DeleteAccount:
    user_id: str  # the caller
    password: str
    address: str | None  # the client's: a wrong password counts like a failed login


def delete_account(uow: UnitOfWork, passwords: Passwords, policy: throttle.ThrottlePolicy, cmd: DeleteAccount,
                   now: datetime) -> None:
    """Delete the caller's account after checking their password, and tell every service to forget them."""
    session = uow.session
    user = caller(session, cmd.user_id, lock=True)
    verify_password(uow, passwords, policy, user, cmd.password, cmd.address, now, Invalid("The password is wrong"))
    sole = sole_owned_orgs(session, user.id)
    if sole:
        names = ", ".join(f"'{name}'" for name in sole)
        raise Conflict(f"You are the only owner of organization {names}: make another member an owner "
                       "or delete the organization first")
    leave_all_orgs(uow, user)
    for team in session.scalars(sa.select(Team).where(Team.user_id == user.id)).all():
        user.revision += 1
        publish_team_deleted(uow, team, user.username, "user", user.revision)
    for team_id in session.scalars(sa.select(TeamMember.team_id).join(Team, Team.id == TeamMember.team_id)
                                   .where(TeamMember.user_id == user.id, Team.user_id.is_not(None))).all():
        forget_team_member(uow, session.get(Team, team_id), user.id)
    session.execute(sa.delete(SubjectRepo).where(SubjectRepo.subject == user.username))
    throttle.clear(uow, user.username_key)
    retire_subject_name(uow, user.username)
    session.delete(user)  # the database cascades to keys, avatar, resets, memberships and teams
    uow.publish(events.USER_DELETED, {"user_id": user.id, "username": user.username}, subject=user.username)
    log.info("account deleted", extra={"username": user.username})


def make_admin(uow: UnitOfWork, passwords: Passwords, username: str, email: str | None, password: str | None,
               now: datetime) -> tuple[User, bool]:
    """Make ``username`` a platform administrator, creating the account when there is none.

    Returns the user and whether it was created.
    """
    user = user_by_name(uow.session, username)
    if user is not None:
        user.is_admin = True
        return user, False
    if not email or not password:
        raise Invalid(f"There is no user '{username}': give an email address and a password to create one")
    return register_user(uow, passwords, SignUp(username=username, email=email, password=password), now,
                         admin=True), True
