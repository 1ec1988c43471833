"""The mail sender: works through queued email deliveries, outside any event handler.

Guarantees:

* **at least once, normally exactly once** — a row is claimed in a short transaction
  (``FOR UPDATE SKIP LOCKED`` on PostgreSQL, so several workers never take the same row; on
  SQLite the writer lock serialises claims), sent, and its result recorded at once in another
  transaction. A sender that dies between the SMTP server's acceptance and that record leaves
  its claim to lapse after ``claim_timeout``; the email is then sent again, with the same
  ``Message-ID``;
* **nothing is lost while the SMTP server is away** — failures that may pass are retried with
  exponential back-off (``retry_delay`` doubling up to ``retry_max_delay``) until
  ``max_attempts``, then the row is marked failed; permanent refusals fail at once;
* **prompt** — on PostgreSQL the sender ``LISTEN``\\ s on the channel every queued email
  notifies at commit, so it sends within milliseconds; ``poll_interval`` is the fallback and
  SQLite's only mechanism;
* a permanent refusal of an address (5xx to its recipient) suspends non-essential mail to it
  until the user changes their address;
* a password-reset token is decrypted only while its email is rendered; its ciphertext is
  cleared from the row once the email is sent or abandoned;
* it outlives database and SMTP outages, backing off, and stops promptly on :meth:`stop`.
"""

from __future__ import annotations

import logging
import random
import threading
import time
import uuid
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, cast

import sqlalchemy as sa
from sqlalchemy.engine import CursorResult, Engine

from notifier import metrics
from notifier.mail.templates import CannotRender, Outgoing, Renderer
from notifier.mail.transport import Connection, SendFailure, Transport
from notifier.models import FAILED, MAIL_CHANNEL, PENDING, SENT, EmailDelivery, Recipient
from packyard.db import ChannelListener, UnitOfWork, as_utc, is_postgres, utcnow

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class SenderConfig:
    batch_size: int = 20
    poll_interval: float = 0.5
    max_attempts: int = 12
    retry_delay: float = 30.0
    retry_max_delay: float = 3600.0
    claim_timeout: float = 300.0
    retention: timedelta = timedelta(days=30)
    housekeeping_interval: float = 3600.0
    backoff_initial: float = 0.5
    backoff_max: float = 30.0


@dataclass(frozen=True)
class _Result:
    item: Outgoing
    outcome: str  # SENT, FAILED or "retry"
    error: str | None = None
    permanent: bool = False  # the server refused the address for good


_RETRY = "retry"


class MailSender:
    """Sends queued emails. Call :meth:`run` on a thread (the worker does); :meth:`stop` ends it."""

    def __init__(self, *, engine: Engine, uow_factory: Callable[[], UnitOfWork], renderer: Renderer,
                 transport: Transport, config: SenderConfig | None = None,
                 clock: Callable[[], datetime] = utcnow) -> None:
        self._engine = engine
        self._uow = uow_factory
        self._renderer = renderer
        self._transport = transport
        self._config = config or SenderConfig()
        self._clock = clock
        self._stopping = threading.Event()
        self._listener: ChannelListener | None = None
        self._last_housekeeping = 0.0
        self._interrupted: set[str] = set()  # claims of batches an outage broke off, to hand back
        self.healthy = threading.Event()

    # -- control ----------------------------------------------------------------------------
    def stop(self) -> None:
        self._stopping.set()

    def run(self) -> None:
        backoff = self._config.backoff_initial
        log.info("mail sender started")
        try:
            while not self._stopping.is_set():
                try:
                    self._hand_back_interrupted()
                    handled = self.run_once()
                    self._maybe_housekeep()
                    self.healthy.set()
                    backoff = self._config.backoff_initial
                    if handled < self._config.batch_size:
                        self._wait_for_work()
                except Exception as exc:  # noqa: BLE001 - the loop must outlive any outage
                    self.healthy.clear()
                    self._drop_listener()
                    delay = min(backoff, self._config.backoff_max) * (0.5 + random.random() / 2)
                    log.warning("mail sender paused: %s; retrying in %.1fs", exc.__class__.__name__, delay)
                    self._stopping.wait(delay)
                    backoff = min(backoff * 2, self._config.backoff_max)
        finally:
            self._drop_listener()
            log.info("mail sender stopped")

    # -- one batch --------------------------------------------------------------------------
    def run_once(self) -> int:
        """Claim due emails, send them, record each result. Returns how many were handled."""
        batch = self._claim()
        if not batch:
            return 0
        connection: Connection | None = None
        unreachable: SendFailure | None = None
        self._interrupted.add(batch[0].claim_id)
        try:
            for item in batch:
                if self._stopping.is_set():
                    self._release(item)  # now, rather than when the claim lapses
                    continue
                try:
                    message = self._renderer.render(item)
                except CannotRender as exc:
                    self._record(_Result(item, FAILED, str(exc)))
                    continue
                if unreachable is not None:  # do not wait for the same timeout once per email
                    self._record(_Result(item, _RETRY, str(unreachable)))
                    continue
                try:
                    if connection is None:
                        connection = self._transport.connect()
                    connection.send(message)
                except SendFailure as exc:
                    if exc.connection_lost and connection is None:
                        unreachable = exc
                    elif exc.connection_lost and connection is not None:
                        connection.close()
                        connection = None
                    self._record(_Result(item, FAILED if exc.permanent else _RETRY, str(exc), permanent=exc.permanent))
                    continue
                self._record(_Result(item, SENT))
        finally:
            if connection is not None:
                connection.close()
        self._interrupted.discard(batch[0].claim_id)
        return len(batch)

    def _hand_back_interrupted(self) -> None:
        """Make the unrecorded emails of a batch an outage broke off due again at once.

        Their results could not be written (the database went away mid-batch), so they are sent
        again, with the same Message-ID: at least once, as everywhere, but within moments of the
        database's return rather than when their claim lapses (``claim_timeout``, which remains
        for a sender that died with its claim).
        """
        for claim_id in list(self._interrupted):
            with self._uow() as uow:
                uow.session.execute(sa.update(EmailDelivery).where(
                    EmailDelivery.claim_id == claim_id, EmailDelivery.status == PENDING).values(
                    claim_id=None, next_attempt_at=self._clock()))
                uow.commit()
            self._interrupted.discard(claim_id)

    def _claim(self) -> list[Outgoing]:
        now = self._clock()
        claim_id = str(uuid.uuid4())
        query = (sa.select(EmailDelivery)
                 .where(EmailDelivery.status == PENDING, EmailDelivery.next_attempt_at <= now)
                 .order_by(EmailDelivery.next_attempt_at, EmailDelivery.created_at)
                 .limit(self._config.batch_size))
        if is_postgres(self._engine):
            query = query.with_for_update(skip_locked=True)
        with self._uow() as uow:
            rows = uow.session.scalars(query).all()
            bounced: Iterable[str | None] = uow.session.scalars(sa.select(Recipient.email).where(
                Recipient.email_bounced_at.is_not(None),
                sa.func.lower(Recipient.email).in_({r.recipient.lower() for r in rows}))) if rows else []
            suspended = {email.lower() for email in bounced if email is not None}  # NULL is never IN (...)
            batch = []
            for row in rows:
                if row.recipient.lower() in suspended and isinstance((row.context or {}).get("kind"), str):
                    row.status, row.last_error, row.claim_id = FAILED, "the address refused mail for good", None
                    continue
                row.claim_id = claim_id
                row.attempts += 1
                row.next_attempt_at = now + timedelta(seconds=self._config.claim_timeout)
                batch.append(Outgoing(id=row.id, claim_id=claim_id, recipient=row.recipient, template=row.template,
                                      context=dict(row.context or {}), token_ciphertext=row.token_ciphertext,
                                      expires_at=as_utc(row.expires_at), user_id=row.user_id))
            uow.commit()
        return batch

    def _release(self, item: Outgoing) -> None:
        """Give back a claimed email unsent, as if never tried."""
        with self._uow() as uow:
            uow.session.execute(sa.update(EmailDelivery).where(
                EmailDelivery.id == item.id, EmailDelivery.claim_id == item.claim_id).values(
                claim_id=None, attempts=EmailDelivery.attempts - 1, next_attempt_at=self._clock()))
            uow.commit()

    def _record(self, result: _Result) -> None:
        item, now = result.item, self._clock()
        with self._uow() as uow:
            row = uow.session.scalars(sa.select(EmailDelivery).where(
                EmailDelivery.id == item.id, EmailDelivery.claim_id == item.claim_id)).first()
            if row is None:
                return  # forgotten meanwhile (account deleted), or our claim lapsed and was retaken
            row.claim_id = None
            outcome = result.outcome
            if outcome == _RETRY and row.attempts >= self._config.max_attempts:
                outcome = FAILED
            if outcome == SENT:
                row.status, row.sent_at, row.last_error = SENT, now, None
            elif outcome == FAILED:
                row.status, row.last_error = FAILED, result.error
                if result.permanent:
                    # No more mail to this address until its owner changes it (identity's email_changed).
                    uow.session.execute(sa.update(Recipient).where(
                        sa.func.lower(Recipient.email) == row.recipient.lower(),
                        Recipient.email_bounced_at.is_(None)).values(email_bounced_at=now))
            else:
                row.next_attempt_at = now + timedelta(seconds=self._retry_delay(row.attempts))
                row.last_error = result.error
            if row.status != PENDING:
                row.token_ciphertext = None
            attempts = row.attempts
            uow.commit()
        extra = {"delivery_id": item.id, "template": item.template, "attempts": attempts}
        if outcome == SENT:
            metrics.EMAIL_DELIVERIES.labels("sent").inc()
            log.info("email sent", extra=extra)
        elif outcome == FAILED:
            metrics.EMAIL_DELIVERIES.labels("failed").inc()
            log.error("email abandoned: %s", result.error, extra=extra)
        else:
            metrics.EMAIL_DELIVERIES.labels("retried").inc()
            log.warning("email not sent, will retry: %s", result.error, extra=extra)

    def _retry_delay(self, attempts: int) -> float:
        return min(self._config.retry_delay * (2 ** max(attempts - 1, 0)), self._config.retry_max_delay)

    # -- waiting and housekeeping -----------------------------------------------------------
    def _wait_for_work(self) -> None:
        if is_postgres(self._engine):
            if self._listener is None:
                self._listener = ChannelListener(self._engine, MAIL_CHANNEL)
            self._listener.wait(self._config.poll_interval, self._stopping)
        else:
            self._stopping.wait(self._config.poll_interval)

    def _drop_listener(self) -> None:
        listener, self._listener = self._listener, None
        if listener is not None:
            listener.close()

    def _maybe_housekeep(self) -> None:
        now = time.monotonic()
        if now - self._last_housekeeping < self._config.housekeeping_interval:
            return
        self._last_housekeeping = now
        with self._uow() as uow:
            # DML through a Session returns a CursorResult (typed as a plain Result)
            deleted = cast(CursorResult[Any], uow.session.execute(sa.delete(EmailDelivery).where(
                EmailDelivery.status != PENDING,
                EmailDelivery.created_at < self._clock() - self._config.retention))).rowcount
            uow.commit()
        if deleted:
            log.info("deleted %d finished email deliveries older than %s", deleted, self._config.retention)


