"""Preferences per kind and channel, release emails, digests, one-click unsubscribe, news and suspended addresses."""

import re
from datetime import UTC, datetime, timedelta

import pytest
import sqlalchemy as sa

from notifier import digests
from notifier.models import DigestItem, EmailDelivery, News, Recipient
from notifier.notify import Notice, tell

NOW = datetime(2026, 11, 25, 10, 30, tzinfo=UTC)


@pytest.fixture
def me(as_user):
    return as_user("bob")


@pytest.fixture
def bob(handle, identity, others):
    handle(identity.registered("bob"))
    handle(others.watch("bob", "acme", "maven", "widget", 1))


def test_settings_have_the_seed_defaults_and_change_per_kind_and_channel(client, bob, me, handle, identity):
    settings = client.get("/me/notification_settings", headers=me)
    assert settings.status_code == 200
    kinds = settings.json["kinds"]
    assert kinds["release"] == {"in_app": True, "email": "immediate", "description": kinds["release"]["description"]}
    assert kinds["news"]["email"] == "off" and kinds["message"]["email"] == "immediate"
    assert set(kinds) >= {"release", "message", "review", "comment", "review_reply", "follower", "claim",
                          "inclusion", "webhook_deactivated", "signing_failed", "key_expiring", "news"}
    assert settings.json["time_zone"] is None and settings.json["email_suspended"] is False

    changed = client.put("/me/notification_settings", headers=me, json={
        "kinds": {"release": {"email": "daily"}, "follower": {"in_app": False}}, "time_zone": "Europe/Paris"})
    assert changed.status_code == 200
    assert changed.json["kinds"]["release"]["email"] == "daily" and changed.json["kinds"]["release"]["in_app"]
    assert changed.json["kinds"]["follower"]["in_app"] is False and changed.json["time_zone"] == "Europe/Paris"

    for bad in ({"kinds": {"nonsense": {"email": "off"}}}, {"kinds": {"release": {"email": "sometimes"}}},
                {"time_zone": "Mars/Olympus"}, {"kinds": {"release": {"in_app": "maybe"}}}, {"kinds": []}):
        response = client.put("/me/notification_settings", headers=me, json=bad)
        assert response.status_code == 400, bad
        assert response.json["message"]
    assert client.get("/me/notification_settings", headers=me).json == changed.json  # unchanged by bad input

    # identity's checkbox changes the release email; an unchanged checkbox leaves the choice alone
    handle(identity.preferences_changed("bob", 1, release_alerts_email=True, show_email=True))
    assert client.get("/me/notification_settings", headers=me).json["kinds"]["release"]["email"] == "daily"
    handle(identity.preferences_changed("bob", 2, release_alerts_email=False))
    assert client.get("/me/notification_settings", headers=me).json["kinds"]["release"]["email"] == "off"


def test_kind_filter_unread_count_and_reading(client, bob, me, handle, others):
    handle(others.released("acme", "maven", "widget", "1.0.0", publisher="alice"))
    handle(others.released("acme", "maven", "widget", "1.1.0", publisher="alice"))
    assert client.get("/me/notifications/unread_count", headers=me).json == {"unread_count": 3}
    releases = client.get("/me/notifications?kind=release", headers=me).json
    assert [n["data"]["version"] for n in releases] == ["1.1.0", "1.0.0"]
    assert releases[0]["link"].endswith("/ui/packages/acme/maven/widget/versions/1.1.0")
    both = client.get("/me/notifications?kind=release,welcome", headers=me)
    assert both.headers["X-RangeLimit-Total"] == "3"
    bad = client.get("/me/notifications?kind=bogus", headers=me)
    assert bad.status_code == 400 and "bogus" in bad.json["message"]
    client.post(f"/me/notifications/{releases[0]['id']}/read", headers=me)
    assert client.get("/me/notifications/unread_count", headers=me).json == {"unread_count": 2}
    client.post("/me/notifications/read_all", headers=me)
    assert client.get("/me/notifications/unread_count", headers=me).json == {"unread_count": 0}
    assert client.get("/me/notifications/unread_count").status_code == 401


def test_the_release_email_is_multipart_with_links_and_one_click_unsubscribe(client, bob, handle, others, send_due,
                                                                              smtp_sink, me):
    handle(others.released("acme", "maven", "widget", "1.0.0", publisher="alice", notes="Shiny <b>new</b>"))
    send_due()
    mail = smtp_sink.wait_for(lambda m: m["Subject"] == "widget 1.0.0 was released")
    assert mail.get_content_type() == "multipart/alternative"
    text = mail.get_body(("plain",)).get_content()
    html = mail.get_body(("html",)).get_content()
    assert "https://packyard.example.org/ui/packages/acme/maven/widget/versions/1.0.0" in text
    assert 'href="https://packyard.example.org/ui/packages/acme/maven/widget/versions/1.0.0"' in html
    # the web app's pages, not API paths: the package's version page and the notification settings page
    assert "https://packyard.example.org/ui/settings/notifications" in text
    assert 'href="https://packyard.example.org/ui/settings/notifications"' in html
    assert "/me/notification_settings" not in text + html
    assert "Shiny <b>new</b>" in text and "Shiny &lt;b&gt;new&lt;/b&gt;" in html
    assert mail["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    url = re.fullmatch(r"<(.+)>", mail["List-Unsubscribe"]).group(1)
    assert url.startswith("https://packyard.example.org/notifications/unsubscribe/")
    path = url[len("https://packyard.example.org"):]

    page = client.get(path)  # no login; a GET only asks
    assert page.status_code == 200 and "Unsubscribe" in page.get_data(as_text=True)
    assert client.get("/me/notification_settings", headers=me).json["kinds"]["release"]["email"] == "immediate"
    done = client.post(path, data="List-Unsubscribe=One-Click", content_type="application/x-www-form-urlencoded")
    assert done.status_code == 200
    after = client.get("/me/notification_settings", headers=me).json["kinds"]
    assert after["release"] == {**after["release"], "email": "off", "in_app": True}
    assert after["message"]["email"] == "immediate"  # exactly that kind
    assert client.post(path[:-3] + "xyz").status_code == 404
    assert client.post("/notifications/unsubscribe/garbage").status_code == 404

    handle(others.released("acme", "maven", "widget", "1.1.0", publisher="alice"))
    send_due()
    assert not smtp_sink.find(lambda m: m["Subject"] == "widget 1.1.0 was released")


def test_digest_due_times_follow_the_time_zone():
    at = datetime(2026, 11, 25, 10, 30, tzinfo=UTC)  # a Wednesday
    assert digests.due_at("hourly", at, None) == datetime(2026, 11, 25, 11, 0, tzinfo=UTC)
    assert digests.due_at("daily", at, None) == datetime(2026, 11, 26, 8, 0, tzinfo=UTC)
    assert digests.due_at("daily", at, "Asia/Tokyo") == datetime(2026, 11, 25, 23, 0, tzinfo=UTC)
    assert digests.due_at("weekly", at, "Europe/Paris") == datetime(2026, 11, 30, 7, 0, tzinfo=UTC)
    assert digests.due_at("daily", at, "Not/AZone") == datetime(2026, 11, 26, 8, 0, tzinfo=UTC)


def test_a_daily_digest_lists_everything_since_the_last_one_once(client, bob, me, handle, others, notifier, send_due,
                                                               smtp_sink):
    client.put("/me/notification_settings", headers=me, json={"kinds": {"release": {"email": "daily"}}})
    handle(others.released("acme", "maven", "widget", "1.0.0", publisher="alice"))
    handle(others.released("acme", "maven", "widget", "1.1.0", publisher="alice"))
    send_due()
    assert not smtp_sink.find(lambda m: "released" in m["Subject"])  # no immediate email
    with notifier.uow() as uow:
        oldest = uow.session.scalar(sa.select(sa.func.min(DigestItem.created_at)))
        assert digests.send_due_digests(uow, now=oldest + timedelta(minutes=1)) == 0  # not due yet
        # two days later (the items are made two days older, so that the email is due by the real clock)
        uow.session.execute(sa.update(DigestItem).values(created_at=DigestItem.created_at - timedelta(days=2)))
        now = datetime.now(UTC)
        assert digests.send_due_digests(uow, now=now) == 1
        assert digests.send_due_digests(uow, now=now) == 0  # sent once
        uow.commit()
    send_due()
    mail = smtp_sink.wait_for(lambda m: "digest" in m["Subject"])
    assert mail["Subject"] == "Your daily Packyard digest: 2 new notifications"
    text = mail.get_body(("plain",)).get_content()
    assert "widget 1.0.0 was released" in text and "widget 1.1.0 was released" in text
    assert mail["List-Unsubscribe"]
    url = re.fullmatch(r"<(.+)>", mail["List-Unsubscribe"]).group(1)
    client.post(url[len("https://packyard.example.org"):])
    assert client.get("/me/notification_settings", headers=me).json["kinds"]["release"]["email"] == "off"


def test_news_is_admin_only_bounded_and_resumable_without_sending_twice(client, handle, identity, minter, notifier,
                                                                       send_due, smtp_sink):
    for i in range(5):
        handle(identity.registered(f"reader{i}"))
        handle(identity.preferences_changed(f"reader{i}", 1, news_email=(i != 3)))
    user = minter.headers("reader0", user_id=identity.user_id("reader0"))
    assert client.post("/admin/news", headers=user, json={"subject": "Hi", "body": "x"}).status_code == 403
    admin = minter.headers("root", user_id=identity.user_id("root"), admin=True)
    assert client.post("/admin/news", headers=admin, json={"subject": "", "body": "x"}).status_code == 400
    assert client.post("/admin/news", headers=admin, json={"body": "x"}).status_code == 400
    posted = client.post("/admin/news", headers=admin, json={"subject": "Packyard 2", "body": "Now with fan-out."})
    assert posted.status_code == 202 and posted.json["sent"] == 0

    with notifier.uow() as uow:
        assert digests.news_step(uow, now=NOW, count=2) == 2
        uow.commit()
    with notifier.uow() as uow:  # a worker that died here loses nothing: the next step goes on after the cursor
        assert digests.news_step(uow, now=NOW, count=2) == 2
        # ... and a step that runs again (crash after queueing, before recording) mails nobody twice
        news = uow.session.scalars(sa.select(News)).one()
        news.cursor = None
        uow.commit()
    with notifier.uow() as uow:
        while digests.news_step(uow, now=NOW, count=2) == 2:
            pass
        uow.commit()
    send_due()
    got = sorted(m["To"] for m in smtp_sink.messages if m["Subject"] == "Packyard 2")
    assert got == [f"reader{i}@example.com" for i in (0, 1, 2, 4)]
    [listed] = client.get("/admin/news", headers=admin).json
    assert listed["finished"] is not None and listed["sent"] >= 5


def test_a_permanently_refused_address_gets_no_more_mail_until_it_changes(bob, handle, identity, others, notifier,
                                                                         send_due, smtp_sink, client, me):
    from notifier.mail.transport import SendFailure

    class Refusing:
        def connect(self):
            return self

        def send(self, message):
            raise SendFailure("recipient refused (550)", permanent=True)

        def close(self):
            pass

    notifier.mail_sender(transport=Refusing()).run_once()  # the welcome email bounces
    assert client.get("/me/notification_settings", headers=me).json["email_suspended"] is True
    handle(others.released("acme", "maven", "widget", "1.0.0", publisher="alice"))
    send_due()
    assert not smtp_sink.find(lambda m: "released" in m["Subject"])
    handle(identity.email_changed("bob", "bob@new.example.com", "bob@example.com"))
    assert client.get("/me/notification_settings", headers=me).json["email_suspended"] is False
    handle(others.released("acme", "maven", "widget", "1.1.0", publisher="alice"))
    send_due()
    smtp_sink.wait_for(lambda m: m["Subject"] == "widget 1.1.0 was released" and m["To"] == "bob@new.example.com")


def test_every_kind_of_notice_reaches_the_right_people(handle, identity, others, notifications_of, notifier):
    for name in ("alice", "bob", "carol", "olga"):
        handle(identity.registered(name))
    handle(others.event("identity.org.created", {"org_id": "o1", "name": "acme", "full_name": "ACME", "owner": "olga",
                                                 "owner_id": identity.user_id("olga"), "revision": 1}))
    handle(others.event("social.message.sent", {"message_id": 1, "conversation_with": "bob", "sender": "bob",
                                                "recipient": "alice", "subject": "Hi", "body": "Hello!",
                                                "sent": "2026-11-25T10:00:00.000Z"}))
    handle(others.event("social.review.posted", {"review_id": 1, "username": "bob", "owner": "alice", "repo": "maven",
                                                 "package": "widget", "rating": 4, "title": "Good",
                                                 "rating_count": 1, "average_rating": 4.0, "revision": 1,
                                                 "count_revision": 1}))
    handle(others.event("social.comment.posted", {"comment_id": 1, "username": "carol", "owner": "acme",
                                                  "repo": "maven", "package": "gadget", "version": "1.0",
                                                  "body": "Nice"}))
    handle(others.event("social.review.replied", {"review_id": 1, "owner": "alice", "repo": "maven",
                                                  "package": "widget", "reviewer": "bob", "replier": "alice",
                                                  "body": "Thanks"}))
    handle(others.follow("carol", "alice", 1))
    handle(others.follow("carol", "alice", 1))  # same revision again: not a new follower
    handle(others.event("catalog.claim.filed", {"owner": "alice", "repo": "maven", "private": False,
                                                "package": "widget", "claim_id": 7, "claimant": "carol",
                                                "recipients": ["alice"], "reason": "I wrote it",
                                                "target_owner": "carol", "target_repo": "libs",
                                                "answer_due": "2026-12-09T10:00:00.000Z"}))
    handle(others.event("catalog.claim.decided", {"owner": "alice", "repo": "maven", "private": False,
                                                  "package": "widget", "claim_id": 7, "claimant": "carol",
                                                  "recipients": ["alice", "carol"], "decision": "approved",
                                                  "by": "root", "reason": "ok"}))
    handle(others.event("catalog.inclusion.requested", {"owner": "bob", "repo": "maven", "private": False,
                                                        "package": "tool", "request_id": 3, "target_owner": "acme",
                                                        "target_repo": "center", "target_private": False,
                                                        "requester": "bob", "recipients": ["olga"],
                                                        "message": "Please"}))
    handle(others.event("signing.version.signing_failed", {"owner": "alice", "repo": "maven", "package": "widget",
                                                           "version": "1.0", "private": False,
                                                           "reason": "no passphrase", "recipients": ["alice"],
                                                           "automatic": True, "failed": "2026-11-25T10:00:00.000Z"}))
    soon = (datetime.now(UTC) + timedelta(days=10)).strftime("%Y-%m-%dT%H:%M:%S.000Z")
    later = (datetime.now(UTC) + timedelta(days=300)).strftime("%Y-%m-%dT%H:%M:%S.000Z")
    handle(others.event("signing.key.uploaded", {"subject": "bob", "subject_type": "user", "fingerprint": "A" * 40,
                                                 "key_id": "A" * 16, "has_private_key": False,
                                                 "created": "2026-01-01T00:00:00.000Z", "expires": soon}))
    handle(others.event("signing.key.uploaded", {"subject": "acme", "subject_type": "org", "fingerprint": "B" * 40,
                                                 "key_id": "B" * 16, "has_private_key": False,
                                                 "created": "2026-01-01T00:00:00.000Z", "expires": later}))
    from notifier.activity import warn_expiring_keys
    for _ in range(2):
        with notifier.uow() as uow:
            warn_expiring_keys(uow, base="https://packyard.example.org", now=datetime.now(UTC))
            uow.commit()

    def kinds_of(name):
        return sorted(n.type for n in notifications_of(name) if n.type != "welcome")

    assert kinds_of("alice") == ["claim", "claim", "follower", "message", "review", "signing_failed"]
    assert kinds_of("bob") == ["key_expiring", "review_reply"]
    assert kinds_of("carol") == ["claim"]
    assert kinds_of("olga") == ["comment", "inclusion"]
    [message] = notifications_of("alice", "message")
    assert message.link == "https://packyard.example.org/ui/messages/bob"
    with notifier.uow() as uow:
        templates = sorted(uow.session.scalars(sa.select(EmailDelivery.template).where(
            EmailDelivery.template != "welcome")))
    # email defaults: messages, claims, inclusion requests, signing failures and expiring keys
    assert templates == ["claim", "claim", "claim", "inclusion", "key_expiring", "message", "signing_failed"]


def test_a_notice_email_renders_for_every_kind(notifier, handle, identity, send_due, smtp_sink):
    handle(identity.registered("bob"))
    with notifier.uow() as uow:
        for kind in ("review", "comment", "review_reply", "follower", "claim", "inclusion", "webhook_deactivated",
                     "signing_failed", "key_expiring"):
            uow.session.execute(sa.text("INSERT INTO notification_settings VALUES (:u, :k, true, 'immediate')"),
                                {"u": identity.user_id("bob"), "k": kind})
            tell(uow, Notice(kind=kind, event_id=f"e-{kind}", title=f"About {kind}", body="Details <here>",
                             link="https://packyard.example.org/x"), ["bob"], now=NOW)
        uow.commit()
    send_due()
    for kind in ("review", "signing_failed", "key_expiring"):
        mail = smtp_sink.wait_for(lambda m, k=kind: m["Subject"] == f"About {k}")
        assert "Details <here>" in mail.get_body(("plain",)).get_content()
        assert "Details &lt;here&gt;" in mail.get_body(("html",)).get_content()
    with notifier.uow() as uow:
        statuses = set(uow.session.scalars(sa.select(EmailDelivery.status)))
        assert statuses == {"sent"}
        assert uow.session.get(Recipient, identity.user_id("bob")).email_bounced_at is None


def test_a_message_copy_links_back_to_the_conversation(handle, identity, others, send_due, smtp_sink):
    handle(identity.registered("alice"))
    handle(others.event("social.message.sent", {"message_id": 9, "conversation_with": "bob", "sender": "bob",
                                                "recipient": "alice", "subject": "Widget <help>",
                                                "body": "Does it <work>?", "sent": "2026-11-25T10:00:00.000Z"}))
    send_due()
    mail = smtp_sink.wait_for(lambda m: m["Subject"] == "Message from bob: Widget <help>")
    text, html = mail.get_body(("plain",)).get_content(), mail.get_body(("html",)).get_content()
    assert 'bob sent you a message "Widget <help>"' in text and "Does it <work>?" in text
    assert "https://packyard.example.org/ui/messages/bob" in text
    assert "&ldquo;Widget &lt;help&gt;&rdquo;" in html and "Does it &lt;work&gt;?" in html
    assert 'href="https://packyard.example.org/ui/messages/bob"' in html
    assert mail["List-Unsubscribe"]
