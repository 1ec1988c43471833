"""The local default: the same API on SQLite (make run), for the reads and writes that differ by dialect."""

from __future__ import annotations

import hashlib

import pytest

from catalog.__main__ import ALEMBIC_INI
from catalog.downloads import DownloadLogIngester
from packyard.migrations import upgrade


@pytest.fixture
def catalog_db(tmp_path):
    url = f"sqlite:///{tmp_path}/catalog.db"
    upgrade(ALEMBIC_INI, url)
    return url


def test_a_release_on_sqlite(api, client, alice, catalog, tmp_path):
    for version in ("1.0", "2.0"):
        client.post("/packages/alice/main/tool/versions", json={"name": version}, headers=alice)
    assert api.upload("alice", "main", "tool", "1.0", "tool-1.0.jar", b"one", alice, publish=True).status_code == 201
    body = client.get("/packages/alice/main/tool").json
    assert body["versions"] == ["2.0", "1.0"] and body["latest_version"] == "1.0"
    assert client.get("/packages/alice/main/tool/versions/_latest").json["name"] == "1.0"
    response = client.get("/dl/alice/main/tool-1.0.jar", headers={"X-Country-Code": "NL"})
    assert response.headers["X-Checksum-Sha2"] == hashlib.sha256(b"one").hexdigest()
    assert client.get("/internal/downloads/decision",
                      headers={"X-Original-URI": "/dl/alice/main/tool-1.0.jar"}).status_code == 200
    logs = tmp_path / "download-logs"
    logs.mkdir()
    line = ('{"time":"2026-11-25T10:00:00+00:00","uri":"/dl/alice/main/tool-1.0.jar","method":"GET","status":200,'
            '"bytes":3,"range":"","country":"NL","blob":""}\n')
    (logs / "downloads-gw-2026-11-25.log").write_text(line * 2)
    ingester = DownloadLogIngester(catalog.platform.engine, logs)
    assert ingester.run_once() == 2 and ingester.run_once() == 0
    stats = client.post("/packages/alice/main/tool/stats/country_downloads",
                        json={"from": "2026-11-25", "to": "2026-11-25T23:00:00Z"}, headers=alice).json
    assert stats["records"] == [{"country": "NL", "count": 2}]
    assert [f["name"] for f in client.get("/search/file?name=tool-*").json] == ["tool-1.0.jar"]
    assert client.get("/search/packages?name=too").json[0]["latest_version"] == "1.0"
    assert client.delete("/repos/alice/main", headers=alice).status_code == 200
    assert client.get("/packages/alice/main/tool").status_code == 404
    assert [e["type"] for e in api.events()].count("catalog.version.released") == 1
