"""Counting downloads from the gateway's download log (``accel`` mode).

The gateway writes one JSON line per download it served — from its fast path for public files
and after catalog's ``X-Accel-Redirect`` alike — to ``downloads-<host>-<YYYY-MM-DD>.log`` files in
``DOWNLOAD_LOG_DIR``, a directory it shares with catalog's worker::

    {"time":"2026-11-25T10:00:00+00:00","uri":"/dl/acme/maven/a.jar","method":"GET","status":200,
     "bytes":1048576,"range":"","country":"DE","blob":"ab/cd/abcd…"}

The worker's :class:`DownloadLogIngester` reads the complete lines each file gained since its
last pass and counts them as the API counts its own downloads (a GET answered 200, or 206 for one
range covering the whole file; not HEAD, not 304, not the pieces of a resumed or split transfer)
into the same counters.

Exactly once: the position reached in each file is stored in ``download_log_positions`` in the
same transaction as the counts of the lines before it, so a crash, a restart or several worker
replicas never count a line twice or lose one. A file's position row is locked while it is read
(``FOR UPDATE SKIP LOCKED`` on PostgreSQL: another replica moves on to other files; SQLite
serializes writers anyway). A trailing line without its newline is left for the next pass.
A file replaced under the same name (another inode) or truncated is read again from its start.

Files of past days that are read to their end and untouched for ``DOWNLOAD_LOG_GRACE`` seconds
are deleted, then their position; lines that cannot be understood are skipped and counted in
``packyard_download_log_lines_skipped_total``, never fatal.
"""

from __future__ import annotations

import json
import logging
import os
import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from prometheus_client import Counter
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Engine

from catalog.downloads.counter import add_counts, country_of
from catalog.downloads.paths import CountedFile, counted_file, parse_download_uri
from catalog.models import DownloadLogPosition
from catalog.use_cases.names import check_path
from packyard.db import is_postgres, utcnow
from packyard.errors import DomainError

log = logging.getLogger(__name__)

INGESTED = Counter("packyard_downloads_ingested_total", "Downloads counted from the gateway's download log")
SKIPPED = Counter("packyard_download_log_lines_skipped_total",
                  "Lines of the gateway's download log that were not counted", ["reason"])

FILE_PATTERN = re.compile(r"downloads-.+?(?:-(\d{4}-\d{2}-\d{2}))?\.log")
CHUNK_BYTES = 4 * 1024 * 1024


WHOLE = -1  # what a download needs to cover: the whole file, whatever its size


def is_counted(line: dict[str, Any]) -> bool:
    """A download the API would count, if the file is large enough to be covered (see :func:`needed_end`)."""
    return needed_end(line) is not None


def needed_end(line: dict[str, Any]) -> int | None:
    """A GET that fetched the whole file: :data:`WHOLE` for a 200 or a 206 of ``bytes=0-``; for a 206 of
    ``bytes=0-N`` the last byte it covered (it counts only when the file has no byte after ``N``); None for
    anything else (HEAD, 304, a range starting later, several ranges: resumed or partial transfers,
    which would let a client inflate the count with many small ranges)."""
    if line.get("method") != "GET":
        return None
    status = line.get("status")
    if status == 200:
        return WHOLE
    if status != 206:
        return None
    ranges = str(line.get("range") or "").strip().lower()
    if not ranges.startswith("bytes=") or "," in ranges:
        return None
    first, dash, last = ranges[len("bytes="):].strip().partition("-")
    if not dash or first.strip() != "0":
        return None
    last = last.strip()
    if not last:
        return WHOLE
    return int(last) if last.isdigit() and len(last) <= 19 else None


def _day_of(moment: Any) -> date | None:
    if not isinstance(moment, str):
        return None
    try:
        parsed = datetime.fromisoformat(moment.replace("Z", "+00:00"))
    except ValueError:
        return None
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=UTC)
    return parsed.astimezone(UTC).date()


@dataclass
class _Batch:
    """Downloads per (uri, day, country) in a chunk of lines, and the lines skipped per reason."""

    counts: dict[tuple[str, date, str, int], int]  # (uri, day, country, last byte needed) -> downloads
    skipped: dict[str, int]

    def skip(self, reason: str, n: int = 1) -> None:
        self.skipped[reason] = self.skipped.get(reason, 0) + n


class DownloadLogIngester:
    """Counts the downloads logged in ``directory`` (see the module doc). :meth:`run_once` is one pass."""

    def __init__(self, engine: Engine, directory: str | os.PathLike[str], *, grace_seconds: float = 3600,
                 clock: Callable[[], datetime] = utcnow, chunk_bytes: int = CHUNK_BYTES) -> None:
        self._engine = engine
        self.directory = Path(directory)
        self._grace = grace_seconds
        self._clock = clock
        self._chunk = chunk_bytes

    # -- one pass ----------------------------------------------------------------------------
    def run_once(self) -> int:
        """Count what every log file gained since the last pass; the number of downloads counted."""
        if not self.directory.is_dir():
            return 0
        counted = 0
        names = sorted(p.name for p in self.directory.iterdir() if FILE_PATTERN.fullmatch(p.name))
        for name in names:
            counted += self._ingest(name)
        self._forget_vanished(set(names))
        return counted

    def _ingest(self, name: str) -> int:
        counted = 0
        while True:
            outcome = self._ingest_chunk(name)
            if outcome is None:
                return counted
            counted += outcome

    def _ingest_chunk(self, name: str) -> int | None:
        """Count one chunk of new lines of ``name`` in one transaction; None when there is nothing more to do."""
        path = self.directory / name
        with self._engine.begin() as conn:
            position = self._lock_position(conn, name)
            if position is None:
                return None  # another worker is reading this file right now
            try:
                stat = path.stat()
            except FileNotFoundError:
                return None
            if not path.is_file():
                return None
            start = position.position if position.inode == stat.st_ino and position.position <= stat.st_size else 0
            if start >= stat.st_size:
                if start != position.position or position.inode != stat.st_ino:
                    self._save(conn, name, stat.st_ino, start)
                self._maybe_delete(conn, path, stat, start)
                return None
            try:
                with path.open("rb") as handle:
                    handle.seek(start)
                    data = handle.read(min(self._chunk, stat.st_size - start))
            except OSError as exc:  # unreadable (permissions, a vanished mount): the other files still count
                log.warning("cannot read the download log %s: %s", name, exc)
                return None
            end = data.rfind(b"\n")
            if end < 0:
                if len(data) < self._chunk:
                    return None  # a line still being written: the next pass reads it whole
                end = len(data) - 1  # no newline in a whole chunk: not a line of ours, skip it
                batch = _Batch({}, {"too_long": 1})
            else:
                batch = self._parse(data[:end + 1])
            downloads = self._count(conn, batch)
            self._save(conn, name, stat.st_ino, start + end + 1)
        INGESTED.inc(downloads)
        for reason, n in batch.skipped.items():
            SKIPPED.labels(reason).inc(n)
        return downloads

    def _lock_position(self, conn: sa.Connection, name: str) -> Any:
        table = DownloadLogPosition.__table__
        select = sa.select(table.c.name, table.c.inode, table.c.position).where(table.c.name == name)
        if is_postgres(conn):
            select = select.with_for_update(skip_locked=True)
        row = conn.execute(select).first()
        if row is not None:
            return row
        insert = (postgresql.insert if is_postgres(conn) else sqlite.insert)(table).values(
            name=name, inode=-1, position=0, updated_at=self._clock())
        conn.execute(insert.on_conflict_do_nothing(index_elements=[table.c.name]))
        return conn.execute(select).first()

    def _save(self, conn: sa.Connection, name: str, inode: int, position: int) -> None:
        table = DownloadLogPosition.__table__
        conn.execute(table.update().where(table.c.name == name).values(inode=inode, position=position,
                                                                          updated_at=self._clock()))

    # -- lines -------------------------------------------------------------------------------
    def _parse(self, data: bytes) -> _Batch:
        batch = _Batch({}, {})
        for raw in data.split(b"\n"):
            if not raw.strip():
                continue
            try:
                line = json.loads(raw)
            except ValueError:
                batch.skip("malformed")
                continue
            if not isinstance(line, dict) or not isinstance(line.get("uri"), str):
                batch.skip("malformed")
                continue
            end = needed_end(line)
            if end is None:
                batch.skip("not_a_download")
                continue
            day = _day_of(line.get("time"))
            if day is None:
                batch.skip("malformed")
                continue
            country = country_of(line.get("country") if isinstance(line.get("country"), str) else None)
            key = (line["uri"], day, country, end)
            batch.counts[key] = batch.counts.get(key, 0) + 1
        return batch

    def _count(self, conn: sa.Connection, batch: _Batch) -> int:
        files: dict[str, CountedFile | None] = {}
        counts: dict[tuple[int, date, str], list[int]] = {}
        for (uri, day, country, end), n in batch.counts.items():
            if uri not in files:
                files[uri] = self._resolve(conn, uri)
            found = files[uri]
            if found is None:
                batch.skip("unknown_file", n)
                continue
            if end != WHOLE and end < found.size - 1:
                batch.skip("partial_range", n)
                continue
            entry = counts.setdefault((found.file_id, day, country), [found.version_id, found.package_id, 0])
            entry[2] += n
        return add_counts(conn, counts)

    @staticmethod
    def _resolve(conn: sa.Connection, uri: str) -> CountedFile | None:
        try:
            parsed = parse_download_uri(uri)
            if parsed is None:
                return None
            check_path(parsed[2])
        except (UnicodeDecodeError, DomainError):
            return None
        return counted_file(conn, *parsed)

    # -- old files ---------------------------------------------------------------------------
    def _maybe_delete(self, conn: sa.Connection, path: Path, stat: os.stat_result, position: int) -> None:
        """Delete a past day's file read to its end and left alone for the grace period (then its position).

        The file goes first: should the transaction then fail, a position without its file is
        dropped by a later pass, whereas a file without its position would be counted again.
        """
        match = FILE_PATTERN.fullmatch(path.name)
        if match is None or match.group(1) is None or position < stat.st_size:
            return
        now = self._clock()
        try:
            day = date.fromisoformat(match.group(1))
        except ValueError:
            return
        if day >= now.astimezone(UTC).date() or now.timestamp() - stat.st_mtime < self._grace:
            return
        try:
            path.unlink()
        except FileNotFoundError:
            pass
        table = DownloadLogPosition.__table__
        conn.execute(table.delete().where(table.c.name == path.name))
        log.info("deleted the counted download log %s", path.name)

    def _forget_vanished(self, present: set[str]) -> None:
        """Drop positions of files gone for a while (deleted by an earlier pass whose commit failed, or by hand)."""
        table = DownloadLogPosition.__table__
        cutoff = self._clock() - timedelta(seconds=max(self._grace, 60))
        with self._engine.begin() as conn:
            stale = [name for name in conn.scalars(sa.select(table.c.name).where(table.c.updated_at < cutoff))
                     if name not in present and not (self.directory / name).exists()]
            if stale:
                conn.execute(table.delete().where(table.c.name.in_(stale)))
