"""Storage used per owner (announced with catalog.usage.changed), the storage quota (413) and the upload rate limit
(429)."""

from __future__ import annotations

import io

import pytest
import sqlalchemy as sa

from catalog.use_cases import content, usage
from packyard.auth import Principal
from packyard.errors import TooLarge


def usage_events(api, owner=None):
    return [e["data"] for e in api.events("catalog.usage.changed") if owner is None or e["data"]["owner"] == owner]


def test_every_change_of_an_owners_stored_bytes_is_announced(api, client, alice):
    assert api.upload("alice", "main", "tool", "1.0", "a.bin", b"x" * 100, alice).status_code == 201
    assert api.upload("alice", "main", "tool", "1.0", "b.bin", b"y" * 50, alice, publish=True).status_code == 201
    assert usage_events(api) == [{"owner": "alice", "used_bytes": 100, "revision": 1},
                                 {"owner": "alice", "used_bytes": 150, "revision": 2}]
    [event] = [e for e in api.events("catalog.usage.changed")][:1]
    assert event["subject"] == "alice"
    # publishing changes no bytes: nothing announced
    assert api.publish("alice", "main", "tool", "1.0", alice).status_code == 200
    assert len(usage_events(api)) == 2
    # replacing a file counts its new size
    assert api.upload("alice", "main", "tool", "1.0", "a.bin", b"z" * 10, alice, override=True).status_code == 201
    assert usage_events(api)[-1] == {"owner": "alice", "used_bytes": 60, "revision": 3}
    assert client.delete("/content/alice/main/b.bin", headers=alice).status_code == 200
    assert usage_events(api)[-1] == {"owner": "alice", "used_bytes": 10, "revision": 4}
    # discarding, deleting a version, a package, a repository
    api.upload("alice", "main", "tool", "2.0", "c.bin", b"c" * 7, alice)
    assert usage_events(api)[-1]["used_bytes"] == 17
    assert api.publish("alice", "main", "tool", "2.0", alice, discard=True).json == {"files": 1}
    assert usage_events(api)[-1]["used_bytes"] == 10
    api.upload("alice", "main", "tool", "3.0", "d.bin", b"d" * 5, alice)
    assert client.delete("/packages/alice/main/tool/versions/3.0", headers=alice).status_code == 200
    assert usage_events(api)[-1]["used_bytes"] == 10
    api.create_repo("alice", "other", alice)
    api.create_package("alice", "other", "thing", alice)
    api.upload("alice", "other", "thing", "1", "e.bin", b"e" * 3, alice)
    assert client.delete("/packages/alice/other/thing", headers=alice).status_code == 200
    assert client.delete("/repos/alice/main", headers=alice).status_code == 200
    events = usage_events(api)
    assert events[-1]["used_bytes"] == 0
    assert [e["revision"] for e in events] == list(range(1, len(events) + 1))


def test_a_transfer_moves_the_bytes_from_one_owner_to_the_other(api, client, alice):
    carol = api.user("carol")
    api.create_repo("carol", "mine", carol)
    api.upload("alice", "main", "tool", "1.0", "t.bin", b"t" * 40, alice, publish=True)
    claim = client.post("/packages/alice/main/tool/claims", json={"reason": "r", "evidence": "e",
                                                                 "target": "carol/mine"}, headers=carol).json
    assert client.post(f"/claims/{claim['id']}/consent", headers=alice).status_code == 200
    assert usage_events(api, "alice")[-1]["used_bytes"] == 0
    assert usage_events(api, "carol") == [{"owner": "carol", "used_bytes": 40, "revision": 1}]


class TestQuota:
    @pytest.fixture
    def settings_overrides(self):
        return {"owner_quota_bytes": 100}

    def test_an_upload_beyond_the_owners_quota_is_refused_with_413(self, api, client, alice):
        assert api.upload("alice", "main", "tool", "1.0", "a.bin", b"a" * 60, alice).status_code == 201
        refused = api.upload("alice", "main", "tool", "1.0", "b.bin", b"b" * 41, alice)
        assert refused.status_code == 413
        assert refused.json["message"].startswith("Storage quota exceeded: 'alice' uses 60 bytes of 100 bytes")
        assert [f["path"] for f in client.get("/packages/alice/main/tool/files?include_unpublished=1",
                                               headers=alice).json] == ["a.bin"]
        assert api.upload("alice", "main", "tool", "1.0", "b.bin", b"b" * 40, alice).status_code == 201
        # replacing a file counts what it adds, not its whole size
        assert api.upload("alice", "main", "tool", "1.0", "a.bin", b"a" * 59, alice, override=True).status_code == 201
        assert api.upload("alice", "main", "tool", "1.0", "c.bin", b"c" * 2, alice).status_code == 413
        assert usage_events(api)[-1]["used_bytes"] == 99

    def test_the_quota_is_the_owners_whoever_uploads(self, api, client):
        for name in ("olga", "mia"):
            api.user(name)
        api.org("acme", "olga", members=["mia"])
        api.create_repo("acme", "libs", api.headers("olga"))
        api.create_package("acme", "libs", "lib", api.headers("olga"))
        api.team("acme", "devs", ["mia"])
        client.put("/repos/acme/libs/permissions", json={"team": "devs", "permission": "publish"},
                   headers=api.headers("olga"))
        assert api.upload("acme", "libs", "lib", "1", "a.bin", b"a" * 70, api.headers("olga")).status_code == 201
        assert api.upload("acme", "libs", "lib", "1", "b.bin", b"b" * 31, api.headers("mia")).status_code == 413
        assert api.upload("acme", "libs", "lib", "1", "b.bin", b"b" * 30, api.headers("mia")).status_code == 201

    def test_an_upload_of_unknown_size_stops_at_the_quota(self, api, catalog, alice):
        cmd = content.Upload(owner="alice", repo="main", package="tool", version="1.0", path="big.bin")
        with pytest.raises(TooLarge, match="Storage quota exceeded"):
            content.upload(catalog.uow, catalog.storage, _principal("alice"), cmd,
                           io.BytesIO(b"x" * 101), limit=10_000, base_url="https://packyard.test",
                           clock=catalog.clock, limits=catalog.upload_limits(), announced_size=None)
        assert usage_events(api) == []


def _principal(username):
    return Principal(username=username, user_id=f"uid-{username}")


class TestRateLimit:
    @pytest.fixture
    def settings_overrides(self):
        return {"upload_rate_limit": 3, "upload_rate_window": 3600}

    def test_uploads_beyond_the_rate_limit_answer_429(self, api, client, alice):
        for i in range(3):
            assert api.upload("alice", "main", "tool", "1.0", f"{i}.bin", b"x", alice).status_code == 201
        refused = api.upload("alice", "main", "tool", "1.0", "3.bin", b"x", alice)
        assert refused.status_code == 429
        assert refused.json["message"].startswith("Upload rate limit reached: at most 3 uploads every 3600 seconds")
        assert 1 <= int(refused.headers["Retry-After"]) <= 3600
        assert len(client.get("/packages/alice/main/tool/files?include_unpublished=1", headers=alice).json) == 3
        # another user has their own count
        bob = api.user("bob")
        api.create_repo("bob", "r", bob)
        api.create_package("bob", "r", "p", bob)
        assert api.upload("bob", "r", "p", "1", "b.bin", b"b", bob).status_code == 201


def test_usage_measures_the_files_of_an_owners_repositories(api, alice, catalog):
    api.upload("alice", "main", "tool", "1.0", "a.bin", b"a" * 12, alice)
    with catalog.uow() as uow:
        assert usage.measure(uow.session, "alice") == 12
        assert usage.measure(uow.session, "nobody") == 0


def test_the_worker_settles_usage_changed_behind_its_back(api, alice, catalog):
    """A change made without settling (here straight in the database) is found and announced by the next pass."""
    api.upload("alice", "main", "tool", "1.0", "a.bin", b"a" * 12, alice)
    assert catalog.reconcile_usage() == 0
    with catalog.platform.engine.begin() as conn:
        conn.execute(sa.text("UPDATE files SET size = 30"))
    assert "usage-reconcile" in [loop.name for loop in catalog.worker_loops()]
    assert catalog.reconcile_usage() == 1
    assert usage_events(api)[-1] == {"owner": "alice", "used_bytes": 30, "revision": 2}
    assert catalog.reconcile_usage() == 0
    with catalog.platform.engine.begin() as conn:
        conn.execute(sa.text("DELETE FROM files"))
    assert catalog.reconcile_usage() == 1 and usage_events(api)[-1]["used_bytes"] == 0
