"""Throttling of password guesses and sign-ups, shared by every API replica (state in the database).

Failures slow down the source that fails, never the account's owner elsewhere:

* ``pair:<name>|<source>`` — failures for one username from one source. After
  ``max_failures_per_user`` within ``forget_after`` that source waits ``base_delay`` seconds for
  that username, doubling with each further failure up to ``max_lockout``;
* ``addr:<source>`` — failures from one source, whatever the username (``max_failures_per_address``):
  a source guessing many names waits for all of them;
* ``user:<name>`` — failures for a username from anywhere. It blocks nobody by itself; once it
  passes ``ACCOUNT_ATTACK_FACTOR`` × ``max_failures_per_user`` the account is under a spread-out
  attack and each source gets a single failure for it before it waits;
* ``device:<id>`` — a client that logged into this account before shows its device cookie
  (signed, per account); it is judged by its own failures only, so neither a guessing address
  nor an attack spread over many addresses keeps the owner's browser out.

A *source* is the client's address, and for IPv6 its /64 network (one host owns a whole /64).
A correct password from a source that has not been failing gets in. A successful login clears
its source's and device's count for that username, not the address's nor the account's (an
attacker could otherwise reset them by logging into an account of their own).

A name that matches no account is counted under a keyed digest of what was typed, never the
text itself: people type their password into the username field often enough.

Sign-ups are counted per source too (``signup:<source>``, ``max_signups_per_address`` an hour).
"""

from __future__ import annotations

import hashlib
import hmac
import ipaddress
import logging
import math
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite

from identity.models import LoginThrottle
from packyard.db import UnitOfWork, as_utc
from packyard.errors import TooManyRequests

log = logging.getLogger(__name__)

ACCOUNT_ATTACK_FACTOR = 4
SIGNUP_WINDOW = timedelta(hours=1)


@dataclass(frozen=True)
class ThrottlePolicy:
    max_failures_per_user: int = 5
    max_failures_per_address: int = 20
    base_delay: int = 30
    max_lockout: int = 900
    forget_after: timedelta = timedelta(hours=1)
    digest_key: bytes = b""
    max_signups_per_address: int = 10

    def unknown_name(self, typed: str) -> str:
        """The throttling key of a login name that matches no account."""
        return "?" + hmac.new(self.digest_key, typed.lower().encode(), hashlib.sha256).hexdigest()

    def delay(self, failures: int, limit: int) -> int:
        if failures < limit:
            return 0
        return min(self.max_lockout, self.base_delay * 2 ** min(failures - limit, 16))

    # -- device cookies ------------------------------------------------------------------------
    def new_device(self, user_id: str) -> str:
        """A device token for a client that just logged into ``user_id``."""
        device = secrets.token_urlsafe(12)
        return f"{device}.{self._device_mac(user_id, device)}"

    def device_of(self, user_id: str, token: str | None) -> str | None:
        """The device id of a genuine token of this account, else None."""
        device, _, mac = (token or "").partition(".")
        if not device or not mac or len(token or "") > 200:
            return None
        return device if hmac.compare_digest(mac, self._device_mac(user_id, device)) else None

    def _device_mac(self, user_id: str, device: str) -> str:
        return hmac.new(self.digest_key, f"device|{user_id}|{device}".encode(), hashlib.sha256).hexdigest()[:32]


def source_of(address: str | None) -> str | None:
    """What throttling counts an address as: the address itself, or its /64 for IPv6."""
    if not address:
        return None
    try:
        ip = ipaddress.ip_address(address.strip())
    except ValueError:
        return address.strip()[:100] or None
    if isinstance(ip, ipaddress.IPv6Address):
        if ip.ipv4_mapped is not None:
            return str(ip.ipv4_mapped)
        return str(ipaddress.IPv6Network(f"{ip}/64", strict=False))
    return str(ip)


@dataclass(frozen=True)
class Attempt:
    """Who is trying a password: the account's throttling key, the source, the device (if genuine)."""

    username_key: str
    source: str | None
    device: str | None = None

    @classmethod
    def of(cls, username_key: str, address: str | None, device: str | None = None) -> Attempt:
        return cls(username_key[:120], source_of(address), device)

    @property
    def user_key(self) -> str:
        return f"user:{self.username_key}"

    @property
    def device_key(self) -> str | None:
        return f"device:{self.username_key}|{self.device}" if self.device else None

    @property
    def pair_key(self) -> str | None:
        return f"pair:{self.username_key}|{self.source}" if self.source else None

    @property
    def address_key(self) -> str | None:
        return f"addr:{self.source}" if self.source else None


def _rows(uow: UnitOfWork, keys: list[str]) -> dict[str, LoginThrottle]:
    keys = [k for k in keys if k]
    if not keys:
        return {}
    return {row.key: row for row in uow.session.scalars(sa.select(LoginThrottle).where(LoginThrottle.key.in_(keys)))}


def _fresh(row: LoginThrottle | None, policy: ThrottlePolicy, now: datetime) -> int:
    if row is None or as_utc(row.last_failure_at) < now - policy.forget_after:
        return 0
    return row.failures


def _under_attack(row: LoginThrottle | None, policy: ThrottlePolicy, now: datetime) -> bool:
    return _fresh(row, policy, now) >= ACCOUNT_ATTACK_FACTOR * policy.max_failures_per_user


def _pair_limit(account: LoginThrottle | None, policy: ThrottlePolicy, now: datetime) -> int:
    return 1 if _under_attack(account, policy, now) else policy.max_failures_per_user


def _judged_by(attempt: Attempt) -> list[str]:
    """The keys whose blocks apply to this attempt: a known device answers for itself alone."""
    if attempt.device_key:
        return [attempt.device_key]
    return [k for k in (attempt.pair_key, attempt.address_key) if k]


def check(uow: UnitOfWork, policy: ThrottlePolicy, attempt: Attempt, now: datetime) -> None:
    """429 with ``Retry-After`` while this source (or this device) must wait for this account."""
    rows = _rows(uow, _judged_by(attempt))
    waits = [(as_utc(row.blocked_until) - now).total_seconds() for row in rows.values() if row.blocked_until]
    wait = max(waits, default=0)
    if wait > 0:
        seconds = math.ceil(wait)
        raise TooManyRequests(f"Too many failed attempts: try again in {seconds} seconds",
                              headers={"Retry-After": str(seconds)})


def _count(uow: UnitOfWork, key: str, now: datetime, window: timedelta) -> LoginThrottle:
    session = uow.session
    insert = postgresql.insert if session.get_bind().dialect.name == "postgresql" else sqlite.insert
    # Two replicas may count the first failure of a key at once: insert-or-nothing, then lock.
    session.execute(insert(LoginThrottle).values(key=key, failures=0, last_failure_at=now)
                    .on_conflict_do_nothing(index_elements=["key"]))
    row = session.scalars(sa.select(LoginThrottle).where(LoginThrottle.key == key).with_for_update()).one()
    if as_utc(row.last_failure_at) < now - window:
        row.failures = 0
        row.blocked_until = None
    row.failures += 1
    row.last_failure_at = now
    return row


def record_failure(uow: UnitOfWork, policy: ThrottlePolicy, attempt: Attempt, now: datetime) -> None:
    account = _count(uow, attempt.user_key, now, policy.forget_after)
    pair_limit = _pair_limit(account, policy, now)
    limits = {attempt.device_key: policy.max_failures_per_user} if attempt.device_key else {
        attempt.pair_key: pair_limit, attempt.address_key: policy.max_failures_per_address}
    for key, limit in limits.items():
        if not key:
            continue
        row = _count(uow, key, now, policy.forget_after)
        delay = policy.delay(row.failures, limit)
        if delay:
            row.blocked_until = now + timedelta(seconds=delay)
            log.warning("login throttled for %ds after %d failures", delay, row.failures,
                        extra={"throttle_key": key})
    uow.session.execute(sa.delete(LoginThrottle).where(
        LoginThrottle.last_failure_at < now - max(policy.forget_after, SIGNUP_WINDOW),
        sa.or_(LoginThrottle.blocked_until.is_(None), LoginThrottle.blocked_until < now)))


def succeeded(uow: UnitOfWork, attempt: Attempt) -> None:
    """A correct password: this source's and this device's failures for the account are forgiven."""
    keys = [k for k in (attempt.pair_key, attempt.device_key) if k]
    if keys:
        uow.session.execute(sa.delete(LoginThrottle).where(LoginThrottle.key.in_(keys)))


def clear(uow: UnitOfWork, username_key: str) -> None:
    """Forget every failure counted for an account (its password was reset, or it is deleted)."""
    key = username_key[:120]
    uow.session.execute(sa.delete(LoginThrottle).where(sa.or_(
        LoginThrottle.key == f"user:{key}", LoginThrottle.key.startswith(f"pair:{key}|", autoescape=True),
        LoginThrottle.key.startswith(f"device:{key}|", autoescape=True))))


def count_signup(uow: UnitOfWork, policy: ThrottlePolicy, address: str | None, now: datetime) -> None:
    """Count a sign-up from this source; 429 with ``Retry-After`` beyond the hourly allowance.

    The row's ``blocked_until`` holds when its hour started.
    """
    source = source_of(address)
    if not source:
        return
    session = uow.session
    insert = postgresql.insert if session.get_bind().dialect.name == "postgresql" else sqlite.insert
    key = f"signup:{source}"
    session.execute(insert(LoginThrottle).values(key=key, failures=0, last_failure_at=now, blocked_until=now)
                    .on_conflict_do_nothing(index_elements=["key"]))
    row = session.scalars(sa.select(LoginThrottle).where(LoginThrottle.key == key).with_for_update()).one()
    started = as_utc(row.blocked_until or row.last_failure_at)
    if started <= now - SIGNUP_WINDOW:
        row.failures, row.blocked_until, started = 0, now, now
    if row.failures >= policy.max_signups_per_address:
        seconds = max(1, math.ceil((started + SIGNUP_WINDOW - now).total_seconds()))
        raise TooManyRequests(f"Too many accounts created from this address: try again in {seconds} seconds",
                              headers={"Retry-After": str(seconds)})
    row.failures += 1
    row.last_failure_at = now
