"""The fan-out of releases to watchers and followers: who, once, filtered, in batches any worker can take."""

import threading

import pytest
import sqlalchemy as sa

from notifier import kinds
from notifier.consumers import FANOUT_QUEUE
from notifier.models import EmailDelivery, Notification, Watch
from packyard.consumer import Outcome


@pytest.fixture
def users(handle, identity):
    def make(*names):
        for name in names:
            handle(identity.registered(name))
    return make


def _released_to(notifications_of, names):
    return sorted(n for n in names if notifications_of(n, "release"))


@pytest.mark.parametrize("version,stable,major", [
    ("1.0.0", True, True), ("2.0", True, True), ("3", True, True), ("v4.0.0", True, True),
    ("1.2.0", True, False), ("1.0.1", True, False), ("2.0.0-rc1", False, False), ("2.0.0-1", False, False),
    ("1.0-beta2", False, False), ("1.0.0.alpha", False, False), ("3.1.dev4", False, False),
    ("1.0a1", False, False), ("2.0b3", False, False), ("1.0-SNAPSHOT", False, False), ("5.0.0.M2", False, False),
    ("1.0.0+build.5", True, True), ("2.4.1_final", True, False), ("1.0.0-preview", False, False),
])
def test_version_filters(version, stable, major):
    assert kinds.is_stable(version) is stable
    assert kinds.is_major(version) is major
    assert kinds.matches("all", None, version)
    assert kinds.matches("stable", None, version) is stable
    assert kinds.matches("major", None, version) is major


def test_regex_filter_and_unusable_patterns_match_nothing():
    assert kinds.matches("regex", r"^1\.", "1.4.0")
    assert not kinds.matches("regex", r"^1\.", "2.0.0")
    assert not kinds.matches("regex", "([unclosed", "1.0")
    assert not kinds.matches("regex", None, "1.0")


def test_a_pattern_that_backtracks_catastrophically_matches_nothing_at_once():
    answer = []
    matching = threading.Thread(target=lambda: answer.append(kinds.matches("regex", r"^(a+)+$", "a" * 40 + "!")),
                                daemon=True)
    matching.start()
    matching.join(5)
    assert not matching.is_alive() and answer == [False]


def test_watchers_and_followers_are_told_once_each_with_the_watch_filter_deciding(
        handle, users, others, notifications_of):
    users("alice", "bob", "carol", "dave", "erin", "frank")
    handle(others.watch("bob", "acme", "maven", "widget", 1))
    handle(others.watch("carol", "acme", "maven", "widget", 1, kind="stable"))
    handle(others.follow("carol", "acme", 1, followee_type="org"))  # follows too: her filter still decides
    handle(others.follow("dave", "acme", 1, followee_type="org"))
    handle(others.follow("erin", "alice", 1))  # follows the user who published
    handle(others.watch("frank", "acme", "maven", "gadget", 1))  # another package
    handle(others.watch("alice", "acme", "maven", "widget", 1))  # the publisher is not told of their own release
    handle(others.follow("bob", "acme", 2, followee_type="org"))  # watcher and follower: once

    handle(others.released("acme", "maven", "widget", "2.0.0-rc1", publisher="alice"))
    assert _released_to(notifications_of, ["alice", "bob", "carol", "dave", "erin", "frank"]) == ["bob", "dave", "erin"]

    handle(others.released("acme", "maven", "widget", "2.0.0", publisher="alice", notes="Big one"))
    assert [len(notifications_of(n, "release")) for n in ("bob", "carol", "dave", "erin")] == [2, 1, 2, 2]
    [carols] = notifications_of("carol", "release")
    assert carols.title == "acme/maven/widget 2.0.0 was released"
    assert "Big one" in carols.body
    assert carols.link == "https://packyard.example.org/ui/packages/acme/maven/widget/versions/2.0.0"
    assert carols.data["share_url"].startswith("https://twitter.com/intent/tweet?text=widget+2.0.0+is+out")


def test_major_and_regex_watches(handle, users, others, notifications_of):
    users("bob", "carol")
    handle(others.watch("bob", "acme", "maven", "widget", 1, kind="major"))
    handle(others.watch("carol", "acme", "maven", "widget", 1, kind="regex", pattern=r"^1\.4\."))
    for version in ("1.3.0", "1.4.2", "2.0.0", "2.1.0"):
        handle(others.released("acme", "maven", "widget", version, publisher="alice"))
    assert [n.data["version"] for n in notifications_of("bob", "release")] == ["2.0.0"]
    assert [n.data["version"] for n in notifications_of("carol", "release")] == ["1.4.2"]


def test_private_packages_reach_watchers_but_not_mere_followers(handle, users, others, notifications_of):
    users("bob", "carol")
    handle(others.watch("bob", "acme", "secret", "widget", 1, private=True))
    handle(others.follow("carol", "acme", 1, followee_type="org"))
    handle(others.released("acme", "secret", "widget", "1.0.0", publisher="alice", private=True))
    assert _released_to(notifications_of, ["bob", "carol"]) == ["bob"]


def test_stopped_watches_and_follows_and_late_old_events(handle, users, others, notifications_of, notifier):
    users("bob", "carol")
    handle(others.watch("bob", "acme", "maven", "widget", 1))
    handle(others.watch("bob", "acme", "maven", "widget", 2, stopped=True))
    handle(others.watch("bob", "acme", "maven", "widget", 1))  # late and older: ignored
    handle(others.follow("carol", "acme", 3, followee_type="org", stopped=True))
    handle(others.follow("carol", "acme", 2, followee_type="org"))  # older than the stop
    handle(others.released("acme", "maven", "widget", "1.0.0", publisher="alice"))
    assert _released_to(notifications_of, ["bob", "carol"]) == []
    handle(others.watch("bob", "acme", "maven", "widget", 3, kind="stable"))  # watches again, with a filter
    with notifier.uow() as uow:
        watch = uow.session.get(Watch, ("bob", "acme", "maven", "widget"))
        assert (watch.active, watch.filter_kind, watch.revision) == (True, "stable", 3)


def test_a_redelivered_release_notifies_nobody_twice(handle, users, others, notifications_of):
    users("bob")
    handle(others.watch("bob", "acme", "maven", "widget", 1))
    release = others.released("acme", "maven", "widget", "1.0.0", publisher="alice")
    assert handle(release) == Outcome.PROCESSED
    assert handle(release) == Outcome.DUPLICATE
    assert len(notifications_of("bob", "release")) == 1


def test_a_large_release_is_split_into_batches_each_idempotent(make_notifier, smtp_sink, identity, others,
                                                             notifications_of, outbox_events):
    notifier = make_notifier(smtp_port=smtp_sink.port, fanout_batch_size=3)
    queues = notifier.consumer_queues
    runner = notifier.platform.consumer(queues)

    def handle(event):
        [queue] = [q for q in queues if q.handler_for(event.type)]
        return runner.process(queue.name, event.to_json().encode())

    names = [f"user{i:02d}" for i in range(10)]
    for name in names:
        handle(identity.registered(name))
        handle(others.watch(name, "acme", "maven", "widget", 1))
    handle(others.released("acme", "maven", "widget", "1.0.0", publisher="alice"))
    told_at_once = [n for n in names if notifications_of(n, "release")]
    assert len(told_at_once) == 3  # the first batch, in the release's own transaction
    batches = outbox_events("notifier.fanout.batch_planned")
    assert [(b.data["batch"], b.data["batches"], len(b.data["recipients"])) for b in batches] == [
        (2, 4, 3), (3, 4, 3), (4, 4, 1)]
    planned = sorted(identity.user_id(n) for n in names)
    assert sorted(u for b in batches for u in b.data["recipients"]) == sorted(
        set(planned) - {identity.user_id(n) for n in told_at_once})

    # A batch handled twice (a worker killed after its commit, before its ack) notifies nobody twice;
    # a batch redone under another event id (a replay) neither.
    for batch in batches:
        assert runner.process(FANOUT_QUEUE, batch.to_json().encode()) == Outcome.PROCESSED
    assert runner.process(FANOUT_QUEUE, batches[0].to_json().encode()) == Outcome.DUPLICATE
    replay = others.event("notifier.fanout.batch_planned", batches[1].data)
    assert runner.process(FANOUT_QUEUE, replay.to_json().encode()) == Outcome.PROCESSED
    assert [len(notifications_of(n, "release")) for n in names] == [1] * 10
    with notifier.uow() as uow:
        emails = uow.session.scalar(sa.select(sa.func.count()).select_from(EmailDelivery)
                                    .where(EmailDelivery.template == "release"))
    assert emails == 10


def test_release_email_follows_the_preference_and_unknown_users_are_skipped(handle, users, others, identity,
                                                                           notifier, notifications_of):
    users("bob", "carol")
    handle(identity.preferences_changed("carol", 1, release_alerts_email=False))
    for name in ("bob", "carol", "ghost"):
        handle(others.watch(name, "acme", "maven", "widget", 1))
    handle(others.released("acme", "maven", "widget", "1.0.0", publisher="alice"))
    with notifier.uow() as uow:
        mails = uow.session.execute(sa.select(EmailDelivery.recipient, EmailDelivery.template)
                                    .where(EmailDelivery.template == "release")).all()
        count = uow.session.scalar(sa.select(sa.func.count()).select_from(Notification)
                                   .where(Notification.type == "release"))
    assert mails == [("bob@example.com", "release")]
    assert count == 2
