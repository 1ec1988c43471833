"""Counting downloads without a database write per download, in ``sendfile`` mode (no gateway).

Behind the gateway (``accel`` mode) the gateway logs every download and the worker counts them
from that log instead (:mod:`catalog.downloads.log`); both write the same counters with
:func:`add_counts`.

Each API process counts downloads in memory, per (file, day, country), and a background thread
writes what accumulated every ``DOWNLOAD_FLUSH_INTERVAL`` seconds as one batch of upserts that add
to the stored counters (so any number of processes can count the same file).

Loss window: counts not yet written live only in this process's memory. A graceful stop (SIGTERM,
a gunicorn worker recycled) writes them before exiting; a process killed abruptly (SIGKILL, out of
memory, a crashed host) loses at most its last ``DOWNLOAD_FLUSH_INTERVAL`` seconds of downloads.
While the database is unreachable counts are kept and written by a later flush, so an outage
costs nothing unless the process also dies during it.
"""

from __future__ import annotations

import atexit
import logging
import os
import re
import threading
from collections.abc import Callable
from datetime import date, datetime
from typing import Any

import sqlalchemy as sa
from prometheus_client import Counter
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Engine

from catalog.models import DownloadCount, Version
from packyard.db import is_postgres, utcnow

log = logging.getLogger(__name__)

UNKNOWN_COUNTRY = "unknown"
_COUNTRY = re.compile(r"[A-Za-z]{2}")

DOWNLOADS = Counter("packyard_catalog_downloads_total", "Downloads authorized by catalog", ["mode"])
FLUSH_FAILURES = Counter("packyard_catalog_download_flush_failures_total",
                         "Writes of download counters that failed and will be retried")


def country_of(header_value: str | None) -> str:
    """An ISO 3166 alpha-2 code from the CDN's or gateway's header, else ``unknown``."""
    if header_value and _COUNTRY.fullmatch(header_value.strip()):
        return header_value.strip().upper()
    return UNKNOWN_COUNTRY


class DownloadCounter:
    """In-memory download counts of one process, flushed periodically (see the module doc)."""

    def __init__(self, engine: Engine, *, interval: float, clock: Callable[[], datetime] = utcnow) -> None:
        self._engine = engine
        self._interval = interval
        self._clock = clock
        self._pending: dict[tuple[int, date, str], list[int]] = {}  # key -> [version_id, package_id, count]
        self._lock = threading.Lock()
        self._stopping = threading.Event()
        self._thread: threading.Thread | None = None
        self._pid: int | None = None
        self._registered = False

    # -- counting ---------------------------------------------------------------------------
    def count(self, file_id: int, version_id: int, package_id: int, country: str) -> None:
        key = (file_id, self._clock().date(), country)
        with self._lock:
            entry = self._pending.get(key)
            if entry is None:
                self._pending[key] = [version_id, package_id, 1]
            else:
                entry[0], entry[1], entry[2] = version_id, package_id, entry[2] + 1
        if self._pid != os.getpid():
            self.start()  # the process's first count (or a fork after it, gunicorn --preload) starts its flusher

    def pending(self) -> int:
        with self._lock:
            return sum(entry[2] for entry in self._pending.values())

    # -- flushing ---------------------------------------------------------------------------
    def start(self) -> None:
        with self._lock:
            if self._pid == os.getpid() and self._thread is not None and self._thread.is_alive():
                return
            self._pid = os.getpid()
            self._stopping = threading.Event()
            self._thread = threading.Thread(target=self._run, args=(self._stopping,), name="download-counter",
                                            daemon=True)
            self._thread.start()
            if not self._registered:
                atexit.register(self.stop)
                self._registered = True

    def stop(self, timeout: float = 10.0) -> None:
        """Stop the flusher and write what is pending (called at exit)."""
        self._stopping.set()
        thread = self._thread
        if thread is not None and thread is not threading.current_thread():
            thread.join(timeout)
        self.flush()

    def _run(self, stopping: threading.Event) -> None:
        while not stopping.wait(self._interval):
            self.flush()

    def flush(self) -> int:
        """Write the pending counts; the number of downloads written (0 when kept for later)."""
        with self._lock:
            batch, self._pending = self._pending, {}
        if not batch:
            return 0
        try:
            self._write(batch)
        except Exception as exc:  # noqa: BLE001 - keep the counts and try again at the next flush
            FLUSH_FAILURES.inc()
            log.warning("could not write download counters (%s); keeping them for the next flush",
                        exc.__class__.__name__)
            with self._lock:
                for key, (version_id, package_id, n) in batch.items():
                    entry = self._pending.setdefault(key, [version_id, package_id, 0])
                    entry[2] += n
            return 0
        return sum(entry[2] for entry in batch.values())

    def _write(self, batch: dict[tuple[int, date, str], list[int]]) -> None:
        with self._engine.begin() as conn:
            add_counts(conn, batch)


def add_counts(conn: sa.Connection, batch: dict[tuple[int, date, str], list[int]]) -> int:
    """Add ``{(file_id, day, country): [version_id, package_id, count]}`` to the stored counters, in the
    caller's transaction; counts of versions deleted meanwhile are dropped (they went with the version).
    Returns the number of downloads written."""
    if not batch:
        return 0
    table = DownloadCount.__table__
    version_ids = {entry[0] for entry in batch.values()}
    alive = set(conn.scalars(sa.select(Version.id).where(Version.id.in_(version_ids))))
    rows: list[dict[str, Any]] = [
        {"file_id": file_id, "day": day, "country": country, "version_id": version_id,
         "package_id": package_id, "count": n}
        for (file_id, day, country), (version_id, package_id, n) in batch.items() if version_id in alive]
    if not rows:
        return 0
    insert = (postgresql.insert if is_postgres(conn) else sqlite.insert)(table).values(rows)
    conn.execute(insert.on_conflict_do_update(
        index_elements=[table.c.file_id, table.c.day, table.c.country],
        set_={"count": table.c.count + insert.excluded.count, "version_id": insert.excluded.version_id,
              "package_id": insert.excluded.package_id}))
    return sum(row["count"] for row in rows)
