"""Identity's consumers keep ``repos`` and ``followers_count`` from catalog's and social's events.

One test runs the real worker against RabbitMQ; the ordering rules are checked by handing
messages to the same runner directly (``ConsumerRunner.process``).
"""

import threading

import marshmallow
import pika
import pytest

from identity.consumers import QUEUES
from packyard.events import CONTENT_TYPE, CloudEvent
from packyard.testing import wait_for

QUEUE = "identity.subject-counters"


def event(type_, data, time=None, **kwargs):
    source = "/" + type_.split(".")[0]
    return CloudEvent(type=type_, source=source, data=data, **({"time": time} if time else {}), **kwargs)


def follow(followee, count, revision, type_="social.follow.started", **kwargs):
    return event(type_, {"follower": "someone", "followee": followee, "followers_count": count,
                         "revision": revision}, **kwargs)


def repo(type_, owner, name, private=False, **kwargs):
    return event(type_, {"owner": owner, "repo": name, "type": "maven", "private": private}, **kwargs)


@pytest.fixture
def runner(identity):
    return identity.platform.consumer(QUEUES)


def handle(runner, *events):
    return [runner.process(QUEUE, e.to_json().encode()) for e in events]


def test_the_worker_applies_follow_and_repo_events_from_the_bus(api, identity, fresh_amqp_url, settings_for):
    from identity.bootstrap import bootstrap

    api.signup("alice")
    worker = bootstrap(settings_for(identity.settings.database_url, amqp_url=fresh_amqp_url),
                       passwords=identity.passwords)
    runner = worker.platform.consumer(worker.consumer_queues)
    thread = threading.Thread(target=runner.run)
    thread.start()
    try:
        wait_for(runner.connected.is_set, timeout=15, message="worker connected")
        connection = pika.BlockingConnection(pika.URLParameters(fresh_amqp_url))
        channel = connection.channel()
        channel.confirm_delivery()
        for exchange, e in (("social.events", follow("alice", 3, 7)),
                            ("catalog.events", repo("catalog.repo.created", "alice", "maven"))):
            channel.basic_publish(exchange, e.type, e.to_json().encode(), pika.BasicProperties(
                content_type=CONTENT_TYPE, message_id=e.id, type=e.type, delivery_mode=2), mandatory=True)
        connection.close()
        wait_for(lambda: api.client.get("/users/alice").json["followers_count"] == 3, timeout=15)
        wait_for(lambda: api.client.get("/users/alice").json["repos"] == ["maven"], timeout=15)
    finally:
        runner.stop()
        thread.join(20)
        worker.platform.engine.dispose()


def test_follower_counts_follow_the_highest_revision(api, runner):
    api.signup("alice")
    me = api.user("bob")
    api.client.post("/orgs", headers=me, json={"name": "wonderland"})
    assert handle(runner, follow("alice", 2, 5), follow("alice", 1, 4, type_="social.follow.stopped"),
                  follow("wonderland", 9, 1)) == ["processed"] * 3
    assert api.client.get("/users/alice").json["followers_count"] == 2
    assert api.client.get("/orgs/wonderland").json["followers_count"] == 9
    handle(runner, follow("alice", 1, 6, type_="social.follow.stopped"))
    assert api.client.get("/users/alice").json["followers_count"] == 1


def test_two_followers_never_make_the_count_go_backwards_or_stall(api, runner):
    """Each follower's own ``revision`` starts at 1; the followee's ``count_revision`` orders the count."""
    api.signup("alice")

    def changed(follower, count, revision, count_revision, type_="social.follow.started"):
        return event(type_, {"follower": follower, "followee": "alice", "followee_type": "user",
                             "followers_count": count, "revision": revision, "count_revision": count_revision})

    bob_follows, carol_follows = changed("bob", 1, 1, 1), changed("carol", 2, 1, 2)
    bob_leaves = changed("bob", 1, 2, 3, type_="social.follow.stopped")
    # delivered out of order: carol's follow (count 2) after bob left (count 1), bob's follow last
    assert handle(runner, bob_leaves, carol_follows, bob_follows) == ["processed"] * 3
    assert api.client.get("/users/alice").json["followers_count"] == 1
    dave_follows = changed("dave", 2, 1, 4)  # a new follower's first revision (1) still moves the count
    handle(runner, dave_follows)
    assert api.client.get("/users/alice").json["followers_count"] == 2


def test_a_redelivered_event_has_no_second_effect(api, runner):
    api.signup("alice")
    created = repo("catalog.repo.created", "alice", "maven", time="2026-01-01T00:00:00.000Z")
    deleted = repo("catalog.repo.deleted", "alice", "maven", time="2026-01-01T00:00:01.000Z")
    assert handle(runner, created, deleted, created) == ["processed", "processed", "duplicate"]
    assert api.client.get("/users/alice").json["repos"] == []


def test_a_late_repo_event_does_not_undo_a_newer_one(api, runner):
    me = api.user("alice")
    newer_delete = repo("catalog.repo.deleted", "alice", "old", time="2026-01-01T00:00:05.000Z")
    older_create = repo("catalog.repo.created", "alice", "old", time="2026-01-01T00:00:01.000Z")
    private = repo("catalog.repo.updated", "alice", "secret", private=True, time="2026-01-01T00:00:02.000Z")
    stale_public = repo("catalog.repo.created", "alice", "secret", time="2026-01-01T00:00:01.000Z")
    handle(runner, newer_delete, older_create, private, stale_public)
    assert api.client.get("/users/alice").json["repos"] == []
    assert api.client.get("/users/alice", headers=me).json["repos"] == ["secret"]
    recreated = repo("catalog.repo.created", "alice", "old", time="2026-01-01T00:00:09.000Z")
    handle(runner, recreated)
    assert api.client.get("/users/alice").json["repos"] == ["old"]


def test_catalog_revisions_win_over_times_when_present(api, runner):
    api.signup("alice")
    first = event("catalog.repo.updated", {"owner": "alice", "repo": "r", "private": False, "revision": 2},
                  time="2026-01-01T00:00:09.000Z")
    second = event("catalog.repo.updated", {"owner": "alice", "repo": "r", "private": True, "revision": 3},
                   time="2026-01-01T00:00:01.000Z")
    handle(runner, first, second)
    assert api.client.get("/users/alice").json["repos"] == []  # revision 3 (private) won


def test_events_about_unknown_subjects_are_ignored_and_bad_ones_refused(api, runner):
    assert handle(runner, follow("nobody", 4, 1)) == ["processed"]
    with pytest.raises(marshmallow.ValidationError):
        handle(runner, event("social.follow.started", {"followee": "alice"}))


def grant(owner, repo_name, team, permission, revision, type_="catalog.permission.set"):
    data = {"owner": owner, "repo": repo_name, "team": team, "revision": revision}
    if permission:
        data["permission"] = permission
    return event(type_, data)


def test_team_json_shows_the_repositories_catalog_granted_to_the_team(api, runner):
    me = api.user("alice")
    api.user("bob")
    assert api.client.post("/orgs", headers=me, json={"name": "wonderland"}).status_code == 201
    api.client.post("/orgs/wonderland/members", headers=me, json={"username": "bob", "role": "member"})
    assert api.client.post("/orgs/wonderland/teams", headers=me,
                           json={"name": "devs", "members": ["bob"]}).status_code == 201
    handle(runner, repo("catalog.repo.created", "wonderland", "maven"),
           repo("catalog.repo.created", "wonderland", "npm"),
           grant("wonderland", "maven", "devs", "publish", 1), grant("wonderland", "npm", "devs", "read", 1),
           grant("wonderland", "maven", "devs", "admin", 2),
           grant("wonderland", "npm", "devs", None, 2, type_="catalog.permission.removed"),
           grant("wonderland", "npm", "devs", "read", 1))  # late and older than the removal: ignored
    team = api.client.get("/orgs/wonderland/teams/devs", headers=me).json
    assert team["permitted_repos"] == {"maven": "admin"}
    assert list(team)[:3] == ["name", "members", "permitted_repos"]  # Bintray's key order
    handle(runner, repo("catalog.repo.deleted", "wonderland", "maven"))
    assert api.client.get("/orgs/wonderland/teams/devs", headers=me).json["permitted_repos"] == {}
