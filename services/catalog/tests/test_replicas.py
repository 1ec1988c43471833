"""Catalog's replicas of identity's and social's data, fed by events that arrive late, twice or out of order."""

from __future__ import annotations

import marshmallow
import pytest
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


def watch(api, username, count, count_revision, revision=1, event="social.watch.started", package="tool",
          event_id=None, time=None, **fields):
    data = {"username": username, "owner": "alice", "repo": "main", "package": package, "private": False,
            "filter": {"kind": "all", "pattern": None}, "watchers_count": count, "revision": revision,
            "count_revision": count_revision, **fields}
    return api.bus.deliver(event, {key: value for key, value in data.items() if value is not None},
                           event_id=event_id, time=time)


def review(api, username, count, average, count_revision, revision=1, event="social.review.posted",
           event_id=None, time=None, **fields):
    data = {"review_id": 1, "username": username, "owner": "alice", "repo": "main", "package": "tool",
            "rating": 4, "title": "Fine", "rating_count": count, "average_rating": average, "revision": revision,
            "count_revision": count_revision, **fields}
    data = {key: value for key, value in data.items() if value is not None or key == "average_rating"}
    return api.bus.deliver(event, data, event_id=event_id, time=time)


def package(client):
    return client.get("/packages/alice/main/tool").json


def test_two_watchers_events_out_of_order_never_move_followers_count_backwards(api, client, alice):
    # bob watched (count 1, count_revision 1), carol watched (2, 2), bob stopped (1, 3): social's order.
    # bob's stop carries HIS revision 2, carol's start her revision 1 — they say nothing about the count.
    assert watch(api, "bob", 1, 3, revision=2, event="social.watch.stopped", reason="unwatched") == Outcome.PROCESSED
    assert package(client)["followers_count"] == 1
    watch(api, "carol", 2, 2, revision=1)  # older count, higher than nothing by revision: ignored
    watch(api, "bob", 1, 1, revision=1)
    assert package(client)["followers_count"] == 1
    # a newer change by anyone applies, even though that user's own revision is low (no stall)
    watch(api, "dave", 2, 4, revision=1)
    assert package(client)["followers_count"] == 2
    assert watch(api, "eve", 5, 9, package="unknown") == Outcome.PROCESSED  # nothing to count


def test_followers_count_falls_back_to_revision_without_count_revision(api, client, alice):
    watch(api, "bob", 3, None, revision=5)
    watch(api, "bob", 2, None, revision=4)  # late
    assert package(client)["followers_count"] == 3
    watch(api, "bob", 1, None, revision=6, event="social.watch.stopped")
    assert package(client)["followers_count"] == 1


def test_two_reviewers_events_out_of_order_never_move_ratings_backwards(api, client, alice):
    assert package(client)["rating"] == 0 and package(client)["rating_count"] == 0
    # social's order: bob posts 4 (1 rating, avg 4.0, count_revision 1), carol posts 2 (2, 3.0, 2),
    # bob updates to 5 (2, 3.5, 3), carol deletes (1, 5.0, 4). Delivered: 3, 1, 4, 2.
    review(api, "bob", 2, 3.5, 3, revision=2, event="social.review.updated")
    assert (package(client)["rating"], package(client)["rating_count"]) == (3.5, 2)
    review(api, "bob", 1, 4.0, 1, revision=1)
    assert (package(client)["rating"], package(client)["rating_count"]) == (3.5, 2)
    review(api, "carol", 1, 5.0, 4, revision=2, event="social.review.deleted")  # carol's revision is low: still newer
    assert (package(client)["rating"], package(client)["rating_count"]) == (5.0, 1)
    review(api, "carol", 2, 3.0, 2, revision=1)
    body = package(client)
    assert (body["rating"], body["rating_count"]) == (5.0, 1)
    assert list(body).index("rating") < list(body).index("rating_count")
    # the last review goes: no ratings, rating back to 0 (social sends average_rating null)
    review(api, "bob", 0, None, 5, revision=3, event="social.review.deleted")
    assert (package(client)["rating"], package(client)["rating_count"]) == (0, 0)
    review(api, "dave", 1, 3.0, 6)
    found = client.get("/search/packages?name=tool&subject=alice").json
    assert [(p["name"], p["rating"], p["rating_count"]) for p in found] == [("tool", 3.0, 1)]


def test_a_redelivered_counter_event_has_no_second_effect(api, client, alice):
    event_id = "9d2f5a56-0000-4000-8000-00000000c0de"
    assert review(api, "bob", 1, 4.0, 1, event_id=event_id) == Outcome.PROCESSED
    review(api, "bob", 0, None, 2, revision=2, event="social.review.deleted")
    assert review(api, "bob", 1, 4.0, 1, event_id=event_id) == Outcome.DUPLICATE
    assert (package(client)["rating"], package(client)["rating_count"]) == (0, 0)
    watch_id = "9d2f5a56-0000-4000-8000-00000000c0df"
    assert watch(api, "bob", 1, 1, event_id=watch_id) == Outcome.PROCESSED
    watch(api, "bob", 0, 2, revision=2, event="social.watch.stopped")
    assert watch(api, "bob", 1, 1, event_id=watch_id) == Outcome.DUPLICATE
    assert package(client)["followers_count"] == 0
    # the same change delivered again under another id (a re-publication) changes nothing either
    review(api, "carol", 1, 2.0, 3)
    review(api, "carol", 1, 2.0, 3)
    assert (package(client)["rating"], package(client)["rating_count"]) == (2.0, 1)


def test_version_rating_counts_still_follow_event_time(api, client, alice):
    client.post("/packages/alice/main/tool/versions", json={"name": "1.0"}, headers=alice)
    review(api, "bob", 1, 4.0, 1, version="1.0", version_rating_count=1, time="2026-11-25T10:00:02.000Z")
    review(api, "bob", 0, None, 2, event="social.review.deleted", version="1.0", version_rating_count=0,
           time="2026-11-25T10:00:01.000Z")
    assert client.get("/packages/alice/main/tool/versions/1.0").json["rating_count"] == 1


def test_events_without_what_catalog_needs_fail_and_change_nothing(api, catalog):
    for event_type, data in (("identity.org.created", {"name": "x"}),
                             ("identity.member.added", {"org_id": "o", "org": "x", "user_id": "u", "username": "u",
                                                        "role": "emperor", "revision": 1}),
                             ("identity.team.created", {"subject": "x", "team": "t"}),
                             ("social.watch.started", {"owner": "a", "repo": "r", "package": "p"})):
        with pytest.raises(marshmallow.ValidationError):
            api.bus.deliver(event_type, data)
    with catalog.platform.engine.connect() as conn:
        assert conn.execute(sa.text("SELECT count(*) FROM inbox")).scalar_one() == 0
