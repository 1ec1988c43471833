"""Faults injected while real traffic runs through the gateway, every count checked at the end.

A driver publishes a steady stream of releases of a package that many users watch (email alerts on, a
webhook registered), while users follow the publisher, review the package and message the publisher.
Meanwhile, in turn: the broker is unreachable (the run's TCP proxy cut), relays and workers are killed
with SIGKILL mid-batch and restarted, the SMTP server and the webhook receiver are down for a while,
the notifier's database refuses connections for a while, and social's API is stopped while the other
services keep answering. At the end, from the databases and the sinks: every release and message
notification exists exactly once, every email and webhook call arrived at least once and repeats carry
the same id, the counters equal what the driver did, and no dead-letter queue grew.

Size: ``PACKYARD_RESILIENCE_SCALE`` (default 1, sized for 2 cores; 4 or more for the full run, with a
30 s broker outage).
"""

from __future__ import annotations

import collections
import email
import email.policy
import json
import os
import signal
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pika
import pytest
import sqlalchemy as sa

from packyard.testing import wait_for

pytestmark = pytest.mark.e2e

RECEIVER_HOST = "127.0.0.2"  # the platform's WEBHOOK_ALLOWED_TARGETS (tests/conftest.py)

SCALE = max(1, int(os.environ.get("PACKYARD_RESILIENCE_SCALE", "1")))
WATCHERS = 8 * SCALE
ROUND = 1.0 / SCALE  # seconds between the driver's rounds (a release, a follow, a review, a message each)
MAX_ROUNDS = 400
BROKER_OUTAGE = 30 if SCALE >= 4 else 6
OUTAGE = 4 * min(SCALE, 3)
KILLED = ("catalog-relay", "social-relay", "notifier-worker", "catalog-worker", "identity-worker")
# the notifier retries webhook calls long enough to outlast the receiver's outage (restored afterwards)
WORKER_ENV = {"WEBHOOK_MAX_ATTEMPTS": "30", "WEBHOOK_RETRY_DELAY": "0.3", "WEBHOOK_RETRY_MAX_DELAY": "1"}


class Receiver:
    """A webhook receiver on the allowed address that records every call and answers 503 while ``down``."""

    def __init__(self):
        self.calls, self.down, self.refused, self.lock = [], False, 0, threading.Lock()
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):
                pass

            def do_POST(self):  # noqa: N802
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                with outer.lock:
                    if outer.down:
                        outer.refused += 1
                        status = 503
                    else:
                        outer.calls.append({"headers": dict(self.headers), "body": body})
                        status = 200
                self.send_response(status)
                self.send_header("Content-Length", "0")
                self.end_headers()

        self.server = ThreadingHTTPServer((RECEIVER_HOST, 0), Handler)
        self.server.daemon_threads = True
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        self.url = f"http://{RECEIVER_HOST}:{self.server.server_address[1]}/hook"

    def close(self):
        self.server.shutdown()
        self.server.server_close()


class Driver(threading.Thread):
    """Releases, follows, reviews and messages through the gateway, counting what it did."""

    def __init__(self, gw, pub, pub_auth, people):
        super().__init__(daemon=True)
        self.gw, self.pub, self.pub_auth, self.people = gw, pub, pub_auth, people
        self.done = collections.Counter()
        self.errors: list[str] = []
        self.social_down = threading.Event()
        self.social_busy = threading.Lock()  # held while a round's social calls are in flight
        self.released: list[str] = []
        self.followers: set[str] = set()
        self.reviewers: set[str] = set()
        self.messages: collections.Counter = collections.Counter()
        self.stop = threading.Event()

    def call(self, kind, method, path, ok=(200, 201, 204), **kwargs):
        for attempt in range(3):  # a connection reset by a gateway worker is retried, never a wrong answer
            try:
                answer = self.gw.request(method, path, timeout=60, **kwargs)
            except Exception as exc:  # noqa: BLE001
                if attempt == 2:
                    self.errors.append(f"{kind}: {exc}")
                    return False
                continue
            if answer.status_code in ok:
                self.done[kind] += 1
                return True
            self.errors.append(f"{kind} {method} {path}: {answer.status_code} {answer.text[:200]}")
            return False
        return False

    def run(self):
        name, repo, package = self.pub["username"], "files", "watched"
        for i in range(MAX_ROUNDS):  # paced rounds until every fault is over: traffic spans them all
            if self.stop.wait(ROUND):
                break
            version = f"1.{i}.0"
            if self.call("release", "PUT", f"/content/{name}/{repo}/{package}/{version}/{package}-{version}.txt"
                                           "?publish=1", ok=(201,), auth=self.pub_auth, data=version.encode()):
                self.released.append(version)
            with self.social_busy:
                if self.social_down.is_set():
                    continue
                user, headers = self.people[i % len(self.people)]
                if self.call("follow", "PUT", f"/me/following/{name}", headers=headers):
                    self.followers.add(user["username"])
                if self.call("review", "PUT", f"/packages/{name}/{repo}/{package}/reviews/mine", headers=headers,
                             json={"rating": 1 + i % 5, "title": f"take {i}", "body": "works"}):
                    self.reviewers.add(user["username"])
                if self.call("message", "POST", "/me/messages", headers=headers,
                             json={"to": name, "subject": f"hello {i}", "body": f"message {i}"}):
                    self.messages[user["username"]] += 1


def dlq_depths(gw) -> dict[str, int]:
    conn = pika.BlockingConnection(pika.URLParameters(gw.broker_url))
    try:
        channel = conn.channel()
        return {svc: channel.queue_declare(f"{svc}.dlq", passive=True).method.message_count
                for svc in ("identity", "social", "catalog", "notifier", "signing")}
    finally:
        conn.close()


def database_away(gw, service: str, away: bool) -> None:
    """Make one service's database refuse every connection (and drop the open ones), or accept again."""
    url = sa.engine.make_url(gw.platform.env[f"{service.upper()}_DATABASE_URL"])
    admin = sa.create_engine(url.set(database="postgres"), isolation_level="AUTOCOMMIT", poolclass=sa.pool.NullPool)
    with admin.connect() as conn:
        conn.execute(sa.text(f'ALTER DATABASE "{url.database}" WITH ALLOW_CONNECTIONS {str(not away).lower()}'))
        if away:
            conn.execute(sa.text("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = :d "
                                 "AND pid <> pg_backend_pid()"), {"d": url.database})
    admin.dispose()


@pytest.fixture
def receiver():
    made = Receiver()
    yield made
    made.close()


def test_faults_under_traffic_lose_nothing_and_duplicate_nothing(gw, receiver):
    started = time.monotonic()
    injected: list[tuple[str, str]] = []
    saved = {k: gw.platform.env.get(k) for k in WORKER_ENV}
    gw.platform.env.update(WORKER_ENV)
    gw.platform.restart("notifier-worker")

    pub = gw.signup(gw.unique_name("pub"))
    pub_auth = gw.api_key(pub)
    name = pub["username"]
    assert gw.post(f"/repos/{name}/files", auth=pub_auth, json={"type": "generic"}).status_code == 201
    assert gw.post(f"/packages/{name}/files", auth=pub_auth, json={
        "name": "watched", "licenses": ["MIT"], "vcs_url": "https://example.com/x.git"}).status_code == 201
    assert gw.post(f"/webhooks/{name}/files/watched", auth=pub_auth,
                   json={"url": receiver.url, "method": "post"}).status_code in (200, 201)
    people = []
    for _ in range(WATCHERS):
        user = gw.signup(gw.unique_name("fan"))
        people.append((user, gw.login(user)))
    for _user, headers in people:
        wait_for(lambda h=headers: gw.request("PUT", f"/me/watches/{name}/files/watched", headers=h,
                                              json={"filter": {"kind": "all"}}).status_code == 200,
                 timeout=30, message="social knowing the package")
    wait_for(lambda: gw.query("notifier", "SELECT count(*) FROM watches WHERE package = 'watched' AND owner = :o "
                                          "AND active", o=name)[0][0] == WATCHERS, timeout=30,
             message="the watches replicated to the notifier")
    dlq_before = dlq_depths(gw)

    driver = Driver(gw, pub, pub_auth, people)
    driver.start()
    try:
        # 1. the broker unreachable
        gw.proxy.cut()
        injected.append(("broker unreachable (proxy cut)", f"{BROKER_OUTAGE} s"))
        wait_for(lambda: driver.done["release"] >= 2 or not driver.is_alive(), timeout=120,
                 message="releases committed while the broker is away")
        time.sleep(max(0.0, BROKER_OUTAGE - 2))  # the outage's length is the fault itself, not a wait for a result
        gw.proxy.restore()
        # 2. SIGKILL relays and workers mid-batch, restart them
        for process in KILLED:
            gw.platform.kill(process, signal.SIGKILL)
            injected.append((f"SIGKILL {process}, restarted", f"after {driver.done['release']} releases"))
            gw.platform.start([process])
        gw.platform.wait_ready(names=list(KILLED), timeout=60)
        # 3. SMTP and the webhook receiver down
        gw.platform.stop(["smtp"])
        receiver.down = True
        mark = driver.done["release"]
        wait_for(lambda: driver.done["release"] >= mark + 1 or not driver.is_alive(), timeout=60)
        time.sleep(OUTAGE)  # the outage's length
        receiver.down = False
        gw.platform.start(["smtp"])
        injected.append(("SMTP server down", f"{OUTAGE} s+"))
        injected.append(("webhook receiver answering 503", f"{receiver.refused} calls refused"))
        # 4. the notifier's database refusing connections
        database_away(gw, "notifier", True)
        try:
            away_started = time.monotonic()
            # its API answers a retryable JSON 503 of its own, not a 500
            during_outage = gw.get("/me/notifications", headers=people[0][1])
            time.sleep(max(0.0, OUTAGE - (time.monotonic() - away_started)))  # the outage's length
        finally:
            database_away(gw, "notifier", False)
        injected.append(("notifier database refusing connections",
                         f"{OUTAGE} s; its API answered {during_outage.status_code} "
                         f"Retry-After {during_outage.headers.get('Retry-After')}"))
        # 5. social's API stopped: the others keep answering their own endpoints
        driver.social_down.set()
        with driver.social_busy:  # the round's social calls already under way finish before the stop
            pass
        gw.platform.stop(["social-api"])
        try:
            fan_h = people[0][1]
            others = {"identity": gw.get(f"/users/{name}").status_code,
                      "catalog": gw.get(f"/packages/{name}/files/watched").status_code,
                      "notifier": gw.get("/me/notifications", headers=fan_h).status_code,
                      "signing": gw.get("/gpg/platform/public.key").status_code,
                      "social (stopped)": gw.get(f"/users/{name}/followers").status_code}
        finally:
            gw.platform.start(["social-api"])
            gw.platform.wait_ready(names=["social-api"], timeout=60)
            driver.social_down.clear()
        injected.append(("social-api stopped", " ".join(f"{k}={v}" for k, v in others.items())))
        driver.stop.set()
        driver.join(timeout=600)
    finally:
        driver.stop.set()
        gw.proxy.restore()
        receiver.down = False
        gw.platform.start(["smtp"]) if gw.platform.processes["smtp"].popen.poll() is not None else None
        database_away(gw, "notifier", False)
        gw.platform.env.update({k: v for k, v in saved.items() if v is not None})
        for k, v in saved.items():
            if v is None:
                gw.platform.env.pop(k, None)

    assert not driver.is_alive()
    assert driver.errors == [], driver.errors[:10]
    assert during_outage.status_code == 503, during_outage.text
    assert "database is unavailable" in during_outage.json()["message"]
    assert during_outage.headers["Retry-After"] == "5"
    assert during_outage.headers.get("X-Packyard-Service") == "notifier"  # the service's own answer
    assert all(others[s] == 200 for s in ("identity", "catalog", "notifier", "signing")), others
    assert others["social (stopped)"] in (502, 503, 504), others
    releases, watcher_names = driver.released, [u["username"] for u, _ in people]

    def release_notes():
        return gw.query("notifier", "SELECT r.username, n.data::jsonb ->> 'version', count(*) FROM notifications n "
                                    "JOIN recipients r ON r.user_id = n.user_id WHERE n.type = 'release' AND "
                                    "n.data::jsonb ->> 'owner' = :o GROUP BY 1, 2", o=name)
    wait_for(lambda: len(release_notes()) == len(releases) * WATCHERS, timeout=180, interval=1,
             message="every watcher told of every release")
    notes = release_notes()
    assert {(u, v) for u, v, _ in notes} == {(u, v) for u in watcher_names for v in releases}
    assert [row for row in notes if row[2] != 1] == []  # exactly once

    def message_notes():
        return gw.query("notifier", "SELECT count(*) FROM notifications n JOIN recipients r ON r.user_id = n.user_id "
                                    "WHERE n.type = 'message' AND r.username = :u", u=name)[0][0]
    wait_for(lambda: message_notes() == sum(driver.messages.values()), timeout=120, interval=1,
             message="every message told once")

    read_mails: dict = {}  # file → (To, Subject, Message-ID): each of the thousands of emails is parsed once

    def release_mails():
        for path in sorted((gw.platform.var_dir / "mail").glob("*.eml")):
            if path not in read_mails:
                mail = email.message_from_bytes(path.read_bytes(), policy=email.policy.default)
                read_mails[path] = (str(mail.get("To", "")), str(mail.get("Subject", "")), mail["Message-ID"])
        addresses = {f"{user}@example.com": user for user in watcher_names}
        found = collections.defaultdict(set)
        for to, subject, message_id in read_mails.values():
            for address, user in addresses.items():
                if address in to and "was released" in subject:
                    found[(user, subject)].add(message_id)
        return found
    # An email batch the database outage interrupted mid-send is handed back by its sender once the database
    # answers again, and goes again with the same Message-ID.
    try:
        # a deadline for thousands of emails at the larger sizes, one worker sending them one by one
        wait_for(lambda: len(release_mails()) == len(releases) * WATCHERS,
                 timeout=120 + 0.2 * len(releases) * WATCHERS, interval=1,
                 message="every release email (at least once)")
    except AssertionError:
        states = gw.query("notifier", "SELECT template, status, count(*), max(attempts) FROM email_deliveries "
                                      "GROUP BY 1, 2")
        log = gw.platform.processes["notifier-worker"].log_path
        raise AssertionError(f"{len(release_mails())} of {len(releases) * WATCHERS} release emails; deliveries "
                             f"{states}; notifier-worker alive: "
                             f"{gw.platform.processes['notifier-worker'].popen.poll() is None}\n"
                             + (log.read_text(errors='replace')[-4000:] if log else "")) from None
    mails = release_mails()
    assert [key for key, ids in mails.items() if len(ids) != 1] == []  # repeats carry the same Message-ID

    def hook_calls():
        by_version = collections.defaultdict(set)
        for call in list(receiver.calls):
            by_version[json.loads(call["body"])["version"]].add(call["headers"].get("webhook-id"))
        return by_version
    wait_for(lambda: set(hook_calls()) == set(releases), timeout=240, interval=1,  # webhook claims lapse at 120 s
             message="every release's webhook call (at least once)")
    assert [v for v, ids in hook_calls().items() if len(ids) != 1] == []  # repeats carry the same webhook-id

    wait_for(lambda: gw.get(f"/users/{name}").json()["followers_count"] == len(driver.followers), timeout=60,
             message="identity's followers_count")
    package = wait_for(lambda: (lambda p: p if p["followers_count"] == WATCHERS and
                                p["rating_count"] == len(driver.reviewers) else None)(
        gw.get(f"/packages/{name}/files/watched").json()), timeout=60, message="catalog's counters")
    dlq_after = dlq_depths(gw)
    assert dlq_after == dlq_before, (dlq_before, dlq_after)

    rows = injected + [
        ("— counted —", ""),
        ("releases published", str(len(releases))),
        ("watchers", str(WATCHERS)),
        ("release notifications (exactly once)", str(len(notes))),
        ("release emails (distinct / Message-IDs per repeat)", f"{len(mails)} / 1"),
        ("webhook calls (received / distinct releases)", f"{len(receiver.calls)} / {len(hook_calls())}"),
        ("follows → identity followers_count", f"{len(driver.followers)} → {len(driver.followers)}"),
        ("reviewers → catalog rating_count", f"{len(driver.reviewers)} → {package['rating_count']}"),
        ("watchers → catalog followers_count", f"{WATCHERS} → {package['followers_count']}"),
        ("messages → message notifications", f"{sum(driver.messages.values())} → {message_notes()}"),
        ("dead-letter queues grown", str({k: dlq_after[k] - dlq_before[k] for k in dlq_after})),
        ("driver requests / errors", f"{sum(driver.done.values())} / {len(driver.errors)}"),
        ("wall time", f"{time.monotonic() - started:.0f} s (scale {SCALE})"),
    ]
    width = max(len(a) for a, _ in rows)
    print("\n" + "\n".join(f"{a:<{width}}  {b}" for a, b in rows))
    gw.platform.restart("notifier-worker")  # back to the session's settings
