"""Database plumbing: engines, the outbox and inbox tables, and the unit of work.

PostgreSQL is the production database; SQLite files are the embedded default for a local
run. Both are supported by everything here, with these differences:

* PostgreSQL: a connection pool with pre-ping; READ COMMITTED; the unit of work sends a
  ``NOTIFY packyard_outbox`` in the same transaction as new outbox rows, so relays that
  ``LISTEN`` publish within milliseconds of the commit.
* SQLite: WAL journal, foreign keys on, a busy timeout, and every transaction starts with
  ``BEGIN IMMEDIATE`` so that concurrent writers queue instead of failing on a lock
  upgrade. One relay per SQLite file; a committing unit of work wakes it through a local
  doorbell socket (:mod:`packyard.listen`) instead of NOTIFY.

The :class:`UnitOfWork` is the only way use cases touch the database. It rolls back unless
:meth:`UnitOfWork.commit` is called, and events published through it are written to the
outbox table *in the same transaction* as the state change that caused them.
"""

from __future__ import annotations

import logging
import re
import threading
import time
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any, overload

import sqlalchemy as sa
from sqlalchemy import event as sa_event
from sqlalchemy.engine import Engine
from sqlalchemy.orm import InstrumentedAttribute, Session, sessionmaker

from packyard import context
from packyard.events import CloudEvent, EventType

__all__ = [
    "make_engine",
    "make_session_factory",
    "define_outbox_table",
    "define_inbox_table",
    "UnitOfWork",
    "OUTBOX_CHANNEL",
    "utcnow",
    "as_utc",
    "release_name",
    "is_postgres",
    "is_sqlite",
    "ChannelListener",
    "NAMING_CONVENTION",
]

log = logging.getLogger(__name__)

OUTBOX_CHANNEL = "packyard_outbox"

# Constraint and index names every service's metadata uses, so that migrations (and SQLite's
# batch table rebuilds) can always name what they alter.
NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

# BIGINT on PostgreSQL; SQLite only auto-increments a column declared exactly INTEGER.
BigId = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def utcnow() -> datetime:
    return datetime.now(UTC)


@overload
def as_utc(moment: datetime) -> datetime: ...


@overload
def as_utc(moment: None) -> None: ...


def as_utc(moment: datetime | None) -> datetime | None:
    """``moment`` with its time zone: SQLite hands timestamps back without one, and every
    timestamp Packyard stores is UTC. Aware values (PostgreSQL's) and None pass unchanged."""
    if moment is None or moment.tzinfo is not None:
        return moment
    return moment.replace(tzinfo=UTC)


def release_name(session: Session, name_column: InstrumentedAttribute[Any], name: str,
                 id_column: InstrumentedAttribute[Any], owner_id: Any) -> None:
    """Take the unique ``name`` away from any replica row but ``owner_id``'s.

    For replicas of another service's named things (users, organizations): the publisher never
    lets two live owners share a name, so another row holding it belongs to an owner whose
    deletion has not reached this service yet (the name was reused). That row's name becomes
    NULL, flushed at once, so the caller may give the name to ``owner_id``'s row in the same
    transaction without breaking a unique constraint.
    """
    model = name_column.class_
    holder = session.scalars(sa.select(model).where(name_column == name, id_column != owner_id)).first()
    if holder is not None:
        setattr(holder, name_column.key, None)
        session.flush()


def is_postgres(engine_or_conn: Engine | sa.Connection) -> bool:
    return engine_or_conn.dialect.name == "postgresql"


def is_sqlite(engine_or_conn: Engine | sa.Connection) -> bool:
    return engine_or_conn.dialect.name == "sqlite"


def make_engine(url: str, *, pool_size: int = 5, max_overflow: int = 10, echo: bool = False) -> Engine:
    """Create an engine for ``url`` with the settings Packyard relies on (see module doc)."""
    sa_url = sa.make_url(url)
    if sa_url.get_backend_name() == "sqlite":
        engine = sa.create_engine(
            sa_url,
            echo=echo,
            connect_args={"timeout": 30, "check_same_thread": False},
        )

        @sa_event.listens_for(engine, "connect")
        def _sqlite_connect(dbapi_conn: Any, _record: Any) -> None:
            dbapi_conn.isolation_level = None  # let SQLAlchemy's "begin" hook decide
            cur = dbapi_conn.cursor()
            cur.execute("PRAGMA journal_mode=WAL")
            cur.execute("PRAGMA foreign_keys=ON")
            cur.execute("PRAGMA busy_timeout=30000")
            cur.execute("PRAGMA synchronous=NORMAL")
            cur.close()

        @sa_event.listens_for(engine, "begin")
        def _sqlite_begin(conn: sa.Connection) -> None:
            conn.exec_driver_sql("BEGIN IMMEDIATE")

        return engine
    if sa_url.get_backend_name() == "postgresql" and sa_url.drivername == "postgresql":
        sa_url = sa_url.set(drivername="postgresql+psycopg")
    return sa.create_engine(
        sa_url,
        echo=echo,
        pool_pre_ping=True,
        pool_size=pool_size,
        max_overflow=max_overflow,
        pool_recycle=1800,
    )


def make_session_factory(engine: Engine) -> sessionmaker[Session]:
    return sessionmaker(engine, expire_on_commit=False, autoflush=True)


def define_outbox_table(metadata: sa.MetaData) -> sa.Table:
    """Add the transactional outbox table to a service's metadata (and its migrations).

    One row per event. ``id`` orders publication; ``event_id`` is the CloudEvent id, reused
    on every re-send; ``sent_at`` is set only after the broker confirmed the message.
    """
    table = sa.Table(
        "outbox",
        metadata,
        sa.Column("id", BigId, primary_key=True, autoincrement=True),
        sa.Column("event_id", sa.String(64), nullable=False, unique=True),
        sa.Column("type", sa.String(200), nullable=False),
        sa.Column("subject", sa.String(400), nullable=True),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("sent_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("attempts", sa.Integer(), nullable=False, server_default="0"),
        sa.Column("last_error", sa.Text(), nullable=True),
    )
    sa.Index(
        "ix_outbox_unsent",
        table.c.id,
        postgresql_where=table.c.sent_at.is_(None),
        sqlite_where=table.c.sent_at.is_(None),
    )
    sa.Index("ix_outbox_sent_at", table.c.sent_at)
    return table


def define_inbox_table(metadata: sa.MetaData) -> sa.Table:
    """Add the idempotent-consumer inbox table to a service's metadata.

    A row ``(consumer, event_id)`` is inserted in the same transaction as the effect of
    handling that event, so a redelivered event finds its row and has no second effect.
    """
    table = sa.Table(
        "inbox",
        metadata,
        sa.Column("consumer", sa.String(200), primary_key=True),
        sa.Column("event_id", sa.String(200), primary_key=True),
        sa.Column("event_type", sa.String(200), nullable=False),
        sa.Column("received_at", sa.DateTime(timezone=True), nullable=False),
    )
    sa.Index("ix_inbox_received_at", table.c.received_at)
    return table


class UnitOfWork:
    """One database transaction, plus the events it publishes.

    Usage::

        with uow_factory() as uow:
            uow.session.add(user)
            uow.publish(USER_REGISTERED, {"user_id": ..., "username": ...}, subject="alice")
            uow.commit()

    Guarantees:

    * leaving the block without :meth:`commit` rolls everything back — state and events;
    * :meth:`publish` validates ``data`` with the event type's schema and writes the
      CloudEvent to the outbox inside this transaction: the event exists if and only if
      the state change committed (no dual write). The relay publishes it afterwards;
    * events inherit the current trace (``packyard.context.traceparent``).

    Services subclass it to attach their repositories in :meth:`_open`.
    """

    def __init__(
        self,
        session_factory: Callable[[], Session],
        *,
        source: str,
        outbox: sa.Table | None = None,
        clock: Callable[[], datetime] = utcnow,
    ) -> None:
        self._session_factory = session_factory
        self.source = source if source.startswith("/") else f"/{source}"
        self._outbox = outbox
        self.clock = clock
        self.session: Session
        self.published: list[CloudEvent] = []
        self._committed = False

    # -- context management -------------------------------------------------------------
    def __enter__(self) -> UnitOfWork:
        self.session = self._session_factory()
        self.published = []
        self._committed = False
        self._open()
        return self

    def __exit__(self, *exc_info: Any) -> None:
        try:
            if not self._committed:
                self.session.rollback()
        finally:
            self.session.close()

    def _open(self) -> None:
        """Hook for subclasses: build repositories on ``self.session``."""

    # -- transaction ----------------------------------------------------------------------
    def commit(self) -> None:
        bind = self.session.get_bind()
        wrote_events = bool(self.published) and self._outbox is not None
        if wrote_events and is_postgres(bind):
            # Delivered by PostgreSQL at commit time, only if the commit succeeds.
            self.session.execute(sa.text("SELECT pg_notify(:channel, '')"), {"channel": OUTBOX_CHANNEL})
        self.session.commit()
        self._committed = True
        if wrote_events:
            # The relay's local doorbell (packyard.listen): the only wake-up on SQLite, and on
            # PostgreSQL a shorter path than NOTIFY for a relay on this machine.
            from packyard import listen

            listen.ring(bind.engine.url, self._outbox.name)  # type: ignore[union-attr]

    def rollback(self) -> None:
        self.session.rollback()
        self.published = []

    # -- events ---------------------------------------------------------------------------
    def publish(self, event_type: EventType, data: dict[str, Any], *, subject: str | None = None) -> CloudEvent:
        """Validate ``data`` and write the event to the outbox in this transaction."""
        if self._outbox is None:
            raise RuntimeError("this unit of work has no outbox table")
        payload = event_type.validate(data)
        cloud_event = CloudEvent(
            type=event_type.type,
            source=self.source,
            subject=subject,
            data=payload,
            dataversion=event_type.version,
            traceparent=context.child_traceparent(context.traceparent.get()),
        )
        self.session.execute(
            self._outbox.insert().values(
                event_id=cloud_event.id,
                type=cloud_event.type,
                subject=subject,
                body=cloud_event.to_json(),
                created_at=self.clock(),
            )
        )
        self.published.append(cloud_event)
        return cloud_event


class ChannelListener:
    """A dedicated autocommit PostgreSQL connection that ``LISTEN``\\ s on one channel.

    Background loops (the outbox relay, the notifier's mail sender) wait on it instead of
    polling: :meth:`wait` returns as soon as a committing transaction sent ``NOTIFY`` on the
    channel, after ``timeout``, or within half a second of ``stopping`` being set.
    Notifications that arrived together are drained, so a burst of commits causes one
    wake-up rather than one per commit. PostgreSQL only.
    """

    def __init__(self, engine: Engine, channel: str) -> None:
        if not re.fullmatch(r"[a-z_][a-z0-9_]*", channel):
            raise ValueError(f"not a plain channel name: {channel!r}")
        self._raw = engine.raw_connection()
        dbapi = self._raw.driver_connection
        assert dbapi is not None  # the connection was just opened
        self._dbapi: Any = dbapi
        self._dbapi.autocommit = True
        self._dbapi.execute(f"LISTEN {channel}")

    def wait(self, timeout: float, stopping: threading.Event) -> None:
        deadline = time.monotonic() + timeout
        while not stopping.is_set():
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                return
            woken = False
            for _ in self._dbapi.notifies(timeout=min(remaining, 0.5), stop_after=1):
                woken = True
            if woken:
                for _ in self._dbapi.notifies(timeout=0):
                    pass
                return

    def fileno(self) -> int:
        """The connection's socket, readable when a notification may have arrived."""
        return int(self._dbapi.pgconn.socket)

    def poll(self) -> bool:
        """Drain the notifications already received, without waiting; True if there were any."""
        woken = False
        for _ in self._dbapi.notifies(timeout=0):
            woken = True
        return woken

    def close(self) -> None:
        try:
            self._raw.invalidate()
        except Exception:  # noqa: BLE001 - closing a connection that may already be broken
            pass
