"""Release alerts end to end through the gateway: watch, publish, and see the notification, the email,
the digest and the webhook call (verified as a Bintray receiver would) — and the faults the notifier
must survive: a failing or slow receiver, SMTP down, the notifier killed mid-fan-out, a redelivered release.

The platform under test is the session's (tests/conftest.py), whose settings these tests need: a webhook
allow-list naming only the receivers' address (127.0.0.2, so 127.0.0.1 itself stays refused), short retry
delays, small fan-out batches.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import signal
import threading
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
import sqlalchemy as sa

from packyard.events import CloudEvent
from packyard.testing import wait_for

pytestmark = pytest.mark.e2e

RECEIVER_HOST = "127.0.0.2"  # the platform's WEBHOOK_ALLOWED_TARGETS (tests/conftest.py)



class Receiver:
    """A Bintray webhook receiver on the allowed address that records calls and answers as told."""

    def __init__(self):
        self.calls, self.answers, self.lock = [], [], threading.Lock()
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):
                pass

            def do_POST(self):  # noqa: N802
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                with outer.lock:
                    outer.calls.append({"path": self.path, "headers": dict(self.headers), "body": body})
                    answer = outer.answers.pop(0) if outer.answers else 200
                if answer == "slow":
                    threading.Event().wait(3)
                    answer = 200
                self.send_response(answer)
                self.send_header("Content-Length", "2")
                self.end_headers()
                try:
                    self.wfile.write(b"ok")
                except OSError:
                    pass

        self.server = ThreadingHTTPServer((RECEIVER_HOST, 0), Handler)
        self.server.daemon_threads = True
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        self.url = f"http://{RECEIVER_HOST}:{self.server.server_address[1]}"

    def close(self):
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def receiver():
    made = Receiver()
    yield made
    made.close()


def bintray_hmac_ok(api_key: str, package: str, header: str | None) -> bool:
    """What a Bintray webhook receiver checks."""
    expected = base64.b64encode(hmac.new(api_key.encode(), package.encode(), hashlib.sha256).digest()).decode()
    return header is not None and hmac.compare_digest(expected, header)


class Publisher:
    def __init__(self, gw):
        self.gw = gw
        self.user = gw.signup(gw.unique_name("pub"))
        self.name = self.user["username"]
        self.auth = gw.api_key(self.user)
        self.api_key = self.auth[1]
        self.repo, self.package = "files", gw.unique_name("pkg")
        created = gw.post(f"/repos/{self.name}/{self.repo}", auth=self.auth, json={"type": "generic"})
        assert created.status_code in (200, 201), created.text
        package = gw.post(f"/packages/{self.name}/{self.repo}", auth=self.auth,
                          json={"name": self.package, "licenses": ["MIT"], "vcs_url": "https://example.com/x.git"})
        assert package.status_code == 201, package.text

    def release(self, version: str) -> None:
        path = f"/content/{self.name}/{self.repo}/{self.package}/{version}/{self.package}-{version}.txt?publish=1"
        answer = self.gw.request("PUT", path, auth=self.auth, data=f"release {version}".encode())
        assert answer.status_code == 201, answer.text

    def hook(self, url: str) -> None:
        answer = self.gw.post(f"/webhooks/{self.name}/{self.repo}/{self.package}", auth=self.auth,
                              json={"url": url, "method": "post"})
        assert answer.status_code in (200, 201), answer.text


def notices(gw, headers, kind="release"):
    answer = gw.get(f"/me/notifications?kind={kind}", headers=headers)
    assert answer.status_code == 200, answer.text
    return answer.json()


def watch(gw, headers, pub, kind="all"):
    answer = gw.request("PUT", f"/me/watches/{pub.name}/{pub.repo}/{pub.package}", headers=headers,
                        json={"filter": {"kind": kind}})
    assert answer.status_code == 200, answer.text


def released_to(gw, username):
    return gw.query("notifier", "SELECT count(*) FROM notifications n JOIN recipients r ON r.user_id = n.user_id "
                                "WHERE r.username = :u AND n.type = 'release'", u=username)[0][0]


def test_watch_publish_and_hear_in_the_app_by_email_and_at_the_webhook(gw, receiver):
    pub = Publisher(gw)
    pub.hook(receiver.url + "/bintray")
    fan, picky, quiet = (gw.signup(gw.unique_name(p)) for p in ("fan", "picky", "quiet"))
    fan_h, picky_h, quiet_h = gw.login(fan), gw.login(picky), gw.login(quiet)
    watch(gw, fan_h, pub)
    watch(gw, picky_h, pub, kind="stable")
    watch(gw, quiet_h, pub)
    assert gw.request("PUT", "/me/notification_settings", headers=quiet_h,
                      json={"kinds": {"release": {"email": "off"}}}).status_code == 200
    wait_for(lambda: gw.query("notifier", "SELECT count(*) FROM watches WHERE package = :p AND active",
                              p=pub.package)[0][0] == 3, timeout=15, message="the watches replicated")

    pub.release("1.0.0")
    wait_for(lambda: [n["data"]["version"] for n in notices(gw, fan_h)] == ["1.0.0"], timeout=15,
             message="the release notification")
    [note] = notices(gw, fan_h)
    assert note["title"] == f"{pub.name}/{pub.repo}/{pub.package} 1.0.0 was released" and note["read"] is False
    assert note["data"]["share_url"].startswith("https://twitter.com/intent/tweet?")
    assert gw.get("/me/notifications/unread_count", headers=fan_h).json()["unread_count"] >= 1

    mail = wait_for(lambda: [m for m in gw.mail_to(fan["email"]) if "1.0.0 was released" in m["Subject"]],
                    timeout=15, message="the release email")[0]
    assert mail["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    assert gw.url in mail.get_body(("plain",)).get_content() or "/packages/" in mail.get_body(("plain",)).get_content()
    wait_for(lambda: released_to(gw, quiet["username"]) == 1, timeout=15)
    assert not [m for m in gw.mail_to(quiet["email"]) if "released" in m["Subject"]]  # preference off

    [call] = wait_for(lambda: receiver.calls, timeout=15, message="the webhook call")
    assert json.loads(call["body"])["version"] == "1.0.0" and json.loads(call["body"])["package"] == pub.package
    assert bintray_hmac_ok(pub.api_key, pub.package, call["headers"].get("X-Bintray-Hook-Hmac"))
    assert call["headers"]["webhook-id"].startswith("msg_")

    # a pre-release reaches the fan but not the stable-only watcher
    pub.release("1.1.0-rc1")
    wait_for(lambda: len(notices(gw, fan_h)) == 2, timeout=15)
    assert [n["data"]["version"] for n in notices(gw, picky_h)] == ["1.0.0"]

    # the one-click unsubscribe link works without logging in and turns off exactly that kind
    url = mail["List-Unsubscribe"].strip("<>")
    path = url[url.index("/notifications/unsubscribe/"):]
    assert gw.post(path, data="List-Unsubscribe=One-Click",
                   headers={"Content-Type": "application/x-www-form-urlencoded"}).status_code == 200
    kinds = gw.get("/me/notification_settings", headers=fan_h).json()["kinds"]
    assert kinds["release"]["email"] == "off" and kinds["message"]["email"] == "immediate"

    deliveries = gw.get("/me/deliveries", headers=gw.login(pub.user)).json()
    assert {d["status"] for d in deliveries} == {"succeeded"} and deliveries[0]["response"]["status"] == 200


def test_a_chosen_digest_arrives_instead_of_single_emails(gw):
    pub = Publisher(gw)
    reader = gw.signup(gw.unique_name("reader"))
    headers = gw.login(reader)
    watch(gw, headers, pub)
    assert gw.request("PUT", "/me/notification_settings", headers=headers,
                      json={"kinds": {"release": {"email": "hourly"}}, "time_zone": "Europe/Paris"}).status_code == 200
    wait_for(lambda: gw.query("notifier", "SELECT count(*) FROM watches WHERE package = :p", p=pub.package)[0][0],
             timeout=15)
    pub.release("2.0.0")
    pub.release("2.0.1")
    wait_for(lambda: released_to(gw, reader["username"]) == 2, timeout=15)
    assert not [m for m in gw.mail_to(reader["email"]) if "released" in m["Subject"]]
    # an hour passes (the items are made an hour older); the worker's digest loop sends the digest
    with gw.engine("notifier").begin() as conn:
        conn.execute(sa.text("UPDATE digest_items SET created_at = created_at - interval '70 minutes' "
                             "WHERE user_id = (SELECT user_id FROM recipients WHERE username = :u)"),
                     {"u": reader["username"]})
    digest = wait_for(lambda: [m for m in gw.mail_to(reader["email"]) if "Packyard digest" in m["Subject"]], timeout=20,
                      message="the digest email")
    assert len(digest) == 1 and digest[0]["Subject"] == "Your hourly Packyard digest: 2 new notifications"
    text = digest[0].get_body(("plain",)).get_content()
    assert "2.0.0 was released" in text and "2.0.1 was released" in text


def test_a_failing_receiver_is_retried_then_deactivated_and_a_slow_one_retried(gw, receiver):
    pub = Publisher(gw)
    pub.hook(receiver.url + "/flaky")
    watcher = gw.signup(gw.unique_name("witness"))
    watch(gw, gw.login(watcher), pub)
    wait_for(lambda: gw.query("notifier", "SELECT count(*) FROM watches WHERE package = :p", p=pub.package)[0][0],
             timeout=15)
    receiver.answers = ["slow", 200]  # times out once (WEBHOOK_TIMEOUT=1), then succeeds
    pub.release("0.1.0")
    wait_for(lambda: len(receiver.calls) == 2, timeout=20, message="the retry after a timeout")
    receiver.answers = [500] * 100
    for patch in range(1, 8):
        pub.release(f"0.2.{patch}")
    headers = gw.login(pub.user)
    wait_for(lambda: notices(gw, headers, "webhook_deactivated"), timeout=60, message="the deactivation")
    assert len(receiver.calls) == 2 + 7 * 2  # every failed release tried WEBHOOK_MAX_ATTEMPTS=2 times
    wait_for(lambda: [h["failure_count"] for h in gw.get(f"/webhooks/{pub.name}/{pub.repo}", auth=pub.auth).json()]
             == [7], timeout=15, message="catalog's failure_count from the notifier's reports")
    pub.release("0.3.0")
    wait_for(lambda: released_to(gw, watcher["username"]) == 9, timeout=15, message="0.3.0 fanned out")
    assert gw.query("notifier", "SELECT count(*) FROM deliveries WHERE package = :p AND version = '0.3.0'",
                    p=pub.package)[0][0] == 0
    assert len(receiver.calls) == 2 + 7 * 2  # deactivated: not called any more


def test_mail_waits_while_smtp_is_down_and_goes_later(gw):
    pub = Publisher(gw)
    reader = gw.signup(gw.unique_name("patient"))
    watch(gw, gw.login(reader), pub)
    wait_for(lambda: gw.query("notifier", "SELECT count(*) FROM watches WHERE package = :p", p=pub.package)[0][0],
             timeout=15)
    gw.platform.stop(["smtp"])
    try:
        pub.release("3.0.0")
        wait_for(lambda: gw.query("notifier", "SELECT attempts FROM email_deliveries WHERE template = 'release' "
                                              "AND recipient = :r", r=reader["email"]), timeout=15)
        wait_for(lambda: gw.query("notifier", "SELECT attempts FROM email_deliveries WHERE recipient = :r AND "
                                              "template = 'release'", r=reader["email"])[0][0] >= 1, timeout=15)
        assert not [m for m in gw.mail_to(reader["email"]) if "released" in m["Subject"]]
    finally:
        gw.platform.start(["smtp"])
    wait_for(lambda: [m for m in gw.mail_to(reader["email"]) if "3.0.0 was released" in m["Subject"]], timeout=30,
             message="the email after SMTP came back")


def _raw_event(type_, data):
    event = CloudEvent(type=type_, source="/" + type_.split(".")[0], data=data)
    return event.id, event.to_json().encode()


def test_killed_mid_fan_out_and_a_redelivered_release_tell_everyone_once(gw):
    pub = Publisher(gw)
    tag = uuid.uuid4().hex[:6]
    names = [f"crowd{tag}{i:04d}" for i in range(400)]
    for n, name in enumerate(names):  # watchers injected on the bus as identity and social would publish them
        user_id = str(uuid.uuid5(uuid.NAMESPACE_URL, name))
        event_id, body = _raw_event("identity.user.registered", {
            "user_id": user_id, "username": name, "email": f"{name}@example.com", "full_name": name,
            "registered": "2026-11-25T10:00:00.000Z"})
        gw.publish_raw("identity.events", "identity.user.registered", body, message_id=event_id)
        event_id, body = _raw_event("social.watch.started", {
            "username": name, "owner": pub.name, "repo": pub.repo, "package": pub.package, "private": False,
            "filter": {"kind": "all", "pattern": None}, "watchers_count": n + 1, "revision": 1,
            "count_revision": n + 1})
        gw.publish_raw("social.events", "social.watch.started", body, message_id=event_id)
    wait_for(lambda: gw.query("notifier", "SELECT count(*) FROM watches w JOIN recipients r ON r.username = "
                                          "w.username WHERE w.package = :p", p=pub.package)[0][0] == 400,
             timeout=120, interval=0.5, message="400 watchers replicated")

    pub.release("9.0.0")

    def told():
        return gw.query("notifier", "SELECT count(*) FROM notifications WHERE type = 'release' AND "
                                    "data::jsonb ->> 'package' = :p", p=pub.package)[0][0]

    wait_for(lambda: told() > 0, timeout=20, interval=0.01, message="the fan-out under way")
    gw.platform.kill("notifier-worker", signal.SIGKILL)
    at_kill = told()
    gw.platform.start(["notifier-worker"])
    wait_for(lambda: told() == 400, timeout=60, interval=0.2, message="every watcher told after the restart")
    duplicates = gw.query("notifier", "SELECT user_id FROM notifications WHERE type = 'release' AND "
                                      "data::jsonb ->> 'package' = :p GROUP BY user_id HAVING count(*) > 1",
                          p=pub.package)
    assert duplicates == []
    assert 0 < at_kill < 400, f"the worker was killed after {at_kill} of 400: not mid-fan-out"

    # the broker delivers the release again: nobody is told twice
    body = gw.event_body("catalog", "catalog.version.released", f"{pub.name}/{pub.repo}/{pub.package}/9.0.0")
    gw.publish_raw("catalog.events", "catalog.version.released", body.encode(), message_id=json.loads(body)["id"])
    marker = gw.signup(gw.unique_name("marker"))  # queued behind the duplicate
    wait_for(lambda: gw.query("notifier", "SELECT count(*) FROM recipients WHERE username = :u",
                              u=marker["username"])[0][0] == 1, timeout=15)
    assert told() == 400
