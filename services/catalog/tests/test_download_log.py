"""Counting downloads from the gateway's download log: real files, a real database, exactly once."""

from __future__ import annotations

import json
import os
import threading
from datetime import UTC, datetime

import pytest
import sqlalchemy as sa
from prometheus_client import REGISTRY

from catalog.downloads.log import WHOLE, DownloadLogIngester, is_counted, needed_end
from catalog.models import DownloadCount, DownloadLogPosition

URI = "/dl/alice/main/org/tool/tool-1.0.jar"
TODAY = "2026-11-25"


def line(uri=URI, *, method="GET", status=200, range_="", country="", time=f"{TODAY}T10:00:00+00:00"):
    return json.dumps({"time": time, "uri": uri, "method": method, "status": status, "bytes": 1000, "range": range_,
                       "country": country, "blob": ""}) + "\n"


@pytest.fixture
def published(api, alice):
    assert api.upload("alice", "main", "tool", "1.0", "org/tool/tool-1.0.jar", b"x" * 1000, alice,
                      publish=True).status_code == 201


@pytest.fixture
def logs(tmp_path):
    directory = tmp_path / "download-logs"
    directory.mkdir()
    return directory


@pytest.fixture
def now():
    return [datetime(2026, 11, 25, 12, 0, tzinfo=UTC)]


@pytest.fixture
def ingester(catalog, logs, now):
    def make(**kwargs):
        return DownloadLogIngester(catalog.platform.engine, logs, clock=lambda: now[0], **kwargs)
    return make


def counts(catalog):
    with catalog.platform.engine.connect() as conn:
        return sorted((str(r.day), r.country, r.count) for r in conn.execute(sa.select(DownloadCount)))


def total(catalog):
    return sum(c for _day, _country, c in counts(catalog))


def positions(catalog):
    with catalog.platform.engine.connect() as conn:
        return {r.name: r.position for r in conn.execute(sa.select(DownloadLogPosition))}


def append(path, text):
    with path.open("a") as handle:
        handle.write(text)


def skipped(reason):
    return REGISTRY.get_sample_value("packyard_download_log_lines_skipped_total", {"reason": reason}) or 0


def test_what_counts_as_a_download():
    assert is_counted({"method": "GET", "status": 200})
    assert is_counted({"method": "GET", "status": 206, "range": "bytes=0-1023"})  # when the file has 1024 bytes
    assert needed_end({"method": "GET", "status": 206, "range": "bytes=0-1023"}) == 1023
    assert needed_end({"method": "GET", "status": 206, "range": "bytes=0-"}) == WHOLE
    assert needed_end({"method": "GET", "status": 200}) == WHOLE
    assert not is_counted({"method": "GET", "status": 206, "range": "bytes=0-10,20-30"})
    assert not is_counted({"method": "GET", "status": 206, "range": "bytes=0-x"})
    assert not is_counted({"method": "GET", "status": 206, "range": "bytes=500-"})
    assert not is_counted({"method": "GET", "status": 206, "range": "bytes=-500"})
    assert not is_counted({"method": "HEAD", "status": 200})
    assert not is_counted({"method": "GET", "status": 304})
    assert not is_counted({"method": "GET", "status": 404})


def test_logged_downloads_are_counted_like_the_apis_own(published, catalog, logs, ingester):
    log = logs / f"downloads-gw1-{TODAY}.log"
    log.write_text(line(country="de") + line(country="DE") + line(country="somewhere") + line(method="HEAD")
                   + line(status=304) + line(status=206, range_="bytes=0-999", country="FR")
                   + line(status=206, range_="bytes=100-") + line(uri=URI + "?from=mirror")
                   + line(time="2026-11-24T23:59:59-01:00"))  # the 25th in UTC
    assert ingester().run_once() == 6
    assert counts(catalog) == [(TODAY, "DE", 2), (TODAY, "FR", 1), (TODAY, "unknown", 3)]
    assert positions(catalog) == {log.name: log.stat().st_size}
    assert ingester().run_once() == 0 and total(catalog) == 6  # nothing new, nothing counted again
    assert REGISTRY.get_sample_value("packyard_downloads_ingested_total") >= 6


def test_several_gateway_hosts_write_their_own_files(published, catalog, logs, ingester):
    (logs / f"downloads-gw1-{TODAY}.log").write_text(line() * 2)
    (logs / f"downloads-gw-2.example-{TODAY}.log").write_text(line() * 3)
    (logs / "access.log").write_text(line() * 5)  # not a download log
    assert ingester().run_once() == 5


def test_a_partial_last_line_waits_for_the_next_pass(published, catalog, logs, ingester):
    log = logs / f"downloads-gw1-{TODAY}.log"
    whole = line()
    log.write_text(whole + whole[:25])
    assert ingester().run_once() == 1
    assert positions(catalog)[log.name] == len(whole)
    assert ingester().run_once() == 0
    append(log, whole[25:])
    assert ingester().run_once() == 1 and total(catalog) == 2


def test_malformed_lines_are_skipped_and_the_rest_counted(published, catalog, logs, ingester):
    before = {reason: skipped(reason) for reason in ("malformed", "unknown_file", "not_a_download")}
    log = logs / f"downloads-gw1-{TODAY}.log"
    log.write_bytes((line() + "not json\n" + "[1, 2]\n" + '{"uri": 5}\n' + line(time="yesterday")
                     + line(uri="/dl/alice/main/missing.jar") + line(uri="/dl/alice/main/%ff") + line(uri="/elsewhere")
                     + line(uri="/dl/alice/main/a/../b") + line(uri="/dl/al%00ice/main/x") + line(status="200")
                     + "\n").encode()
                    + b"\xff\xfe garbage\n" + line().encode())
    assert ingester().run_once() == 2
    assert skipped("malformed") - before["malformed"] == 5
    assert skipped("unknown_file") - before["unknown_file"] == 5
    assert skipped("not_a_download") - before["not_a_download"] == 1
    assert positions(catalog)[log.name] == log.stat().st_size


def test_each_line_counts_once_across_a_crash_mid_file(published, catalog, logs, ingester, monkeypatch):
    log = logs / f"downloads-gw1-{TODAY}.log"
    log.write_text(line() * 40)
    chunk = len(line()) * 10 + 5  # four chunks, each its own transaction
    crashing = ingester(chunk_bytes=chunk)
    calls = []
    real_count = DownloadLogIngester._count

    def count_then_crash(self, conn, batch):
        calls.append(1)
        if len(calls) == 3:
            raise RuntimeError("the worker dies here")
        return real_count(self, conn, batch)

    monkeypatch.setattr(DownloadLogIngester, "_count", count_then_crash)
    with pytest.raises(RuntimeError):
        crashing.run_once()
    assert total(catalog) == 20  # two chunks committed, the third rolled back with its position
    monkeypatch.setattr(DownloadLogIngester, "_count", real_count)
    assert ingester(chunk_bytes=chunk).run_once() == 20  # a new process carries on where the last commit left
    assert total(catalog) == 40


def test_two_ingesters_at_once_count_each_line_once(published, catalog, logs, ingester):
    files = [logs / f"downloads-gw{i}-{TODAY}.log" for i in range(3)]
    for path in files:
        path.write_text(line() * 30)
    chunk = len(line()) * 4
    workers = [ingester(chunk_bytes=chunk), ingester(chunk_bytes=chunk)]
    errors = []

    def work(worker):
        try:
            for _ in range(3):
                worker.run_once()
        except Exception as exc:  # noqa: BLE001 - reported below
            errors.append(exc)

    threads = [threading.Thread(target=work, args=(w,)) for w in workers]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    assert errors == []
    assert total(catalog) == 90
    assert positions(catalog) == {p.name: p.stat().st_size for p in files}


def test_a_file_replaced_under_its_name_is_read_from_its_start(published, catalog, logs, ingester):
    log = logs / f"downloads-gw1-{TODAY}.log"
    log.write_text(line() * 3)
    assert ingester().run_once() == 3
    replacement = logs / "tmp"
    replacement.write_text(line())
    os.replace(replacement, log)  # a new inode, shorter than what was read of the old one
    assert ingester().run_once() == 1 and total(catalog) == 4


def test_counted_files_of_past_days_are_deleted_after_a_grace_period(published, catalog, logs, ingester, now):
    old = logs / "downloads-gw1-2026-11-24.log"
    old.write_text(line(time="2026-11-24T23:00:00+00:00") * 2)
    current = logs / f"downloads-gw1-{TODAY}.log"
    current.write_text(line())
    undated = logs / "downloads-gw1-undated.log"
    undated.write_text(line())
    two_hours_ago = now[0].timestamp() - 7200
    for path in (old, current, undated):
        os.utime(path, (two_hours_ago, two_hours_ago))
    worker = ingester(grace_seconds=3600)
    assert worker.run_once() == 4  # everything is counted first
    assert worker.run_once() == 0
    assert not old.exists() and current.exists() and undated.exists()
    assert set(positions(catalog)) == {current.name, undated.name}
    assert counts(catalog) == [("2026-11-24", "unknown", 2), (TODAY, "unknown", 2)]


def test_a_file_of_a_past_day_still_written_to_is_kept(published, catalog, logs, ingester, now):
    recent = logs / "downloads-gw1-2026-11-24.log"
    recent.write_text(line())
    a_minute_ago = now[0].timestamp() - 60
    os.utime(recent, (a_minute_ago, a_minute_ago))
    worker = ingester(grace_seconds=3600)
    assert worker.run_once() == 1 and worker.run_once() == 0
    assert recent.exists()  # written a moment ago: nginx may still hold it open


def test_a_missing_directory_counts_nothing(catalog, tmp_path, now):
    assert DownloadLogIngester(catalog.platform.engine, tmp_path / "nowhere", clock=lambda: now[0]).run_once() == 0


def test_the_worker_runs_the_ingester_behind_a_gateway_only(catalog, make_settings, catalog_db):
    assert {loop.name for loop in catalog.worker_loops()} == {"download-rollups", "usage-reconcile", "download-log"}
    from catalog.bootstrap import bootstrap

    alone = bootstrap(make_settings(catalog_db, download_mode="sendfile"))
    try:
        assert {loop.name for loop in alone.worker_loops()} == {"download-rollups", "usage-reconcile"}
    finally:
        alone.close()


def test_a_206_counts_only_when_its_range_covers_the_whole_file(published, catalog, logs, ingester):
    """The file has 1000 bytes: many small ranges of it are not many downloads."""
    before = skipped("partial_range")
    log = logs / f"downloads-gw1-{TODAY}.log"
    pieces = [line(status=206, range_=f"bytes=0-{end}") for end in (0, 9, 99, 998)]
    whole = [line(status=206, range_=r) for r in ("bytes=0-", "bytes=0-999", "bytes=0-5000")]
    others = [line(status=206, range_="bytes=0-499,500-"), line(status=206, range_="bytes=1-"),
              line(status=206, range_="bytes=-1000")]
    log.write_text("".join(pieces + whole + others))
    assert ingester().run_once() == 3
    assert total(catalog) == 3
    assert skipped("partial_range") - before == 4
