"""Webhooks (Bintray's callback) and Mastodon announcements: what to call, and the calls themselves.

Replicas: catalog's webhooks (``catalog.webhook.*``, with the per-webhook Standard Webhooks
secret sealed in ``secret_ciphertext``) and identity's API keys (``identity.api_key.*``, the key
sealed in ``api_key_ciphertext``). Both stay sealed at rest; a key is opened only to sign a call.

A release queues one :class:`~notifier.models.Delivery` per active webhook of the package (and
one Mastodon post when the package's announcements are on), in the transaction that handles the
release; :class:`DeliverySender` (a worker loop) calls them through :mod:`packyard.netguard`:

* at least once, with a stable delivery id (``webhook-id``; a manual redelivery keeps it);
* each attempt bounded in time; failures retried with exponential back-off and full jitter up to
  ``max_attempts``; a 2xx succeeds, a 3xx (redirects are not followed) or a 4xx other than
  408/429 fails at once;
* a release whose call finally failed counts one failure of the webhook; 7 in a row deactivate
  it (Bintray's rule) and tell its owner; a success resets the count. Each outcome is published
  (``notifier.webhook_delivery.*``) so catalog's ``failure_count`` stays true.
"""

from __future__ import annotations

import base64
import concurrent.futures
import hashlib
import hmac
import json
import logging
import random
import time
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

import sqlalchemy as sa
from sqlalchemy.engine import Engine

from notifier import events, kinds
from notifier.loops import BackgroundLoop
from notifier.mail.tokens import MailTokenCipher, UndecryptableToken
from notifier.models import (
    DELIVERY_CHANNEL,
    FAILED,
    MASTODON,
    PENDING,
    SUCCEEDED,
    TEST,
    WEBHOOK,
    Announcement,
    ApiKey,
    Delivery,
    MastodonAccount,
    Recipient,
    Webhook,
)
from notifier.notify import Notice, tell
from packyard import netguard
from packyard.db import UnitOfWork, as_utc, is_postgres, utcnow
from packyard.errors import Invalid, NotFound

if TYPE_CHECKING:
    from notifier.fanout import Release

log = logging.getLogger(__name__)

DEACTIVATE_AFTER = 7  # consecutive failed releases (Bintray's rule)
BINTRAY_HMAC_HEADER = "X-Bintray-Hook-Hmac"
RELEASE_TARGET = "hook:"


def _wake(uow: UnitOfWork) -> None:
    if is_postgres(uow.session.get_bind()):
        uow.session.execute(sa.text("SELECT pg_notify(:channel, '')"), {"channel": DELIVERY_CHANNEL})


# -- replicas ---------------------------------------------------------------------------------

def webhook_key(owner: str, repo: str, package: str, username: str) -> str:
    return str(uuid.uuid5(uuid.NAMESPACE_URL, f"packyard:webhook:{owner}/{repo}/{package}/{username}"))


def register(uow: UnitOfWork, *, owner: str, repo: str, package: str, username: str, url: str, method: str,
             registered: datetime, secret_ciphertext: str | None, webhook_id: str | None) -> None:
    """A webhook registered or replaced: it is active again with no failures (unless this is older news)."""
    session = uow.session
    hook = session.scalars(sa.select(Webhook).where(Webhook.owner == owner, Webhook.repo == repo,
                                                    Webhook.package == package, Webhook.username == username)
                           .with_for_update()).first()
    if hook is None:
        session.add(Webhook(id=str(webhook_id or webhook_key(owner, repo, package, username))[:64], owner=owner,
                            repo=repo, package=package, username=username, url=url, method=method,
                            secret_ciphertext=secret_ciphertext, active=True, deleted=False,
                            consecutive_failures=0, registered_at=registered))
        return
    if as_utc(hook.registered_at) > registered:
        return
    hook.url, hook.method, hook.registered_at = url, method, registered
    hook.secret_ciphertext = secret_ciphertext or hook.secret_ciphertext
    hook.active, hook.deleted, hook.consecutive_failures = True, False, 0


def unregister(uow: UnitOfWork, *, owner: str, repo: str, package: str, username: str, at: datetime) -> None:
    hook = uow.session.scalars(sa.select(Webhook).where(Webhook.owner == owner, Webhook.repo == repo,
                                                        Webhook.package == package, Webhook.username == username)
                               .with_for_update()).first()
    if hook is None:
        uow.session.add(Webhook(id=webhook_key(owner, repo, package, username), owner=owner, repo=repo,
                                package=package, username=username, url="", method="post", active=False,
                                deleted=True, consecutive_failures=0, registered_at=at))
    elif at >= as_utc(hook.registered_at):
        hook.deleted, hook.active, hook.registered_at = True, False, at


def set_api_key(uow: UnitOfWork, *, username: str, key_ciphertext: str | None, at: datetime) -> None:
    """Identity issued (ciphertext) or revoked (None) a user's API key; an older event changes nothing."""
    row = uow.session.get(ApiKey, username, with_for_update=True)
    if row is None:
        uow.session.add(ApiKey(username=username, key_ciphertext=key_ciphertext, changed_at=at))
    elif at >= as_utc(row.changed_at):
        row.key_ciphertext, row.changed_at = key_ciphertext, at


# -- queueing calls ---------------------------------------------------------------------------

def bintray_body(package: str, version: str, released: str | None, release_notes: str | None) -> str:
    return json.dumps({"package": package, "version": version, "released": released,
                       "release_notes": release_notes or ""})


def _new_delivery(*, kind: str, event_id: str, target: str, username: str, user_id: str | None,
                  webhook_id: str | None, owner: str, repo: str, package: str, version: str | None, url: str,
                  method: str, payload: str, now: datetime, max_attempts: int) -> Delivery:
    ident = str(uuid.uuid4())
    return Delivery(id=ident, message_id=f"msg_{ident.replace('-', '')}", kind=kind, event_id=event_id,
                    target=target, username=username, user_id=user_id, webhook_id=webhook_id, owner=owner,
                    repo=repo, package=package, version=version, url=url, method=method, payload=payload,
                    status=PENDING, attempts=0, max_attempts=max_attempts, next_attempt_at=now, created_at=now)


def _user_id(session: Any, username: str) -> str | None:
    return session.scalar(sa.select(Recipient.user_id).where(Recipient.username == username,
                                                            Recipient.deleted_at.is_(None)))


def _add_once(uow: UnitOfWork, delivery: Delivery) -> bool:
    exists = uow.session.scalar(sa.select(sa.func.count()).select_from(Delivery).where(
        Delivery.event_id == delivery.event_id, Delivery.target == delivery.target))
    if exists:
        return False
    uow.session.add(delivery)
    return True


def queue_release_calls(uow: UnitOfWork, rel: Release, *, now: datetime, max_attempts: int, base: str) -> int:
    """One call per active webhook of the released package, and the Mastodon announcement."""
    session = uow.session
    hooks = session.scalars(sa.select(Webhook).where(
        Webhook.owner == rel.owner, Webhook.repo == rel.repo, Webhook.package == rel.package,
        Webhook.active.is_(True), Webhook.deleted.is_(False)).order_by(Webhook.id)).all()
    queued = 0
    payload = bintray_body(rel.package, rel.version, rel.released, rel.release_notes)
    for hook in hooks:
        queued += _add_once(uow, _new_delivery(
            kind=WEBHOOK, event_id=rel.event_id, target=f"{RELEASE_TARGET}{hook.id}", username=hook.username,
            user_id=_user_id(session, hook.username), webhook_id=hook.id, owner=rel.owner, repo=rel.repo,
            package=rel.package, version=rel.version, url=hook.url, method=hook.method, payload=payload,
            now=now, max_attempts=max_attempts))
    if not rel.private:
        row = session.execute(
            sa.select(Announcement, MastodonAccount, Recipient)
            .join(MastodonAccount, MastodonAccount.user_id == Announcement.user_id)
            .join(Recipient, Recipient.user_id == Announcement.user_id)
            .where(Announcement.owner == rel.owner, Announcement.repo == rel.repo,
                   Announcement.package == rel.package, Recipient.deleted_at.is_(None))).first()
        if row is not None:
            _announcement, account, recipient = row
            from notifier.fanout import version_link
            status = f"{rel.owner}/{rel.package} {rel.version} is out: {version_link(base, rel)}"
            queued += _add_once(uow, _new_delivery(
                kind=MASTODON, event_id=rel.event_id, target=f"mastodon:{account.user_id}",
                username=recipient.username or "", user_id=account.user_id, webhook_id=None, owner=rel.owner,
                repo=rel.repo, package=rel.package, version=rel.version,
                url=account.instance_url.rstrip("/") + "/api/v1/statuses", method="post",
                payload=json.dumps({"status": status, "visibility": "public"}), now=now,
                max_attempts=max_attempts))
    if queued:
        _wake(uow)
    return queued


def queue_test_call(uow: UnitOfWork, *, event_id: str, owner: str, repo: str, package: str, version: str,
                    username: str, url: str, method: str, released: str | None, release_notes: str | None,
                    now: datetime) -> None:
    """The publisher's test call: made once, reported in ``/me/deliveries``, never counted as a failure."""
    hook = uow.session.scalars(sa.select(Webhook).where(
        Webhook.owner == owner, Webhook.repo == repo, Webhook.package == package, Webhook.username == username,
        Webhook.deleted.is_(False))).first()
    if _add_once(uow, _new_delivery(
            kind=TEST, event_id=event_id, target="test", username=username,
            user_id=_user_id(uow.session, username), webhook_id=hook.id if hook else None, owner=owner, repo=repo,
            package=package, version=version, url=url, method=method,
            payload=bintray_body(package, version, released, release_notes), now=now, max_attempts=1)):
        _wake(uow)


def redeliver(uow: UnitOfWork, *, username: str, delivery_id: str, now: datetime, max_attempts: int) -> Delivery:
    """Call again what a finished delivery called (same body and delivery id; not counted as a failure)."""
    original = uow.session.get(Delivery, delivery_id) if len(delivery_id) <= 36 else None
    if original is None or original.username != username:
        raise NotFound(f"Delivery '{delivery_id}' was not found")
    if original.status == PENDING:
        raise Invalid("This delivery is still being attempted")
    copy = _new_delivery(kind=original.kind, event_id=f"redeliver:{original.id}:{uuid.uuid4()}", target="redeliver",
                         username=original.username, user_id=original.user_id, webhook_id=original.webhook_id,
                         owner=original.owner, repo=original.repo, package=original.package,
                         version=original.version, url=original.url, method=original.method,
                         payload=original.payload, now=now, max_attempts=max_attempts)
    copy.message_id = original.message_id
    uow.session.add(copy)
    _wake(uow)
    return copy


# -- Mastodon accounts and announcements ----------------------------------------------------

def link_mastodon(uow: UnitOfWork, *, user_id: str, username: str, instance_url: str, access_token: str,
                  cipher: MailTokenCipher, allow: Sequence[str], now: datetime) -> MastodonAccount:
    target = netguard.check_url(instance_url, allow=allow)
    base = f"{target.scheme}://{target.url.split('://', 1)[1].split('/', 1)[0]}"
    if not access_token.strip():
        raise Invalid("access_token must not be empty")
    session = uow.session
    recipient = session.get(Recipient, user_id)
    if recipient is None:
        session.add(Recipient(user_id=user_id, username=username, show_email=False, release_alerts_email=True,
                              news_email=False, preferences_revision=0))
        session.flush()
    elif recipient.deleted_at is not None:
        raise NotFound("Your account was not found")
    account = session.get(MastodonAccount, user_id)
    sealed = cipher.encrypt(access_token.strip())
    if account is None:
        account = MastodonAccount(user_id=user_id, instance_url=base, token_ciphertext=sealed, linked_at=now)
        session.add(account)
    else:
        account.instance_url, account.token_ciphertext, account.linked_at = base, sealed, now
    return account


def unlink_mastodon(uow: UnitOfWork, *, user_id: str) -> None:
    account = uow.session.get(MastodonAccount, user_id)
    if account is None:
        raise NotFound("No Mastodon account is linked")
    uow.session.delete(account)


def may_announce(principal: Any, owner: str) -> bool:
    """The package's owner: the user themself, or an owner or admin of the organization (token claims)."""
    if principal.username == owner or getattr(principal, "admin", False):
        return True
    return (getattr(principal, "orgs", None) or {}).get(owner) in ("owner", "admin")


def set_announcements(uow: UnitOfWork, *, principal: Any, owner: str, repo: str, package: str, enabled: bool,
                      now: datetime) -> bool:
    if not may_announce(principal, owner):
        raise NotFound(f"Package '{package}' was not found")
    session = uow.session
    row = session.get(Announcement, (owner, repo, package))
    if not enabled:
        if row is not None:  # any of the package's owners may turn them off
            session.delete(row)
        return False
    if session.get(MastodonAccount, principal.user_id) is None:
        raise Invalid("Link a Mastodon account first (PUT /me/mastodon)")
    if row is None:
        session.add(Announcement(owner=owner, repo=repo, package=package, user_id=principal.user_id, updated_at=now))
    else:
        row.user_id, row.updated_at = principal.user_id, now
    return True


# -- signing ----------------------------------------------------------------------------------

def bintray_hmac(api_key: str, package: str) -> str:
    return base64.b64encode(hmac.new(api_key.encode(), package.encode(), hashlib.sha256).digest()).decode()


def standard_signature(secret: str, message_id: str, timestamp: int, body: str) -> str:
    raw = secret[len("whsec_"):] if secret.startswith("whsec_") else secret
    key = base64.b64decode(raw)
    digest = hmac.new(key, f"{message_id}.{timestamp}.{body}".encode(), hashlib.sha256).digest()
    return "v1," + base64.b64encode(digest).decode()


# -- the sender -------------------------------------------------------------------------------

@dataclass(frozen=True)
class SenderSettings:
    allow: tuple[str, ...] = ()
    connect_timeout: float = 5.0
    timeout: float = 10.0
    retry_delay: float = 10.0
    retry_max_delay: float = 3600.0
    batch_size: int = 8
    concurrency: int = 4
    claim_timeout: float = 120.0
    poll_interval: float = 1.0
    retention: timedelta = timedelta(days=30)


@dataclass(frozen=True)
class _Claimed:
    id: str
    claim_id: str
    kind: str
    message_id: str
    username: str
    url: str
    method: str
    payload: str
    package: str
    webhook_id: str | None
    user_id: str | None
    attempts: int


@dataclass(frozen=True)
class _Outcome:
    status: str | None  # SUCCEEDED, FAILED, or None = retry
    response_status: int | None = None
    response_body: str | None = None
    duration_ms: int | None = None
    error: str | None = None
    headers: dict[str, str] | None = None


_RETRYABLE_4XX = (408, 425, 429)


class DeliverySender(BackgroundLoop):
    """Makes the queued calls. Several workers share the queue (``FOR UPDATE SKIP LOCKED``)."""

    name = "delivery sender"

    def __init__(self, *, engine: Engine, uow_factory: Callable[[], UnitOfWork], cipher: MailTokenCipher,
                 settings: SenderSettings, base_url: str, clock: Callable[[], datetime] = utcnow,
                 request: Callable[..., netguard.Response] = netguard.request) -> None:
        super().__init__(engine=engine, interval=settings.poll_interval, channel=DELIVERY_CHANNEL,
                         full_batch=settings.batch_size)
        self._uow = uow_factory
        self._cipher = cipher
        self._settings = settings
        self._clock = clock
        self._request = request
        self._base = base_url
        self._last_housekeeping = 0.0

    def run_once(self) -> int:
        self._maybe_housekeep()
        batch = self._claim()
        if not batch:
            return 0
        if len(batch) == 1 or self._settings.concurrency <= 1:
            for item in batch:
                self._record(item, self._call(item))
        else:
            with concurrent.futures.ThreadPoolExecutor(min(self._settings.concurrency, len(batch))) as pool:
                for item, outcome in zip(batch, pool.map(self._call, batch), strict=True):
                    self._record(item, outcome)
        return len(batch)

    def _maybe_housekeep(self) -> None:
        """Finished deliveries are shown for ``retention``, then deleted (once an hour at most)."""
        now = time.monotonic()
        if now - self._last_housekeeping < 3600:
            return
        self._last_housekeeping = now
        with self._uow() as uow:
            uow.session.execute(sa.delete(Delivery).where(
                Delivery.status != PENDING, Delivery.created_at < self._clock() - self._settings.retention))
            uow.commit()

    def _claim(self) -> list[_Claimed]:
        now, claim_id = self._clock(), str(uuid.uuid4())
        query = (sa.select(Delivery).where(Delivery.status == PENDING, Delivery.next_attempt_at <= now)
                 .order_by(Delivery.next_attempt_at, Delivery.created_at).limit(self._settings.batch_size))
        if is_postgres(self._engine):
            query = query.with_for_update(skip_locked=True)
        with self._uow() as uow:
            rows = uow.session.scalars(query).all()
            claimed = []
            for row in rows:
                row.claim_id, row.attempts = claim_id, row.attempts + 1
                row.next_attempt_at = now + timedelta(seconds=self._settings.claim_timeout)
                claimed.append(_Claimed(row.id, claim_id, row.kind, row.message_id, row.username, row.url,
                                        row.method, row.payload, row.package, row.webhook_id, row.user_id,
                                        row.attempts))
            uow.commit()
        return claimed

    def _headers(self, item: _Claimed, body: str) -> dict[str, str]:
        headers = {"Content-Type": "application/json", "User-Agent": "Packyard-Hookshot"}
        if item.kind == MASTODON:
            with self._uow() as uow:
                account = uow.session.get(MastodonAccount, item.user_id) if item.user_id else None
                sealed = account.token_ciphertext if account else None
            if sealed is None:
                raise _Refused("the Mastodon account was unlinked")
            headers["Authorization"] = "Bearer " + self._cipher.decrypt(sealed)
            headers["Idempotency-Key"] = item.message_id
            return headers
        with self._uow() as uow:
            key = uow.session.get(ApiKey, item.username)
            sealed_key = key.key_ciphertext if key else None
            hook = uow.session.get(Webhook, item.webhook_id) if item.webhook_id else None
            sealed_secret = hook.secret_ciphertext if hook else None
        if sealed_key:  # a revoked key signs nothing any more
            headers[BINTRAY_HMAC_HEADER] = bintray_hmac(self._cipher.decrypt(sealed_key), item.package)
        timestamp = int(time.time())
        headers["webhook-id"] = item.message_id
        headers["webhook-timestamp"] = str(timestamp)
        if sealed_secret:
            headers["webhook-signature"] = standard_signature(self._cipher.decrypt(sealed_secret), item.message_id,
                                                              timestamp, body)
        return headers

    def _call(self, item: _Claimed) -> _Outcome:
        method = item.method.upper()
        body = "" if method == "GET" else item.payload
        started = time.monotonic()
        headers: dict[str, str] | None = None
        try:
            target = netguard.check_url(item.url, allow=self._settings.allow)
            headers = self._headers(item, body)
            answer = self._request(target, method=method, body=body.encode() if body else None, headers=headers,
                                   connect_timeout=self._settings.connect_timeout, timeout=self._settings.timeout,
                                   max_body=2048)
        except netguard.UnsafeURL as exc:
            return _Outcome(FAILED, error=f"refused: {exc.message}", duration_ms=_ms(started))
        except (_Refused, UndecryptableToken) as exc:
            return _Outcome(FAILED, error=str(exc), duration_ms=_ms(started), headers=_shown(headers))
        except Exception as exc:  # noqa: BLE001 - any network failure is this attempt's outcome
            return _Outcome(None, error=f"{type(exc).__name__}: {exc}"[:500], duration_ms=_ms(started),
                            headers=_shown(headers))
        shown = answer.text()
        if 200 <= answer.status < 300:
            status = SUCCEEDED
        elif answer.status >= 500 or answer.status in _RETRYABLE_4XX:
            status = None
        else:
            status = FAILED
        return _Outcome(status, response_status=answer.status, response_body=shown, duration_ms=answer.elapsed_ms,
                        error=None if status == SUCCEEDED else f"HTTP {answer.status}", headers=_shown(headers))

    def _retry_delay(self, attempts: int) -> float:
        ceiling = min(self._settings.retry_delay * (2 ** max(attempts - 1, 0)), self._settings.retry_max_delay)
        return ceiling / 2 + random.random() * ceiling / 2  # jittered: half to all of the ceiling

    def _record(self, item: _Claimed, outcome: _Outcome) -> None:
        now = self._clock()
        with self._uow() as uow:
            row = uow.session.scalars(sa.select(Delivery).where(
                Delivery.id == item.id, Delivery.claim_id == item.claim_id).with_for_update()).first()
            if row is None:
                return  # our claim lapsed and another sender took it
            row.claim_id = None
            row.response_status, row.response_body = outcome.response_status, outcome.response_body
            row.duration_ms, row.error, row.request_headers = outcome.duration_ms, outcome.error, outcome.headers
            final = outcome.status
            if final is None and row.attempts >= row.max_attempts:
                final = FAILED
            if final is None:
                row.next_attempt_at = now + timedelta(seconds=self._retry_delay(row.attempts))
            else:
                row.status, row.finished_at = final, now
                if row.kind == WEBHOOK and row.target.startswith(RELEASE_TARGET):
                    self._account(uow, row, final == SUCCEEDED, now)
            uow.commit()
        log.info("delivery attempt", extra={"delivery_id": item.id, "kind": item.kind, "attempt": item.attempts,
                                            "result": outcome.status or "retry", "error": outcome.error})

    def _account(self, uow: UnitOfWork, row: Delivery, succeeded: bool, now: datetime) -> None:
        """Keep the webhook's count of consecutive failed releases, and tell catalog."""
        hook = uow.session.get(Webhook, row.webhook_id, with_for_update=True) if row.webhook_id else None
        if hook is None or hook.deleted:
            return
        data = {"owner": hook.owner, "repo": hook.repo, "package": hook.package, "url": hook.url,
                "username": hook.username, "webhook_id": hook.id, "delivery_id": row.message_id,
                "version": row.version, "response_status": row.response_status, "attempts": row.attempts, "at": now}
        subject = f"{hook.owner}/{hook.repo}/{hook.package}"
        if succeeded:
            hook.consecutive_failures = 0
            uow.publish(events.WEBHOOK_DELIVERY_SUCCEEDED, {**data, "failure_count": 0}, subject=subject)
            return
        hook.consecutive_failures += 1
        data["failure_count"] = hook.consecutive_failures
        uow.publish(events.WEBHOOK_DELIVERY_FAILED, data, subject=subject)
        if hook.active and hook.consecutive_failures >= DEACTIVATE_AFTER:
            hook.active = False
            uow.publish(events.WEBHOOK_DELIVERY_DEACTIVATED, data, subject=subject)
            from notifier.fanout import package_link
            tell(uow, Notice(
                kind=kinds.WEBHOOK_DEACTIVATED, event_id=f"webhook-deactivated:{hook.id}:{row.id}",
                title=f"Your webhook for {hook.owner}/{hook.repo}/{hook.package} was deactivated",
                body=f"Calls to {hook.url} failed for {hook.consecutive_failures} releases in a row, so it is no "
                     f"longer called. Register it again to turn it back on.",
                link=package_link(self._base, hook.owner, hook.repo, hook.package),
                context={"url": hook.url}), [hook.username], now=now)


class _Refused(Exception):
    pass


def _ms(started: float) -> int:
    return int((time.monotonic() - started) * 1000)


_SECRET_HEADERS = {"authorization"}


def _shown(headers: dict[str, str] | None) -> dict[str, str] | None:
    """Request headers as shown in ``/me/deliveries`` (credentials masked)."""
    if headers is None:
        return None
    return {k: ("***" if k.lower() in _SECRET_HEADERS else v) for k, v in headers.items()}
