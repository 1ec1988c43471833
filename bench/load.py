#!/usr/bin/env python3
"""A mixed load through the gateway with locust (headless, as a library), and the notifier's lag.

    .venv/bin/python bench/load.py [--seconds 300] [--users 16] [--watchers 100] [--isolated-seconds 20]

Starts the whole platform (every process of the Procfile, as `make run` does) on PostgreSQL
databases and a RabbitMQ vhost of its own (PACKYARD_TEST_POSTGRES_URL / PACKYARD_TEST_AMQP_URL,
defaults: the local servers). A publisher owns a package that `--watchers` users watch; then
`--users` locust users run this mix for `--seconds`, every answer checked:

  anonymous package reads (GET /packages/:s/:r/:p)            weight 30
  downloads (GET /dl/:s/:r/:path)                              weight 20
  package reads with an API key (Basic username:key)           weight 30
  uploads of an unpublished file                               weight 5
  releases (upload with ?publish=1: fan-out to every watcher)  weight 2
  notification reads (GET /me/notifications as a watcher)      weight 10
  message sends (POST /me/messages)                            weight 3

Then anonymous reads alone and API-key reads alone for `--isolated-seconds` each, for the ratio.
The notifier's lag is from a release's request to the creation of its last watcher's notification
(read from the notifier's database after the run). Prints one JSON document.
"""

from __future__ import annotations

# ruff: noqa: E402 - locust runs on gevent: the standard library is patched before anything imports
# ssl (requests, urllib3), or urllib3's TLS context recurses forever on Python 3.11.
from gevent import monkey

monkey.patch_all()

import argparse
import itertools
import json
import os
import sys
import tempfile
import time
import uuid
from pathlib import Path

import gevent
import requests
import sqlalchemy as sa
from locust import HttpUser, constant, task
from locust.env import Environment

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "deploy" / "local"))
sys.path.insert(0, str(ROOT / "bench"))

from launcher import DEFAULT_PORTS, SERVICES, LocalPlatform  # noqa: E402
from relay_throughput import PG, broker  # noqa: E402

from packyard.testing import free_port, wait_for  # noqa: E402

PASSWORD = "a long enough password"
WORLD: dict = {}
RELEASES: dict[str, float] = {}
COUNTER = itertools.count()


def percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, int(round(p * len(ordered))) - 1))] if ordered else 0.0


def prepare(base: str, watchers: int) -> dict:
    api = requests.Session()

    def signup(prefix: str) -> tuple[str, str]:
        name = f"{prefix}-{uuid.uuid4().hex[:8]}"
        assert api.post(f"{base}/auth/signup", json={"username": name, "email": f"{name}@example.com",
                                                     "password": PASSWORD}).status_code == 201
        token = api.post(f"{base}/auth/login", json={"username": name, "password": PASSWORD}).json()["token"]
        return name, f"Bearer {token}"

    pub, pub_token = signup("pub")
    key = api.post(f"{base}/me/apikey", headers={"Authorization": pub_token}).json()["api_key"]
    auth = (pub, key)
    assert api.post(f"{base}/repos/{pub}/files", auth=auth, json={"type": "generic"}).status_code == 201
    assert api.post(f"{base}/packages/{pub}/files", auth=auth, json={
        "name": "tool", "licenses": ["MIT"], "vcs_url": "https://example.com/x.git"}).status_code == 201
    assert api.put(f"{base}/content/{pub}/files/tool/0.0.1/tool-0.0.1.bin?publish=1", auth=auth,
                   data=os.urandom(64 * 1024)).status_code == 201
    fans = [signup("fan") for _ in range(watchers)]
    for _, token in fans:
        wait_for(lambda t=token: api.put(f"{base}/me/watches/{pub}/files/tool", headers={"Authorization": t},
                                         json={"filter": {"kind": "all"}}).status_code == 200, timeout=30)
    return {"pub": pub, "auth": auth, "fans": fans}


class Client(HttpUser):
    abstract = True
    wait_time = constant(0)

    def on_start(self):
        self.fan, self.token = WORLD["fans"][next(COUNTER) % len(WORLD["fans"])]
        self.pub = WORLD["pub"]

    def _check(self, response, status):
        if response.status_code != status:
            response.failure(f"{response.status_code}: {response.text[:200]}")

    def anonymous_read(self):
        with self.client.get(f"/packages/{self.pub}/files/tool", name="anonymous read", catch_response=True) as r:
            self._check(r, 200)

    def api_key_read(self):
        with self.client.get(f"/packages/{self.pub}/files/tool", name="API-key read", auth=WORLD["auth"],
                             catch_response=True) as r:
            self._check(r, 200)


class Mix(Client):
    @task(30)
    def anonymous(self):
        self.anonymous_read()

    @task(20)
    def download(self):
        with self.client.get(f"/dl/{self.pub}/files/tool-0.0.1.bin", name="download", catch_response=True) as r:
            self._check(r, 200)

    @task(30)
    def with_api_key(self):
        self.api_key_read()

    @task(5)
    def upload(self):
        n = next(COUNTER)
        with self.client.put(f"/content/{self.pub}/files/tool/9.9.{n}/up-{n}.bin", name="upload",
                             auth=WORLD["auth"], data=b"u" * 4096, catch_response=True) as r:
            self._check(r, 201)

    @task(2)
    def release(self):
        version = f"1.0.{next(COUNTER)}"
        sent = time.time()
        with self.client.put(f"/content/{self.pub}/files/tool/{version}/tool-{version}.bin?publish=1",
                             name="release (100 watchers)", auth=WORLD["auth"], data=b"r" * 4096,
                             catch_response=True) as r:
            self._check(r, 201)
            if r.status_code == 201:
                RELEASES[version] = sent

    @task(10)
    def notifications(self):
        with self.client.get("/me/notifications", name="notification read",
                             headers={"Authorization": self.token}, catch_response=True) as r:
            self._check(r, 200)

    @task(3)
    def message(self):
        with self.client.post("/me/messages", name="message send", headers={"Authorization": self.token},
                              json={"to": self.pub, "body": "hello"}, catch_response=True) as r:
            self._check(r, 201)


class AnonymousOnly(Client):
    @task
    def anonymous(self):
        self.anonymous_read()


class ApiKeyOnly(Client):
    @task
    def with_api_key(self):
        self.api_key_read()


def run(base: str, user_class, users: int, seconds: float) -> dict:
    env = Environment(user_classes=[user_class], host=base)
    runner = env.create_local_runner()
    runner.start(users, spawn_rate=users)
    gevent.sleep(seconds)
    runner.quit()
    out = {}
    for (name, _method), entry in env.stats.entries.items():
        out[name] = {"requests": entry.num_requests, "errors": entry.num_failures,
                     "rps": round(entry.num_requests / seconds, 1),
                     "p50_ms": entry.get_response_time_percentile(0.5),
                     "p95_ms": entry.get_response_time_percentile(0.95),
                     "p99_ms": entry.get_response_time_percentile(0.99)}
    out["errors"] = [f"{e.method} {e.name}: {e.error} ×{e.occurrences}" for e in env.stats.errors.values()][:20]
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=300)
    parser.add_argument("--users", type=int, default=16)
    parser.add_argument("--watchers", type=int, default=100)
    parser.add_argument("--isolated-seconds", type=float, default=20)
    args = parser.parse_args()

    tag = f"bench_{int(time.time())}_{uuid.uuid4().hex[:4]}"
    admin = sa.create_engine(PG, isolation_level="AUTOCOMMIT")
    urls = {}
    with admin.connect() as conn:
        for svc in SERVICES:
            conn.execute(sa.text(f'CREATE DATABASE "{tag}_{svc}"'))
            urls[f"{svc.upper()}_DATABASE_URL"] = sa.make_url(PG).set(database=f"{tag}_{svc}").render_as_string(
                hide_password=False)
    rabbit = broker()
    vhost = f"pk-{tag}"
    overrides = {name: str(free_port()) for name in DEFAULT_PORTS}
    # One publisher makes every upload of the mix, faster than the per-user upload limit allows (it
    # answers 429, as it should): the limit is lifted for this measurement.
    overrides.update(urls, AMQP_URL=rabbit.create_vhost(vhost), LOG_LEVEL="WARNING",
                     SIGNUPS_PER_ADDRESS_PER_HOUR="100000", UPLOAD_RATE_LIMIT="0")
    platform = LocalPlatform(Path(tempfile.mkdtemp(prefix="packyard-load-")), overrides=overrides, log_to_files=True)
    report: dict = {"users": args.users, "seconds": args.seconds, "watchers": args.watchers}
    try:
        platform.migrate()
        platform.start()
        platform.wait_ready(timeout=120)
        base = platform.gateway_url
        WORLD.update(prepare(base, args.watchers))
        report["mix"] = run(base, Mix, args.users, args.seconds)
        report["anonymous_only"] = run(base, AnonymousOnly, args.users, args.isolated_seconds)
        report["api_key_only"] = run(base, ApiKeyOnly, args.users, args.isolated_seconds)
        anon = report["anonymous_only"]["anonymous read"]["rps"]
        keyed = report["api_key_only"]["API-key read"]["rps"]
        report["api_key_over_anonymous"] = round(keyed / anon, 2) if anon else None
        notifier = sa.create_engine(urls["NOTIFIER_DATABASE_URL"], poolclass=sa.pool.NullPool)

        def told() -> dict[str, tuple[int, float]]:
            with notifier.connect() as conn:
                rows = conn.execute(sa.text(
                    "SELECT data::jsonb ->> 'version', count(*), extract(epoch FROM max(created_at)) "
                    "FROM notifications WHERE type = 'release' GROUP BY 1")).all()
            return {v: (n, t) for v, n, t in rows}
        def everyone_told() -> bool:
            counts = told()  # one query for every release, not one per release
            return all(counts.get(v, (0, 0))[0] >= args.watchers for v in RELEASES)
        wait_for(everyone_told, timeout=300, interval=1, message="every release told to every watcher")
        lags = [max(0.0, float(t) - RELEASES[v]) * 1000 for v, (_, t) in told().items() if v in RELEASES]
        report["notifier_lag_ms"] = {"releases": len(lags), "p50": round(percentile(lags, 0.5)),
                                     "p95": round(percentile(lags, 0.95)), "max": round(max(lags or [0]))}
        print(json.dumps(report, indent=2))
    finally:
        platform.stop()
        rabbit.delete_vhost(vhost)
        with admin.connect() as conn:
            for svc in SERVICES:
                conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{tag}_{svc}" WITH (FORCE)'))
        admin.dispose()


if __name__ == "__main__":
    os.environ.setdefault("PYTHONUNBUFFERED", "1")
    main()
