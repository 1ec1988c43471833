from datetime import UTC

import pytest


@pytest.fixture
def acme(world):
    world.user("alice")
    world.org("acme", owner="alice")
    world.repo("acme", "maven")
    world.package("acme", "maven", "widget")
    world.repo("acme", "secret", private=True)
    world.package("acme", "secret", "gizmo", private=True)
    return world


def _kinds(entries):
    return [e["type"] for e in entries]


def test_activity_logs_of_users_and_organizations_carry_every_kind(acme, client):
    bob = acme.user("bob")
    acme.member("acme", "bob")
    acme.version("acme", "maven", "widget", "1.0.0", released="2026-11-26T10:00:00.000Z", publisher="alice")
    client.put("/me/following/alice", headers=bob)
    client.put("/me/watches/acme/maven/widget", headers=bob)
    client.put("/packages/acme/maven/widget/reviews/mine", json={"rating": 5}, headers=bob)
    client.post("/packages/acme/maven/widget/versions/1.0.0/comments", json={"body": "thanks"}, headers=bob)
    bob_log = client.get("/users/bob/activity").json
    assert set(_kinds(bob_log)) == {"joined", "joined_org", "followed", "watched", "reviewed", "commented"}
    acme_log = client.get("/orgs/acme/activity")
    assert acme_log.status_code == 200
    assert set(_kinds(acme_log.json)) == {"created_org", "joined_org", "created_repo", "created_package",
                                          "released_version"}
    released = next(e for e in acme_log.json if e["type"] == "released_version")
    assert (released["actor"], released["package"], released["version"]) == ("alice", "widget", "1.0.0")
    assert "created_org" in _kinds(client.get("/users/alice/activity").json)
    assert client.get("/orgs/ghost/activity").status_code == 404
    assert _kinds(client.get("/me/activity", headers=bob).json) == _kinds(bob_log)
    assert client.get("/me/activity").status_code == 401


def test_entries_about_private_things_are_shown_only_to_their_readers(acme, client):
    bob = acme.user("bob")
    public = _kinds(client.get("/orgs/acme/activity", headers=bob).json)
    assert public.count("created_repo") == 1 and public.count("created_package") == 1  # not the secret ones
    for viewer in (acme.headers("alice"), acme.headers("root", admin=True)):
        mine = _kinds(client.get("/orgs/acme/activity", headers=viewer).json)
        assert mine.count("created_repo") == 2 and mine.count("created_package") == 2
    acme.member("acme", "bob")
    acme.team("acme", "readers", ["bob"])
    acme.permission("acme", "secret", "readers", "read")
    assert _kinds(client.get("/orgs/acme/activity", headers=bob).json).count("created_repo") == 2
    assert client.get("/orgs/acme/activity").headers["X-RangeLimit-Total"] == "4"  # org, bob joined, 2 public
    acme.repo("acme", "secret", private=False, kind="updated")  # made public: its entries are public now
    assert _kinds(client.get("/orgs/acme/activity").json).count("created_repo") == 2


def test_the_feed_shows_followed_subjects_and_watched_packages_newest_first(acme, client):
    bob = acme.user("bob")
    carol = acme.user("carol")
    assert client.get("/me/feed", headers=bob).json == []
    client.put("/me/following/carol", headers=bob)
    client.put("/me/watches/acme/maven/widget", headers=bob)
    client.put("/me/following/bob", headers=carol)
    client.put("/packages/acme/maven/widget/reviews/mine", json={"rating": 4}, headers=carol)
    acme.version("acme", "maven", "widget", "2.0.0", released="2030-01-01T00:00:00.000Z")
    acme.version("acme", "secret", "gizmo", "9.0.0", private=True, released="2030-01-02T00:00:00.000Z")
    feed = client.get("/me/feed", headers=bob).json
    assert [e["type"] for e in feed][:3] == ["released_version", "reviewed", "followed"]
    assert not any(e.get("package") == "gizmo" for e in feed)
    assert any(e["type"] == "watched" for e in feed)  # bob's own watch of a watched package
    assert client.get("/me/feed").status_code == 401


def test_the_feed_pages_by_keyset_and_by_start_pos(acme, client):
    from datetime import datetime, timedelta

    from social.models import ActivityEntry
    bob = acme.user("bob")
    client.put("/me/watches/acme/maven/widget", headers=bob)
    start = datetime(2030, 1, 1, tzinfo=UTC)
    with acme.social.uow() as uow:
        for i in range(120):
            uow.session.add(ActivityEntry(user_id="x", type="released_version", actor="alice",
                                          created_at=start + timedelta(minutes=i), details={"n": i},
                                          package_key="acme/maven/widget", repo_owner="acme", repo_name="maven"))
        uow.commit()
    first = client.get("/me/feed", headers=bob)
    assert [e["n"] for e in first.json[:2]] == [119, 118] and len(first.json) == 50
    second = client.get(f"/me/feed?before={first.headers['X-Next-Before']}", headers=bob)
    assert [e["n"] for e in second.json[:1]] == [69]
    by_offset = client.get("/me/feed?start_pos=50", headers=bob).json
    assert [e["n"] for e in by_offset] == [e["n"] for e in second.json]
    third = client.get(f"/me/feed?before={second.headers['X-Next-Before']}", headers=bob).json
    assert [e.get("n") for e in third][-2:] == [None, None] and len(third) == 22  # + watched, created_package
    assert client.get("/me/feed?before=nonsense", headers=bob).status_code == 400
    assert client.get("/me/feed?start_pos=1001", headers=bob).status_code == 400


def test_a_signed_version_enters_the_owners_log(acme, client):
    acme.version("acme", "maven", "widget", "1.0.0", released="2026-11-26T10:00:00.000Z")
    acme.deliver("signing.version.signed", {
        "owner": "acme", "repo": "maven", "package": "widget", "version": "1.0.0", "private": False,
        "fingerprint": "3EA78F7B2E2570911515B63575CD272554B3ED00", "files": ["widget-1.0.0.jar"],
        "signed_by": "alice", "platform_key": False, "automatic": False, "signed": "2026-11-26T10:05:00.000Z"})
    [signed] = [e for e in client.get("/orgs/acme/activity").json if e["type"] == "signed_version"]
    assert (signed["actor"], signed["version"], signed["created"]) == ("alice", "1.0.0", "2026-11-26T10:05:00.000Z")


def test_the_feed_is_the_same_when_it_reads_per_source(acme, client, monkeypatch):
    """Past the window of newest entries the feed reads each followed log and watched package (LATERAL)."""
    from datetime import datetime, timedelta

    from social import queries
    from social.models import ActivityEntry
    bob = acme.user("bob")
    acme.user("carol")
    client.put("/me/watches/acme/maven/widget", headers=bob)
    client.put("/me/following/carol", headers=bob)
    start = datetime(2030, 1, 1, tzinfo=UTC)
    with acme.social.uow() as uow:
        for i in range(90):
            uow.session.add(ActivityEntry(user_id="noise", type="followed", actor="x", created_at=start
                                          + timedelta(minutes=i, seconds=30), details={"noise": i}))
            if i % 3 == 0:
                uow.session.add(ActivityEntry(user_id="x", type="released_version", actor="alice",
                                              created_at=start + timedelta(minutes=i), details={"n": i},
                                              package_key="acme/maven/widget", repo_owner="acme", repo_name="maven"))
        uow.commit()
    whole = client.get("/me/feed", headers=bob).json
    monkeypatch.setattr(queries, "FEED_WINDOW", 7)
    pages, before = [], None
    while True:
        response = client.get("/me/feed" + (f"?before={before}" if before else ""), headers=bob)
        pages += response.json
        before = response.headers.get("X-Next-Before")
        if not before:
            break
    assert pages[:len(whole)] == whole and len(pages) >= 30 + 1
    assert all("noise" not in e for e in pages)
