"""Download statistics: Bintray's shapes and date ranges, the popularity ranking, and daily roll-ups."""

from __future__ import annotations

import threading
from datetime import UTC, date, datetime

import pytest
import sqlalchemy as sa

from catalog.downloads import add_counts
from catalog.models import DownloadRollup, File
from catalog.use_cases.rollups import roll_up

NOW = datetime(2026, 11, 25, 12, 0, tzinfo=UTC)


@pytest.fixture
def downloads(api, alice, catalog):
    """tool 1.0 and 2.0 in alice/main (statistics public), with downloads on a few days; a clock at NOW."""
    catalog.clock = lambda: NOW
    assert api.client.patch("/packages/alice/main/tool", json={"public_stats": True}, headers=alice).status_code == 200
    for version in ("1.0", "2.0"):
        assert api.upload("alice", "main", "tool", version, f"tool-{version}.jar", version.encode(), alice,
                          publish=True).status_code == 201

    def add(version, day, country, n, package="tool", repo="main"):
        with catalog.platform.engine.begin() as conn:
            row = conn.execute(sa.text(
                "SELECT f.id, f.version_id, f.package_id FROM files f JOIN versions v ON v.id = f.version_id "
                "JOIN packages p ON p.id = f.package_id JOIN repos r ON r.id = p.repo_id "
                "WHERE v.name = :v AND p.name = :p AND r.name = :r"), {"v": version, "p": package, "r": repo}).first()
            add_counts(conn, {(row.id, day, country): [row.version_id, row.package_id, n]})

    add("1.0", date(2026, 11, 20), "DE", 3)
    add("1.0", date(2026, 11, 22), "FR", 1)
    add("2.0", date(2026, 11, 22), "DE", 5)
    add("2.0", date(2026, 11, 25), "unknown", 2)
    add("1.0", date(2026, 9, 1), "US", 100)  # long ago
    return add


def post(client, url, body=None, headers=None):
    return client.post(url, json=body if body is not None else {}, headers=headers or {})


def test_total_downloads_per_version(downloads, client):
    response = post(client, "/packages/alice/main/tool/stats/total_downloads",
                    {"from": "2026-11-20T00:00:00.000Z", "to": "2026-11-25T23:59:59.999Z"})
    assert response.status_code == 200
    assert response.json == {"from": "2026-11-20T00:00:00.000Z", "to": "2026-11-25T23:59:59.999Z",
                             "records": [{"version": "2.0", "count": 7}, {"version": "1.0", "count": 4}]}
    one = post(client, "/packages/alice/main/tool/versions/1.0/stats/total_downloads",
               {"from": "2026-11-21T10:00:00+0000", "to": "2026-11-22"}).json
    assert one["records"] == [{"version": "1.0", "count": 1}]
    latest = post(client, "/packages/alice/main/tool/versions/_latest/stats/total_downloads",
                  {"from": "2026-11-01", "to": "2026-11-19"}).json
    assert latest["records"] == [{"version": "2.0", "count": 0}]


def test_the_range_defaults_to_the_last_thirty_days(downloads, client):
    body = post(client, "/packages/alice/main/tool/stats/total_downloads").json
    assert body["to"] == "2026-11-25T12:00:00.000Z" and body["from"] == "2026-10-26T12:00:00.000Z"
    assert sum(r["count"] for r in body["records"]) == 11  # not September's


def test_time_range_downloads_per_day(downloads, client):
    body = post(client, "/packages/alice/main/tool/stats/time_range_downloads",
                {"from": "2026-11-20", "to": "2026-11-23"}).json
    assert body["records"] == [
        {"date": "2026/11/20", "downloads": [{"version": "1.0", "count": 3}]},
        {"date": "2026/11/21", "downloads": []},
        {"date": "2026/11/22", "downloads": [{"version": "2.0", "count": 5}, {"version": "1.0", "count": 1}]},
        {"date": "2026/11/23", "downloads": []},
    ]
    version = post(client, "/packages/alice/main/tool/versions/2.0/stats/time_range_downloads",
                   {"from": "2026-11-22", "to": "2026-11-22"}).json
    assert version["records"] == [{"date": "2026/11/22", "downloads": [{"version": "2.0", "count": 5}]}]


def test_country_downloads(downloads, client):
    body = post(client, "/packages/alice/main/tool/stats/country_downloads",
                {"from": "2026-11-01", "to": "2026-11-30"}).json
    assert body["records"] == [{"country": "DE", "count": 8}, {"country": "unknown", "count": 2},
                               {"country": "FR", "count": 1}]
    version = post(client, "/packages/alice/main/tool/versions/1.0/stats/country_downloads",
                   {"from": "2026-08-01", "to": "2026-11-30"}).json
    assert version["records"] == [{"country": "US", "count": 100}, {"country": "DE", "count": 3},
                                  {"country": "FR", "count": 1}]


def test_bad_ranges_and_missing_things(downloads, client):
    url = "/packages/alice/main/tool/stats/total_downloads"
    for body in ({"from": "2026-11-25", "to": "2026-11-20"}, {"from": "yesterday"}, {"to": 5}, {"from": "2026-13-01"}):
        response = post(client, url, body)
        assert response.status_code == 400, body
        assert "message" in response.json
    long = post(client, "/packages/alice/main/tool/stats/time_range_downloads",
                {"from": "2025-01-01", "to": "2026-11-20"})
    assert long.status_code == 400 and "366 days" in long.json["message"]
    assert post(client, "/packages/alice/main/nothing/stats/total_downloads").status_code == 404
    assert post(client, "/packages/alice/main/tool/versions/9.9/stats/total_downloads").status_code == 404


def test_a_private_packages_statistics_are_for_its_readers(api, client, alice, catalog):
    api.create_repo("alice", "secret", alice, private=True)
    api.create_package("alice", "secret", "hidden", alice)
    api.user("bob")
    url = "/packages/alice/secret/hidden/stats/total_downloads"
    assert post(client, url, headers=alice).status_code == 200
    assert post(client, url).status_code == 404
    assert post(client, url, headers=api.headers("bob")).status_code == 404
    assert post(client, url, headers=api.headers("bob")).json == {"message": "Repo 'secret' was not found"}


def test_the_most_downloaded_public_packages_of_recent_days(downloads, api, client, alice, catalog):
    api.create_package("alice", "main", "other", alice)
    api.upload("alice", "main", "other", "1", "other-1.jar", b"o", alice, publish=True)
    downloads("1", date(2026, 11, 24), "DE", 4, package="other")
    api.create_repo("alice", "secret", alice, private=True)
    api.create_package("alice", "secret", "hidden", alice)
    api.upload("alice", "secret", "hidden", "1", "h.jar", b"h", alice, publish=True)
    downloads("1", date(2026, 11, 25), "DE", 50, package="hidden", repo="secret")
    week = client.get("/stats/popular?days=7&limit=20").json
    assert week == [{"owner": "alice", "repo": "main", "package": "tool", "downloads": 11},
                    {"owner": "alice", "repo": "main", "package": "other", "downloads": 4}]
    assert client.get("/stats/popular?days=2").json == [
        {"owner": "alice", "repo": "main", "package": "other", "downloads": 4},
        {"owner": "alice", "repo": "main", "package": "tool", "downloads": 2}]
    assert [p["package"] for p in client.get("/stats/popular?limit=1").json] == ["tool"]
    for query in ("?days=0", "?days=400", "?limit=0", "?limit=101", "?days=x"):
        assert client.get("/stats/popular" + query).status_code == 400, query


# --- roll-ups for other services ----------------------------------------------------------------

def rolled_up(api):
    return [(e["data"]["package"], e["data"]["day"], e["data"]["downloads"], e["data"]["versions"])
            for e in api.events("catalog.downloads.rolled_up")]


def test_each_past_day_of_each_package_is_rolled_up_once(downloads, api, catalog):
    # the last 7 complete days: not today (the 25th), not September
    assert roll_up(catalog.uow, NOW, delay_seconds=3600) == 2
    assert rolled_up(api) == [
        ("tool", "2026-11-20", 3, [{"version": "1.0", "count": 3}]),
        ("tool", "2026-11-22", 6, [{"version": "1.0", "count": 1}, {"version": "2.0", "count": 5}]),
    ]
    [first] = [e for e in api.events("catalog.downloads.rolled_up") if e["data"]["day"] == "2026-11-20"]
    assert first["subject"] == "alice/main/tool" and first["data"]["private"] is False
    assert roll_up(catalog.uow, NOW, delay_seconds=3600) == 0  # nothing twice
    downloads("1.0", date(2026, 11, 20), "DE", 1)  # a late count of a day already announced
    assert roll_up(catalog.uow, NOW, delay_seconds=3600) == 0


def test_today_and_a_day_just_ended_wait(downloads, api, catalog):
    downloads("1.0", date(2026, 11, 24), "DE", 1)
    just_after_midnight = datetime(2026, 11, 25, 0, 30, tzinfo=UTC)
    roll_up(catalog.uow, just_after_midnight, delay_seconds=3600)
    assert {day for _p, day, _n, _v in rolled_up(api)} == {"2026-11-20", "2026-11-22"}  # the 24th ended too recently
    roll_up(catalog.uow, datetime(2026, 11, 26, 1, 30, tzinfo=UTC), delay_seconds=3600)
    assert {day for _p, day, _n, _v in rolled_up(api)} == {"2026-11-20", "2026-11-22", "2026-11-24", "2026-11-25"}


def test_two_workers_rolling_up_at_once_announce_each_day_once(downloads, api, catalog):
    errors, results = [], []

    def work():
        try:
            results.append(roll_up(catalog.uow, NOW, delay_seconds=3600, batch=1))
        except Exception as exc:  # noqa: BLE001 - reported below
            errors.append(exc)

    threads = [threading.Thread(target=work) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    assert errors == []
    assert sum(results) == 2 and len(rolled_up(api)) == 2
    with catalog.platform.engine.connect() as conn:
        assert conn.scalar(sa.select(sa.func.count()).select_from(DownloadRollup)) == 2


def test_the_worker_rolls_up_on_its_own(downloads, api, catalog):
    from catalog.loops import Periodic
    from packyard.testing import running, wait_for

    [loop] = [lp for lp in catalog.worker_loops() if lp.name == "download-rollups"]
    fast = Periodic(loop.name, catalog.roll_up_downloads, 0.05)
    with running(fast):
        wait_for(lambda: len(rolled_up(api)) == 2, timeout=10, message="roll-ups announced")


def test_files_deleted_keep_their_counts(downloads, api, client, alice, catalog):
    client.delete("/content/alice/main/tool-1.0.jar", headers=alice)
    with catalog.platform.engine.connect() as conn:
        assert conn.scalar(sa.select(sa.func.count()).select_from(File)) == 1
    body = post(client, "/packages/alice/main/tool/stats/total_downloads",
                {"from": "2026-11-01", "to": "2026-11-30"})
    assert body.json["records"] == [{"version": "2.0", "count": 7}, {"version": "1.0", "count": 4}]


def test_statistics_that_are_not_public_are_for_the_packages_publishers(downloads, api, client, alice):
    """Bintray's rule: without ``public_stats`` only those who may publish to the package see its statistics."""
    assert client.patch("/packages/alice/main/tool", json={"public_stats": False}, headers=alice).status_code == 200
    bob = api.user("bob")
    for kind in ("total_downloads", "time_range_downloads", "country_downloads"):
        for url in (f"/packages/alice/main/tool/stats/{kind}", f"/packages/alice/main/tool/versions/1.0/stats/{kind}"):
            anonymous = post(client, url)
            assert anonymous.status_code == 401 and anonymous.headers["WWW-Authenticate"].startswith("Basic")
            refused = post(client, url, headers=bob)
            assert refused.status_code == 403
            assert refused.json == {"message": "The statistics of package 'tool' are shown to its publishers only"}
            assert post(client, url, headers=alice).status_code == 200
    # a team with publish on the repository may see them; one with read may not
    api.bus.deliver("identity.team.created", {"subject": "alice", "subject_type": "user", "team": "crew",
                                              "members": ["bob"], "allow_repo_creation": False, "revision": 1})
    client.put("/repos/alice/main/permissions", json={"team": "crew", "permission": "read"}, headers=alice)
    assert post(client, "/packages/alice/main/tool/stats/total_downloads", headers=bob).status_code == 403
    client.put("/repos/alice/main/permissions", json={"team": "crew", "permission": "publish"}, headers=alice)
    assert post(client, "/packages/alice/main/tool/stats/total_downloads", headers=bob).status_code == 200
