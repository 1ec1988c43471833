"""Login throttling: repeated password failures for a username or from an address wait a while.

State lives in the database so that every API replica sees the same counts. After
``limit`` failures within ``forget_after`` a key is blocked for ``base_delay`` seconds,
doubling with each further failure up to ``max_lockout``: guessing stays slow, and the real
owner of a targeted account is never kept out longer than that cap. A successful login
clears its username's count (not the address's: an attacker could otherwise reset it by
logging into an account of their own).

A name that matches no account is counted under a keyed digest of what was typed, never the
text itself: people type their password into the username field often enough.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import math
from dataclasses import dataclass
from datetime import datetime, timedelta

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite

from identity.access import as_utc
from identity.models import LoginThrottle
from packyard.db import UnitOfWork
from packyard.errors import TooManyRequests

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class ThrottlePolicy:
    max_failures_per_user: int = 5
    max_failures_per_address: int = 20
    base_delay: int = 30
    max_lockout: int = 900
    forget_after: timedelta = timedelta(hours=1)
    digest_key: bytes = b""

    def unknown_name(self, typed: str) -> str:
        """The throttling key of a login name that matches no account."""
        return "?" + hmac.new(self.digest_key, typed.lower().encode(), hashlib.sha256).hexdigest()

    def delay(self, failures: int, limit: int) -> int:
        if failures < limit:
            return 0
        return min(self.max_lockout, self.base_delay * 2 ** min(failures - limit, 16))


def _keys(policy: ThrottlePolicy, username_key: str, address: str | None) -> list[tuple[str, int]]:
    keys = [(f"user:{username_key[:250]}", policy.max_failures_per_user)]
    if address:
        keys.append((f"addr:{address[:250]}", policy.max_failures_per_address))
    return keys


def check(uow: UnitOfWork, policy: ThrottlePolicy, username_key: str, address: str | None, now: datetime) -> None:
    """429 with ``Retry-After`` while the username or the address is blocked."""
    keys = [key for key, _limit in _keys(policy, username_key, address)]
    blocked = [as_utc(until) for until in uow.session.scalars(
        sa.select(LoginThrottle.blocked_until).where(LoginThrottle.key.in_(keys),
                                                     LoginThrottle.blocked_until.is_not(None)))]
    wait = max((until - now).total_seconds() for until in blocked) if blocked else 0
    if wait > 0:
        seconds = math.ceil(wait)
        raise TooManyRequests(f"Too many failed attempts: try again in {seconds} seconds",
                              headers={"Retry-After": str(seconds)})


def record_failure(uow: UnitOfWork, policy: ThrottlePolicy, username_key: str, address: str | None,
                   now: datetime) -> None:
    session = uow.session
    insert = postgresql.insert if session.get_bind().dialect.name == "postgresql" else sqlite.insert
    for key, limit in _keys(policy, username_key, address):
        # Two replicas may count the first failure of a key at once: insert-or-nothing, then lock.
        session.execute(insert(LoginThrottle).values(key=key, failures=0, last_failure_at=now)
                        .on_conflict_do_nothing(index_elements=["key"]))
        row = session.scalars(sa.select(LoginThrottle).where(LoginThrottle.key == key).with_for_update()).one()
        if as_utc(row.last_failure_at) < now - policy.forget_after:
            row.failures = 0
        row.failures += 1
        row.last_failure_at = now
        delay = policy.delay(row.failures, limit)
        if delay:
            row.blocked_until = now + timedelta(seconds=delay)
            log.warning("login throttled for %ds after %d failures", delay, row.failures,
                        extra={"throttle_key": key})
    session.execute(sa.delete(LoginThrottle).where(LoginThrottle.last_failure_at < now - policy.forget_after,
                                                   sa.or_(LoginThrottle.blocked_until.is_(None),
                                                          LoginThrottle.blocked_until < now)))


def clear(uow: UnitOfWork, username_key: str) -> None:
    uow.session.execute(sa.delete(LoginThrottle).where(LoginThrottle.key == f"user:{username_key[:250]}"))
