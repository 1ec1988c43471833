"""Wake the outbox relay when its own service commits, without PostgreSQL's LISTEN/NOTIFY.

On PostgreSQL the unit of work sends ``NOTIFY`` in its transaction and the relay ``LISTEN``\\ s
(:class:`packyard.db.ChannelListener`). Any other database (SQLite, the embedded default of
``make run``) has no such channel, so the relay would only find new rows when it polls. This
module is the local replacement: a **doorbell** per outbox, a Unix datagram socket that the
relay binds and that every committing unit of work of the same outbox rings after its commit.

* the address is derived from the database (the SQLite file's real path, or the server and
  database name) and the outbox table's name, so an API process, its worker and its relay —
  separate processes — agree on it without configuration; on Linux it lives in the abstract
  socket namespace (nothing on disk, gone with the relay), elsewhere it is a socket file in the
  temporary directory;
* ringing is one non-blocking ``sendto`` after the commit succeeded; when nobody listens (no
  relay, a relay on another host) or the listener's queue is full (it is busy and will look
  again anyway) the ring is dropped, silently: the relay's polling stays the safety net;
* the relay binds its doorbell before it first reads the outbox, so a commit that lands while
  it publishes a batch rings a bell that is already there and wakes it right after;
* only one process can hold a doorbell: a second relay on the same database (PostgreSQL, where
  several may share the work) simply goes without — it has NOTIFY.
"""

from __future__ import annotations

import errno
import hashlib
import logging
import os
import select
import socket
import sys
import tempfile
import threading
import time
from typing import Any

import sqlalchemy as sa

__all__ = ["doorbell_address", "ring", "Doorbell"]

log = logging.getLogger(__name__)

_ABSTRACT = sys.platform.startswith("linux")
_send_socket: socket.socket | None = None
_send_lock = threading.Lock()
_addresses: dict[tuple[str, str], str] = {}


def _database_key(url: sa.URL) -> str:
    backend = url.get_backend_name()
    if backend == "sqlite":
        database = url.database or ""
        if database and database != ":memory:" and not database.startswith("file:"):
            database = os.path.realpath(database)
        return f"sqlite:{database}"
    return f"{backend}://{url.host or ''}:{url.port or ''}/{url.database or ''}"


def doorbell_address(url: sa.URL | str, table: str = "outbox") -> str:
    """The socket address of the doorbell of ``table`` in the database at ``url``."""
    sa_url = sa.make_url(url) if isinstance(url, str) else url
    cache_key = (sa_url.render_as_string(hide_password=True), table)
    address = _addresses.get(cache_key)
    if address is None:
        digest = hashlib.sha256(f"{_database_key(sa_url)}|{table}".encode()).hexdigest()[:24]
        if _ABSTRACT:
            address = f"\0packyard-outbox-{digest}"
        else:
            address = os.path.join(tempfile.gettempdir(), f"packyard-outbox-{digest}.sock")
        _addresses[cache_key] = address
    return address


def ring(url: sa.URL | str, table: str = "outbox") -> bool:
    """Wake the relay of ``table`` at ``url`` if one listens on this machine. Never raises."""
    global _send_socket
    try:
        address = doorbell_address(url, table)
        with _send_lock:
            if _send_socket is None or _send_socket.fileno() < 0:
                _send_socket = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
                _send_socket.setblocking(False)
            sock = _send_socket
        sock.sendto(b"!", address)
        return True
    except OSError:
        return False  # nobody listens, or the listener is busy: it polls anyway
    except Exception:  # noqa: BLE001 - a wake-up must never fail a commit
        log.debug("doorbell not rung", exc_info=True)
        return False


class Doorbell:
    """The listening side, held by a relay. :meth:`bind` returns ``None`` when another holds it."""

    def __init__(self, sock: socket.socket, address: str) -> None:
        self._sock = sock
        self.address = address

    @classmethod
    def bind(cls, url: sa.URL | str, table: str = "outbox") -> Doorbell | None:
        address = doorbell_address(url, table)
        sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        try:
            sock.bind(address)
        except OSError as exc:
            if exc.errno != errno.EADDRINUSE or address.startswith("\0") or not _stale(address):
                sock.close()
                log.info("outbox doorbell %r is held by another relay; relying on polling/NOTIFY", address)
                return None
            os.unlink(address)  # left behind by a relay that died
            sock.bind(address)
        sock.setblocking(False)
        return cls(sock, address)

    def fileno(self) -> int:
        return self._sock.fileno()

    def drain(self) -> int:
        """Read every pending ring; returns how many there were."""
        count = 0
        while True:
            try:
                self._sock.recv(64)
            except (BlockingIOError, InterruptedError):
                return count
            except OSError:
                return count
            count += 1

    def wait(self, timeout: float, stopping: threading.Event | None = None) -> bool:
        """Block until rung (True), ``timeout`` passed or ``stopping`` is set (False)."""
        if self.drain():
            return True
        deadline = time.monotonic() + timeout
        while stopping is None or not stopping.is_set():
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                return False
            readable, _, _ = select.select([self._sock], [], [], min(remaining, 0.5))
            if readable and self.drain():
                return True
        return False

    def close(self) -> None:
        try:
            self._sock.close()
        finally:
            if not self.address.startswith("\0"):
                try:
                    os.unlink(self.address)
                except OSError:
                    pass

    def __enter__(self) -> Doorbell:
        return self

    def __exit__(self, *_exc: Any) -> None:
        self.close()


def _stale(path: str) -> bool:
    probe = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    try:
        probe.connect(path)
        return False
    except OSError:
        return True
    finally:
        probe.close()
