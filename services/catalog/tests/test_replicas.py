"""Catalog's replicas of identity's and social's data, fed by events that arrive late, twice or out of order."""

from __future__ import annotations

import sqlalchemy as sa

from catalog.models import Membership, Subject, Team
from packyard.consumer import Outcome


def org_event(name="acme", revision=1, **extra):
    return {"org_id": f"oid-{name}", "name": name, "full_name": name.title(), "owner": "olga",
            "owner_id": "uid-olga", "revision": revision, **extra}


def row(catalog, model, key):
    with catalog.uow() as uow:
        found = uow.session.get(model, key)
        if found is None:
            return None
        return {c.name: getattr(found, c.name) for c in model.__table__.columns}


def test_an_organization_is_recorded_updated_and_deleted_in_revision_order(bus, catalog):
    bus.deliver("identity.org.created", org_event(revision=1))
    bus.deliver("identity.org.updated", org_event(revision=3, full_name="Acme Inc."))
    bus.deliver("identity.org.updated", org_event(revision=2, full_name="Acme (old)"))  # late: ignored
    org = row(catalog, Subject, "acme")
    assert (org["kind"], org["full_name"], org["revision"], org["deleted"]) == ("org", "Acme Inc.", 3, False)
    bus.deliver("identity.org.deleted", {"org_id": "oid-acme", "name": "acme", "revision": 4})
    bus.deliver("identity.org.updated", org_event(revision=3, full_name="Zombie"))
    assert row(catalog, Subject, "acme")["deleted"] is True


def test_a_deletion_arriving_before_the_creation_wins(bus, catalog):
    bus.deliver("identity.org.deleted", {"org_id": "oid-acme", "name": "acme", "revision": 2},
                time="2026-11-25T10:00:01.000Z")
    bus.deliver("identity.org.created", org_event(revision=1), time="2026-11-25T10:00:00.000Z")
    assert row(catalog, Subject, "acme")["deleted"] is True


def test_a_duplicate_event_has_one_effect(bus, catalog, api):
    api.user("olga")
    bus.deliver("identity.org.created", org_event())
    event_id = "9d2f5a56-0000-4000-8000-00000000beef"
    assert api.member("acme", "mia") == Outcome.PROCESSED
    data = {"org_id": "oid-acme", "org": "acme", "user_id": "uid-mia", "username": "mia", "revision": 2}
    assert bus.deliver("identity.member.removed", data, event_id=event_id) == Outcome.PROCESSED
    bus.deliver("identity.member.added", {**data, "role": "member", "revision": 3})
    assert bus.deliver("identity.member.removed", data, event_id=event_id) == Outcome.DUPLICATE
    assert row(catalog, Membership, ("oid-acme", "uid-mia"))["role"] == "member"


def test_membership_changes_apply_in_revision_order(bus, catalog, api):
    api.member("acme", "mia", "admin", revision=2, event="identity.member.role_changed")
    api.member("acme", "mia", "member", revision=1)  # the original "added", late
    assert row(catalog, Membership, ("oid-acme", "uid-mia"))["role"] == "admin"
    api.member("acme", "mia", revision=3, event="identity.member.removed")
    api.member("acme", "mia", "owner", revision=2, event="identity.member.role_changed")
    assert row(catalog, Membership, ("oid-acme", "uid-mia"))["role"] is None


def test_teams_carry_their_whole_member_list(bus, catalog, api):
    api.team("acme", "devs", ["mia", "max"], revision=1)
    api.team("acme", "devs", ["max", "zoe"], revision=3, event="identity.team.updated")
    api.team("acme", "devs", ["mia"], revision=2, event="identity.team.updated")  # late: ignored
    team = row(catalog, Team, ("acme", "devs"))
    assert team["members"] == ["max", "zoe"] and team["revision"] == 3


def test_a_deleted_user_loses_their_repositories_with_events(api, client, catalog):
    alice = api.user("alice")
    api.create_repo("alice", "one", alice)
    api.create_repo("alice", "two", alice, private=True)
    api.bus.deliver("identity.user.deleted", {"user_id": "uid-alice", "username": "alice"})
    assert client.get("/repos/alice/one").status_code == 404
    assert sorted(e["data"]["repo"] for e in api.events("catalog.repo.deleted")) == ["one", "two"]
    # the token of the deleted account is still valid for a while: it cannot create anything
    assert client.post("/repos/alice/three", json={}, headers=alice).status_code == 404


def test_a_name_registered_again_does_not_inherit_the_old_accounts_repositories(api, client, minter):
    api.create_repo("zed", "old", minter.headers("zed", user_id="uid-zed-1"))
    # identity deleted the first "zed" and a new person registered the name; the deletion is still in flight
    api.bus.deliver("identity.user.registered", {"user_id": "uid-zed-2", "username": "zed",
                                                 "email": "zed2@example.com", "full_name": "", "registered": None})
    assert client.get("/repos/zed/old").status_code == 404
    newcomer = minter.headers("zed", user_id="uid-zed-2")
    assert client.post("/repos/zed/new", json={}, headers=newcomer).status_code == 201
    api.bus.deliver("identity.user.deleted", {"user_id": "uid-zed-1", "username": "zed"})
    assert client.get("/repos/zed/new").status_code == 200


def test_a_deleted_organization_loses_repositories_members_and_teams(api, client, catalog):
    api.user("olga")
    api.org("acme", "olga", members=["mia"])
    api.team("acme", "devs", ["mia"])
    api.create_repo("acme", "lib", api.headers("olga"))
    api.bus.deliver("identity.org.deleted", {"org_id": "oid-acme", "name": "acme", "revision": 9})
    assert client.get("/repos/acme/lib").status_code == 404
    assert row(catalog, Membership, ("oid-acme", "uid-mia")) is None
    assert row(catalog, Team, ("acme", "devs"))["deleted"] is True
    assert client.post("/repos/acme/again", json={}, headers=api.headers("olga")).status_code == 404


def watch(api, count, time, event="social.watch.started", package="tool"):
    return api.bus.deliver(event, {"username": "bob", "owner": "alice", "repo": "main", "package": package,
                                   "watchers_count": count, "revision": 1}, time=time)


def test_followers_count_follows_the_latest_watch_event(api, client, alice):
    assert watch(api, 2, "2026-11-25T10:00:02.000Z") == Outcome.PROCESSED
    watch(api, 1, "2026-11-25T10:00:01.000Z")  # older, arriving late
    assert client.get("/packages/alice/main/tool").json["followers_count"] == 2
    watch(api, 1, "2026-11-25T10:00:03.000Z", event="social.watch.stopped")
    assert client.get("/packages/alice/main/tool").json["followers_count"] == 1
    assert watch(api, 5, "2026-11-25T10:00:04.000Z", package="unknown") == Outcome.PROCESSED  # nothing to count


def test_rating_count_follows_the_latest_review_event(api, client, alice):
    client.post("/packages/alice/main/tool/versions", json={"name": "1.0"}, headers=alice)

    def review(event, count, time, **extra):
        api.bus.deliver(event, {"username": "bob", "owner": "alice", "repo": "main", "package": "tool",
                                "rating": 4, "rating_count": count, "average_rating": 4.0, "revision": 1,
                                **extra}, time=time)

    review("social.review.posted", 3, "2026-11-25T10:00:02.000Z", version="1.0", version_rating_count=1)
    review("social.review.deleted", 9, "2026-11-25T10:00:01.000Z")
    assert client.get("/packages/alice/main/tool").json["rating_count"] == 3
    assert client.get("/packages/alice/main/tool/versions/1.0").json["rating_count"] == 1
    review("social.review.deleted", 2, "2026-11-25T10:00:05.000Z")
    assert client.get("/packages/alice/main/tool").json["rating_count"] == 2


def test_events_without_what_catalog_needs_fail_and_change_nothing(api, catalog):
    import pytest

    for event_type, data in (("identity.org.created", {"name": "x"}),
                             ("identity.member.added", {"org_id": "o", "org": "x", "user_id": "u", "username": "u",
                                                        "role": "emperor", "revision": 1}),
                             ("identity.team.created", {"subject": "x", "team": "t"}),
                             ("social.watch.started", {"owner": "a", "repo": "r", "package": "p"})):
        with pytest.raises(Exception):
            api.bus.deliver(event_type, data)
    with catalog.platform.engine.connect() as conn:
        assert conn.execute(sa.text("SELECT count(*) FROM inbox")).scalar_one() == 0
