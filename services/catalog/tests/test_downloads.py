"""Downloads at /dl/: who may download, the headers the gateway relies on, sendfile mode, and counting."""

from __future__ import annotations

import hashlib
import threading
from datetime import UTC, datetime

import pytest
import sqlalchemy as sa

from catalog.models import DownloadCount
from packyard.testing import wait_for

CONTENT = b"0123456789" * 100
SHA256 = hashlib.sha256(CONTENT).hexdigest()
SHA1 = hashlib.sha1(CONTENT).hexdigest()


@pytest.fixture
def published(api, alice):
    assert api.upload("alice", "main", "tool", "1.0", "org/tool/tool-1.0.jar", CONTENT, alice,
                      publish=True).status_code == 201
    return "/dl/alice/main/org/tool/tool-1.0.jar"


def counts(catalog):
    with catalog.platform.engine.connect() as conn:
        return sorted((r.country, r.count) for r in conn.execute(sa.select(DownloadCount)))


def test_accel_mode_hands_the_file_to_the_gateway(published, client):
    response = client.get(published)
    assert response.status_code == 200 and response.data == b""
    headers = response.headers
    assert headers["X-Accel-Redirect"] == f"/_blobs/{SHA256[:2]}/{SHA256[2:4]}/{SHA256}"
    assert headers["Content-Type"] == "application/java-archive"
    assert headers["Content-Disposition"] == "attachment; filename=tool-1.0.jar"
    assert headers["ETag"] == f'"{SHA256}"'
    assert headers["X-Checksum-Sha1"] == SHA1 and headers["X-Checksum-Sha2"] == SHA256
    assert headers["Last-Modified"].endswith("GMT")


def test_anonymous_downloads_of_private_files_need_credentials(api, client, alice):
    api.create_repo("alice", "secret", alice, private=True)
    client.post("/packages/alice/secret", json={"name": "hidden"}, headers=alice)
    api.upload("alice", "secret", "hidden", "1.0", "h.bin", b"h", alice, publish=True)
    api.upload("alice", "main", "tool", "1.0", "draft.bin", b"d", alice)
    for url in ("/dl/alice/secret/h.bin", "/dl/alice/secret/nothing.bin", "/dl/alice/nowhere/x.bin"):
        response = client.get(url)
        assert response.status_code == 401, url
        assert response.json == {"message": "This resource requires authentication"}
        assert response.headers["WWW-Authenticate"].startswith("Basic")
    bob = api.user("bob")
    for url in ("/dl/alice/secret/h.bin", "/dl/alice/secret/nothing.bin", "/dl/alice/main/draft.bin"):
        response = client.get(url, headers=bob)
        assert response.status_code == 404, url  # the private repository does not show
    assert client.get("/dl/alice/secret/h.bin", headers=alice).status_code == 200
    assert client.get("/dl/alice/main/missing.bin").status_code == 404  # a public repository may say so
    assert client.get("/dl/alice/main/a/../b.bin").status_code in (400, 404)


def test_behind_the_gateway_the_api_counts_nothing(published, client, catalog):
    # The gateway logs the downloads it serves and the worker counts them (test_download_log.py).
    assert client.get(published).status_code == 200
    assert catalog.downloads.pending() == 0
    assert "download-counter" not in {t.name for t in threading.enumerate()}


class TestSendfileMode:
    @pytest.fixture
    def settings_overrides(self):
        return {"download_mode": "sendfile"}

    def test_building_the_app_starts_nothing_and_the_first_download_starts_the_flusher(self, catalog):
        from catalog.app import create_app

        client = create_app(catalog).test_client()
        assert catalog.downloads._thread is None  # an app factory has no side effects
        catalog.downloads.count(1, 1, 1, "DE")
        assert catalog.downloads._thread is not None and catalog.downloads._thread.is_alive()
        catalog.downloads.stop()
        assert client is not None

    def test_downloads_are_counted_in_memory_and_flushed_in_batches(self, published, client, catalog):
        for country in ("de", "DE", "FR", "somewhere", None):
            headers = {"X-Country-Code": country} if country else {}
            assert client.get(published, headers=headers).status_code == 200
        client.head(published)  # not a download
        client.get(published, headers={"Range": "bytes=500-"})  # the rest of a resumed download
        client.get(published, headers={"If-None-Match": f'"{SHA256}"'})  # a revalidation
        assert counts(catalog) == []  # nothing written per download
        assert catalog.downloads.pending() == 5
        assert catalog.downloads.flush() == 5
        assert counts(catalog) == [("DE", 2), ("FR", 1), ("unknown", 2)]
        client.get(published, headers={"X-Country-Code": "FR"})
        catalog.downloads.flush()
        assert counts(catalog) == [("DE", 2), ("FR", 2), ("unknown", 2)]

    def test_counts_from_several_processes_add_up(self, published, client, catalog):
        from catalog.downloads import DownloadCounter

        client.get(published)
        other = DownloadCounter(catalog.platform.engine, interval=60)
        with catalog.uow() as uow:
            row = uow.session.execute(sa.text("SELECT id, version_id, package_id FROM files")).one()
        other.count(row.id, row.version_id, row.package_id, "unknown")
        other.flush()
        catalog.downloads.flush()
        assert counts(catalog) == [("unknown", 2)]

    def test_counts_of_a_deleted_version_are_dropped_not_retried_forever(self, published, api, client, catalog,
                                                                         alice):
        client.get(published)
        client.delete("/packages/alice/main/tool/versions/1.0", headers=alice)
        assert catalog.downloads.flush() == 1
        assert catalog.downloads.pending() == 0 and counts(catalog) == []

    def test_counts_survive_a_failed_write(self, published, client, catalog):
        client.get(published)
        real_engine = catalog.downloads._engine
        catalog.downloads._engine = sa.create_engine("postgresql+psycopg://nobody@127.0.0.1:1/none")
        assert catalog.downloads.flush() == 0
        assert catalog.downloads.pending() == 1
        catalog.downloads._engine = real_engine
        assert catalog.downloads.flush() == 1 and counts(catalog) == [("unknown", 1)]

    def test_the_bytes_come_from_the_api_with_checksums(self, published, client):
        response = client.get(published)
        assert response.status_code == 200 and response.data == CONTENT
        assert "X-Accel-Redirect" not in response.headers
        assert response.headers["Content-Length"] == str(len(CONTENT))
        assert response.headers["ETag"] == f'"{SHA256}"'
        assert response.headers["X-Checksum-Sha2"] == SHA256 and response.headers["X-Checksum-Sha1"] == SHA1
        assert response.headers["Content-Disposition"] == "attachment; filename=tool-1.0.jar"

    def test_range_requests_get_partial_content(self, published, client):
        response = client.get(published, headers={"Range": "bytes=10-19"})
        assert response.status_code == 206 and response.data == CONTENT[10:20]
        assert response.headers["Content-Range"] == f"bytes 10-19/{len(CONTENT)}"
        assert client.get(published, headers={"Range": "bytes=-5"}).data == CONTENT[-5:]

    def test_conditional_requests_are_answered_304(self, published, client):
        response = client.get(published, headers={"If-None-Match": f'"{SHA256}"'})
        assert response.status_code == 304 and response.data == b""
        later = datetime(2100, 1, 1, tzinfo=UTC).strftime("%a, %d %b %Y %H:%M:%S GMT")
        assert client.get(published, headers={"If-Modified-Since": later}).status_code == 304

    def test_only_whole_fresh_downloads_count(self, published, client, catalog):
        client.get(published)
        client.get(published, headers={"If-None-Match": f'"{SHA256}"'})
        client.get(published, headers={"Range": "bytes=10-19"})
        assert client.get(published, headers={"Range": "bytes=0-9"}).status_code == 206  # a piece: not counted
        client.get(published, headers={"Range": "bytes=0-4,5-"})  # pieces again
        assert client.get(published, headers={"Range": "bytes=0-"}).status_code in (200, 206)  # the whole file
        client.get(published, headers={"Range": f"bytes=0-{len(CONTENT) - 1}"})  # the whole file
        catalog.downloads.flush()
        assert counts(catalog) == [("unknown", 3)]

    def test_a_missing_blob_answers_404_not_500(self, published, client, catalog):
        catalog.storage.local_path(SHA256).unlink()
        assert client.get(published).status_code == 404


class TestBackgroundFlusher:
    @pytest.fixture
    def settings_overrides(self):
        return {"download_mode": "sendfile", "download_flush_interval": 0.05}

    def test_the_api_writes_counts_without_being_asked(self, published, client, catalog):
        client.get(published)
        wait_for(lambda: counts(catalog) == [("unknown", 1)], timeout=5, message="counts flushed")


# --- the gateway's question: may it serve a /dl/ path itself? -----------------------------------

def decide(client, uri):
    return client.get("/internal/downloads/decision", headers={"X-Original-URI": uri})


def test_a_published_public_file_may_be_served_by_the_gateway(published, client, catalog):
    response = decide(client, published + "?utm=1")
    assert response.status_code == 200 and response.data == b""
    assert response.headers["X-Packyard-Blob"] == f"{SHA256[:2]}/{SHA256[2:4]}/{SHA256}"
    assert (catalog.storage.root / response.headers["X-Packyard-Blob"]).read_bytes() == CONTENT
    assert response.headers["X-Checksum-Sha1"] == SHA1 and response.headers["X-Checksum-Sha2"] == SHA256
    assert response.headers["X-Packyard-Filename"] == "tool-1.0.jar"
    assert response.headers["X-Accel-Expires"] == "2"
    assert decide(client, "/dl/alice/main/org/tool/tool%2D1.0.jar").status_code == 200  # percent-encoded


def test_everything_else_is_left_to_catalogs_own_handler(api, client, alice, published):
    api.create_repo("alice", "secret", alice, private=True)
    client.post("/packages/alice/secret", json={"name": "hidden"}, headers=alice)
    api.upload("alice", "secret", "hidden", "1.0", "h.bin", b"h", alice, publish=True)
    api.upload("alice", "main", "tool", "1.0", "draft.bin", b"d", alice)
    api.upload("alice", "main", "tool", "1.0", 'odd "name".bin', b"q", alice, publish=True)
    for uri in ("/dl/alice/secret/h.bin", "/dl/alice/main/draft.bin", "/dl/alice/main/missing.bin",
                "/dl/alice/nowhere/x.bin", "/dl/nobody/main/x.bin", "/dl/alice/main", "/dl/alice/main/a/../b",
                "/dl/alice/main/%ff.bin", "/content/alice/main/x", "", "/dl/alice/main/odd%20%22name%22.bin",
                "/dl/%00/main/x.bin", "/dl/alice/%0a/x.bin", "/dl/alice/main/%00", f"/dl/{'a' * 300}/main/x.bin"):
        response = decide(client, uri)
        assert response.status_code == 403, uri
        assert response.headers["X-Accel-Expires"] == "2" and "X-Packyard-Blob" not in response.headers
    assert client.get("/internal/downloads/decision").status_code == 403  # no URI at all
    # what the handler then answers: 401 for the private file, the file for a quoted name
    assert client.get("/dl/alice/secret/h.bin").status_code == 401
    assert client.get('/dl/alice/main/odd "name".bin').status_code == 200


def test_the_decision_costs_one_statement(published, client, catalog):
    statements = []
    sa.event.listen(catalog.platform.engine, "before_cursor_execute",
                    lambda *args: statements.append(args[2]))
    assert decide(client, published).status_code == 200
    assert decide(client, "/dl/alice/main/missing.bin").status_code == 403
    assert len([s for s in statements if s.lstrip().upper().startswith(("SELECT", "(SELECT"))]) == 2


class TestDecisionTtl:
    @pytest.fixture
    def settings_overrides(self):
        return {"download_decision_ttl": 7}

    def test_the_answer_says_how_long_it_may_be_reused(self, published, client):
        assert decide(client, published).headers["X-Accel-Expires"] == "7"
        assert decide(client, "/dl/alice/main/missing.bin").headers["X-Accel-Expires"] == "7"


def _same_headers(one, other):
    """Headers alike but for the request's own id."""
    def strip(response):
        return sorted((k, v) for k, v in response.headers.items() if k != "X-Request-Id")
    return strip(one) == strip(other)


def test_an_unpublished_file_answers_exactly_as_a_missing_one_to_those_who_may_not_see_it(api, client, alice):
    """Status, body and headers alike: nobody but its publishers can tell that an unpublished path exists."""
    assert api.upload("alice", "main", "tool", "1.0", "dir/draft.bin", b"d", alice).status_code == 201
    bob = api.user("bob")
    for headers in ({}, bob):
        draft = client.get("/dl/alice/main/dir/draft.bin", headers=headers)
        missing = client.get("/dl/alice/main/dir/dreft.bin", headers=headers)
        assert draft.status_code == missing.status_code == 404
        assert draft.json == {"message": "File 'dir/draft.bin' was not found"}
        assert missing.json == {"message": "File 'dir/dreft.bin' was not found"}
        assert _same_headers(draft, missing)
        head_draft = client.head("/dl/alice/main/dir/draft.bin", headers=headers)
        head_missing = client.head("/dl/alice/main/dir/dreft.bin", headers=headers)
        assert head_draft.status_code == head_missing.status_code == 404
        assert _same_headers(head_draft, head_missing)
        for lookup in ("/file_package", "/file_version"):
            draft = client.get(f"{lookup}/alice/main/dir/draft.bin", headers=headers)
            missing = client.get(f"{lookup}/alice/main/dir/dreft.bin", headers=headers)
            assert draft.status_code == missing.status_code == 404
            assert _same_headers(draft, missing)
    assert client.get("/dl/alice/main/dir/draft.bin", headers=alice).status_code == 200


def test_an_unpublished_file_hides_no_linked_file_from_those_who_may_not_see_it(api, client, alice, service_headers):
    """A linked file shows at a path where the repository only has an unpublished file, as at a missing path."""
    olga = api.user("olga")
    api.create_repo("olga", "center", olga)
    api.create_package("olga", "center", "own", olga)
    assert api.upload("alice", "main", "tool", "1.0", "x/tool.bin", b"linked", alice, publish=True).status_code == 201
    assert client.put("/repository/olga/center/links/alice/main/tool", headers=olga).status_code == 201
    assert api.upload("olga", "center", "own", "1", "x/tool.bin", b"draft", olga).status_code == 201
    linked_sha = hashlib.sha256(b"linked").hexdigest()
    assert client.get("/dl/olga/center/x/tool.bin").headers["X-Checksum-Sha2"] == linked_sha
    decision = client.get("/internal/downloads/decision",
                          headers={**service_headers, "X-Original-URI": "/dl/olga/center/x/tool.bin"})
    assert decision.status_code == 200 and decision.headers["X-Checksum-Sha2"] == linked_sha
    assert client.get("/dl/olga/center/x/tool.bin", headers=olga).headers["X-Checksum-Sha2"] == \
        hashlib.sha256(b"draft").hexdigest()  # its publisher sees the draft


def test_a_moved_packages_unpublished_file_does_not_redirect(api, client, alice):
    carol = api.user("carol")
    api.create_repo("carol", "mine", carol)
    assert api.upload("alice", "main", "tool", "1.0", "m/draft.bin", b"d", alice).status_code == 201
    claim = client.post("/packages/alice/main/tool/claims", json={"reason": "r", "evidence": "e",
                                                                 "target": "carol/mine"}, headers=carol).json
    assert client.post(f"/claims/{claim['id']}/consent", headers=alice).status_code == 200
    assert client.get("/dl/alice/main/m/draft.bin").status_code == 404
    assert client.get("/dl/alice/main/m/draft.bin", headers=api.user("bob")).status_code == 404
    assert client.get("/dl/alice/main/m/draft.bin", headers=carol).status_code == 301
