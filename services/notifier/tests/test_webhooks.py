"""Webhook calls as Bintray made them, through netguard, to a real HTTP receiver on 127.0.0.1."""

import base64
import hashlib
import hmac
import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
import sqlalchemy as sa

from notifier.app import create_app
from notifier.models import Delivery, Webhook
from packyard.testing import wait_for

SECRET = "whsec_" + base64.b64encode(b"0123456789abcdef01234567").decode()
API_KEY = "3f1c2b0a9d8e7f6a5b4c3d2e1f0a9b8c7d6e5f4a"


class Receiver:
    """A local HTTP server that records calls and answers as told (``answers``: statuses, 'slow')."""

    def __init__(self):
        self.calls = []
        self.answers = []
        self.lock = threading.Lock()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):
                pass

            def _handle(self):
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                with receiver.lock:
                    receiver.calls.append({"method": self.command, "path": self.path,
                                           "headers": dict(self.headers), "body": body})
                    answer = receiver.answers.pop(0) if receiver.answers else 200
                if answer == "slow":
                    threading.Event().wait(2)
                    answer = 200
                payload = b'{"received": true}'
                self.send_response(answer)
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                try:
                    self.wfile.write(payload)
                except OSError:
                    pass

            do_POST = do_PUT = do_GET = _handle

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    @property
    def url(self):
        return f"http://127.0.0.1:{self.server.server_address[1]}"

    def close(self):
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def receiver():
    made = Receiver()
    yield made
    made.close()


@pytest.fixture
def hooked(make_notifier, smtp_sink):
    return make_notifier(smtp_port=smtp_sink.port, webhook_allowed_targets=("127.0.0.1",), webhook_retry_delay=0.02,
                         webhook_retry_max_delay=0.05, webhook_max_attempts=3, webhook_timeout=0.5)


@pytest.fixture
def run(hooked):
    queues = hooked.consumer_queues
    runner = hooked.platform.consumer(queues)

    def handle(event):
        [queue] = [q for q in queues if q.handler_for(event.type)]
        return runner.process(queue.name, event.to_json().encode())
    return handle


@pytest.fixture
def send(hooked):
    """Run the delivery sender until nothing is pending (retries included)."""
    sender = hooked.delivery_sender()

    def pending():
        with hooked.uow() as uow:
            return uow.session.scalar(sa.select(sa.func.count()).select_from(Delivery)
                                      .where(Delivery.status == "pending"))

    def go():
        wait_for(lambda: (sender.run_once(), pending())[1] == 0, timeout=15, interval=0.02)
    return go


def _deliveries(hooked):
    with hooked.uow() as uow:
        return [dict(r._mapping) for r in uow.session.execute(
            sa.select(Delivery.__table__).order_by(Delivery.created_at))]


def verify_standard(secret, headers, body):
    key = base64.b64decode(secret[len("whsec_"):])
    signed = f"{headers['webhook-id']}.{headers['webhook-timestamp']}.{body.decode()}".encode()
    expected = base64.b64encode(hmac.new(key, signed, hashlib.sha256).digest()).decode()
    return f"v1,{expected}" in headers["webhook-signature"].split(" ")


def test_a_release_calls_the_webhook_as_bintray_did(run, send, others, identity, receiver, hooked, outbox_events):
    run(identity.registered("alice"))
    run(others.api_key_issued("alice", API_KEY))
    run(others.webhook_registered("alice", "maven", "widget", "alice", receiver.url + "/hook", secret=SECRET))
    run(others.released("alice", "maven", "widget", "1.2.0", notes="Fixes"))
    send()
    [call] = receiver.calls
    assert call["method"] == "POST" and call["path"] == "/hook"
    assert json.loads(call["body"]) == {"package": "widget", "version": "1.2.0",
                                        "released": "2026-11-25T10:02:00.000Z", "release_notes": "Fixes"}
    # As a Bintray receiver checks it: base64 HMAC-SHA256 of the package name keyed by the API key.
    expected = base64.b64encode(hmac.new(API_KEY.encode(), b"widget", hashlib.sha256).digest()).decode()
    assert call["headers"]["X-Bintray-Hook-Hmac"] == expected
    assert verify_standard(SECRET, call["headers"], call["body"])
    [delivery] = _deliveries(hooked)
    assert call["headers"]["webhook-id"] == delivery["message_id"]
    assert (delivery["status"], delivery["attempts"], delivery["response_status"]) == ("succeeded", 1, 200)
    [succeeded] = outbox_events("notifier.webhook_delivery.succeeded")
    assert succeeded.data["url"] == receiver.url + "/hook" and succeeded.data["failure_count"] == 0


def test_failures_are_retried_then_count_and_seven_failed_releases_deactivate(
        run, send, others, identity, receiver, hooked, outbox_events, notifications_of):
    run(identity.registered("alice"))
    run(others.webhook_registered("alice", "maven", "widget", "alice", receiver.url + "/h"))
    receiver.answers = [500, 500, 200]  # the first release succeeds on its third attempt
    run(others.released("alice", "maven", "widget", "1.0.0"))
    send()
    assert len(receiver.calls) == 3
    ids = {c["headers"]["webhook-id"] for c in receiver.calls}
    assert len(ids) == 1  # one delivery id across attempts

    receiver.answers = [500] * 100
    for minor in range(1, 8):
        run(others.released("alice", "maven", "widget", f"1.{minor}.0"))
        send()
    assert len(receiver.calls) == 3 + 7 * 3
    failed = outbox_events("notifier.webhook_delivery.failed")
    assert [e.data["failure_count"] for e in failed] == [1, 2, 3, 4, 5, 6, 7]
    [deactivated] = outbox_events("notifier.webhook_delivery.deactivated")
    assert deactivated.data["failure_count"] == 7
    [notice] = notifications_of("alice", "webhook_deactivated")
    assert "was deactivated" in notice.title

    run(others.released("alice", "maven", "widget", "1.8.0"))
    send()
    assert len(receiver.calls) == 3 + 7 * 3  # no longer called
    # Registering again turns it back on; a success resets the count.
    receiver.answers = []
    run(others.webhook_registered("alice", "maven", "widget", "alice", receiver.url + "/h",
                                  registered="2026-11-26T10:00:00.000Z"))
    run(others.released("alice", "maven", "widget", "1.9.0"))
    send()
    assert outbox_events("notifier.webhook_delivery.succeeded")[-1].data["failure_count"] == 0
    with hooked.uow() as uow:
        hook = uow.session.scalars(sa.select(Webhook)).one()
        assert (hook.active, hook.consecutive_failures) == (True, 0)


def test_a_slow_receiver_times_out_and_is_retried(run, send, others, identity, receiver, hooked):
    run(identity.registered("alice"))
    run(others.webhook_registered("alice", "maven", "widget", "alice", receiver.url))
    receiver.answers = ["slow", 200]
    run(others.released("alice", "maven", "widget", "1.0.0"))
    send()
    [delivery] = _deliveries(hooked)
    assert (delivery["status"], delivery["attempts"]) == ("succeeded", 2)


def test_a_client_error_fails_at_once_and_redirects_are_not_followed(run, send, others, identity, receiver, hooked):
    run(identity.registered("alice"))
    run(others.webhook_registered("alice", "maven", "widget", "alice", receiver.url))
    receiver.answers = [404]
    run(others.released("alice", "maven", "widget", "1.0.0"))
    send()
    receiver.answers = [302]
    run(others.released("alice", "maven", "widget", "1.0.1"))
    send()
    assert [(d["status"], d["attempts"], d["response_status"]) for d in _deliveries(hooked)] == [
        ("failed", 1, 404), ("failed", 1, 302)]
    assert len(receiver.calls) == 2


def test_a_revoked_api_key_stops_the_bintray_signature(run, send, others, identity, receiver):
    run(identity.registered("alice"))
    run(others.api_key_issued("alice", API_KEY, time="2026-11-25T10:00:00.000Z"))
    run(others.api_key_revoked("alice", time="2026-11-25T11:00:00.000Z"))
    run(others.api_key_issued("alice", "older", time="2026-11-25T09:00:00.000Z"))  # late, older: ignored
    run(others.webhook_registered("alice", "maven", "widget", "alice", receiver.url))
    run(others.released("alice", "maven", "widget", "1.0.0"))
    send()
    [call] = receiver.calls
    assert "X-Bintray-Hook-Hmac" not in call["headers"]
    assert call["headers"]["webhook-id"].startswith("msg_")


def test_non_public_targets_are_refused_without_the_operator_allow_list(make_notifier, smtp_sink, others, identity,
                                                                     receiver):
    strict = make_notifier(smtp_port=smtp_sink.port, webhook_retry_delay=0.02)
    queues = strict.consumer_queues
    runner = strict.platform.consumer(queues)
    for event in (identity.registered("alice"),
                  others.webhook_registered("alice", "maven", "widget", "alice", receiver.url),
                  others.released("alice", "maven", "widget", "1.0.0")):
        [queue] = [q for q in queues if q.handler_for(event.type)]
        runner.process(queue.name, event.to_json().encode())
    strict.delivery_sender().run_once()
    assert receiver.calls == []
    [delivery] = _deliveries(strict)
    assert delivery["status"] == "failed" and "non-public address" in delivery["error"]


def test_test_call_deliveries_list_and_redelivery(run, send, others, identity, receiver, hooked, minter):
    run(identity.registered("alice"))
    run(identity.registered("bob"))
    run(others.webhook_registered("alice", "maven", "widget", "alice", receiver.url + "/w", secret=SECRET))
    receiver.answers = [500]
    run(others.event("catalog.webhook.test_requested", {
        "owner": "alice", "repo": "maven", "private": False, "package": "widget", "version": "1.0.0",
        "username": "alice", "url": receiver.url + "/w", "method": "put", "released": "2026-11-25T10:00:00.000Z",
        "release_notes": "First", "requested_by": "alice"}))
    send()
    [call] = receiver.calls
    assert call["method"] == "PUT" and verify_standard(SECRET, call["headers"], call["body"])

    client = create_app(hooked).test_client()
    me = minter.headers("alice", user_id=identity.user_id("alice"))
    listed = client.get("/me/deliveries", headers=me)
    assert listed.status_code == 200 and listed.headers["X-RangeLimit-Total"] == "1"
    [shown] = listed.json
    assert (shown["kind"], shown["status"], shown["attempts"], shown["response"]["status"]) == ("test", "failed", 1,
                                                                                              500)
    assert shown["response"]["body"] == '{"received": true}' and shown["error"] == "HTTP 500"
    assert shown["request"]["headers"]["webhook-id"] == shown["delivery_id"]
    assert isinstance(shown["duration_ms"], int)

    bob = minter.headers("bob", user_id=identity.user_id("bob"))
    assert client.get("/me/deliveries", headers=bob).json == []
    assert client.post(f"/me/deliveries/{shown['id']}/redeliver", headers=bob).status_code == 404
    again = client.post(f"/me/deliveries/{shown['id']}/redeliver", headers=me)
    assert again.status_code == 202 and again.json["delivery_id"] == shown["delivery_id"]
    send()
    assert len(receiver.calls) == 2 and receiver.calls[1]["headers"]["webhook-id"] == shown["delivery_id"]
    assert client.get(f"/me/deliveries/{again.json['id']}", headers=me).json["status"] == "succeeded"
    assert client.post("/me/deliveries/nope/redeliver", headers=me).status_code == 404
    assert client.get("/me/deliveries?start_pos=-1", headers=me).status_code == 400


class Mastodon(Receiver):
    pass


def test_mastodon_announcements_post_the_release_and_failures_show(run, send, others, identity, hooked, minter):
    instance = Mastodon()
    try:
        run(identity.registered("alice"))
        client = create_app(hooked).test_client()
        me = minter.headers("alice", user_id=identity.user_id("alice"))
        assert client.put("/me/announcements/alice/maven/widget", json={"mastodon": True},
                          headers=me).status_code == 400  # no account linked yet
        linked = client.put("/me/mastodon", json={"instance_url": instance.url + "/", "access_token": "tok3n"},
                            headers=me)
        assert linked.status_code == 200 and linked.json["instance_url"] == instance.url
        assert "access_token" not in client.get("/me/mastodon", headers=me).json
        assert client.put("/me/announcements/acme/maven/widget", json={"mastodon": True},
                          headers=me).status_code == 404  # not hers
        on = client.put("/me/announcements/alice/maven/widget", json={"mastodon": True}, headers=me)
        assert on.json == {"owner": "alice", "repo": "maven", "package": "widget", "mastodon": True}
        run(others.released("alice", "maven", "widget", "2.0.0"))
        send()
        [post] = instance.calls
        assert post["path"] == "/api/v1/statuses" and post["headers"]["Authorization"] == "Bearer tok3n"
        assert json.loads(post["body"])["status"].startswith("alice/widget 2.0.0 is out: https://")
        assert post["headers"]["Idempotency-Key"].startswith("msg_")
        instance.answers = [422]
        run(others.released("alice", "maven", "widget", "2.0.1"))
        send()
        newest = client.get("/me/deliveries", headers=me).json[0]
        assert (newest["kind"], newest["status"], newest["response"]["status"]) == ("mastodon", "failed", 422)
        assert newest["request"]["headers"]["Authorization"] == "***"
        assert client.put("/me/mastodon", json={"instance_url": "http://169.254.169.254/", "access_token": "x"},
                          headers=me).status_code == 400
        assert client.get("/me/announcements", headers=me).json == [on.json]
        off = client.put("/me/announcements/alice/maven/widget", json={"mastodon": False}, headers=me)
        assert off.json["mastodon"] is False and client.get("/me/announcements", headers=me).json == []
        run(others.released("alice", "maven", "widget", "2.0.2"))
        send()
        assert len(instance.calls) == 2  # not announced any more
        assert client.delete("/me/mastodon", headers=me).json == {"message": "success"}
        assert client.get("/me/mastodon", headers=me).status_code == 404
    finally:
        instance.close()


def test_a_deleted_account_takes_its_delivery_history_along(run, send, others, identity, receiver, hooked):
    run(identity.registered("alice"))
    run(others.webhook_registered("alice", "maven", "widget", "alice", receiver.url))
    run(others.released("alice", "maven", "widget", "1.0.0"))
    send()
    assert len(_deliveries(hooked)) == 1
    run(identity.deleted("alice"))
    assert _deliveries(hooked) == []
