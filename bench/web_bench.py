#!/usr/bin/env python3
"""The profile page under load, through the gateway: latency with every service up, and with one
backing service stopped (its section says "unavailable", the page still renders).

    .venv/bin/python bench/web_bench.py [--seconds 15] [--connections 16] [--stop catalog-api,social-api]

Starts the whole platform (every process of the Procfile, as `make run` does, the web pages
included) on PostgreSQL databases and a RabbitMQ vhost of its own (PACKYARD_TEST_POSTGRES_URL /
PACKYARD_TEST_AMQP_URL, defaults: the local servers). A user with a filled-in profile, an
organization, a repository with a package and some activity logs in through the login form; then
`--connections` keep-alive clients (threads) ask for `/ui/users/<name>` with that session for
`--seconds`, every answer checked (200, the user's name on it). The same again with each process
of `--stop` stopped in turn (and started again after). The profile page asks identity, catalog
and social at once, plus the notifier for the header's unread count.

Prints one JSON document: requests per second and latency percentiles per scenario. The clients
run on the same machine as the platform, so on a small machine they take part of its CPU.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import statistics
import sys
import tempfile
import threading
import time
import uuid
from pathlib import Path

import requests
import sqlalchemy as sa

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "deploy" / "local"))
sys.path.insert(0, str(ROOT / "bench"))

from launcher import DEFAULT_PORTS, SERVICES, LocalPlatform  # noqa: E402
from relay_throughput import PG, broker  # noqa: E402

from packyard.testing import free_port, wait_for  # noqa: E402

PASSWORD = "a long enough password"


def percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, int(round(p * len(ordered))) - 1))]


def prepare(base: str) -> tuple[str, dict[str, str]]:
    """A member with something on every section of the profile; their session cookie."""
    api = requests.Session()
    name = f"bench-{uuid.uuid4().hex[:8]}"
    created = api.post(f"{base}/auth/signup", json={"username": name, "email": f"{name}@example.com",
                                                    "password": PASSWORD, "full_name": "Bench Mark"})
    assert created.status_code == 201, created.text
    token = api.post(f"{base}/auth/login", json={"username": name, "password": PASSWORD}).json()["token"]
    headers = {"Authorization": f"Bearer {token}"}
    api.patch(f"{base}/me/profile", headers=headers, json={
        "bio": "Measures things.", "company": "Bench Inc.", "location": "Lyon", "website": "https://bench.example.com"})
    api.post(f"{base}/orgs", headers=headers, json={"name": f"{name}-org", "full_name": "Bench Org"})
    wait_for(lambda: api.post(f"{base}/repos/{name}/tools", headers=headers, json={"type": "generic"}).status_code
             in (201, 409), timeout=30, interval=0.2, message="the repository")
    api.post(f"{base}/packages/{name}/tools", headers=headers,
             json={"name": "hammer", "licenses": ["MIT"], "vcs_url": "https://github.com/bench/hammer.git"})
    api.put(f"{base}/content/{name}/tools/hammer/1.0/hammer-1.0.jar?publish=1", headers=headers, data=b"x" * 1000)
    wait_for(lambda: api.get(f"{base}/users/{name}/activity").json(), timeout=30, interval=0.2,
             message="activity")
    browser = requests.Session()
    page = browser.get(f"{base}/ui/login")
    csrf = re.search(r'name="csrf_token" value="([^"]+)"', page.text).group(1)
    answer = browser.post(f"{base}/ui/login", data={"username": name, "password": PASSWORD, "csrf_token": csrf},
                          allow_redirects=False)
    assert answer.status_code == 303, answer.text
    return name, dict(browser.cookies)


def load(url: str, cookies: dict[str, str], name: str, seconds: float, connections: int,
         must_contain: str | None = None) -> dict:
    latencies: list[float] = []
    errors: list[str] = []
    lock = threading.Lock()
    stop_at = time.perf_counter() + seconds

    def client() -> None:
        session = requests.Session()
        session.cookies.update(cookies)
        own: list[float] = []
        while time.perf_counter() < stop_at:
            started = time.perf_counter()
            try:
                response = session.get(url, timeout=30)
                ok = response.status_code == 200 and name in response.text and (
                    must_contain is None or must_contain in response.text)
                problem = None if ok else f"status {response.status_code}"
            except requests.RequestException as exc:
                problem = type(exc).__name__
            elapsed = (time.perf_counter() - started) * 1000
            with lock:
                if problem:
                    errors.append(problem)
                else:
                    own.append(elapsed)
        with lock:
            latencies.extend(own)

    threads = [threading.Thread(target=client) for _ in range(connections)]
    began = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    took = time.perf_counter() - began
    return {"requests": len(latencies), "errors": len(errors), "req_per_s": round(len(latencies) / took, 1),
            "p50_ms": round(statistics.median(latencies), 1) if latencies else None,
            "p95_ms": round(percentile(latencies, 0.95), 1) if latencies else None,
            "p99_ms": round(percentile(latencies, 0.99), 1) if latencies else None,
            "max_ms": round(max(latencies), 1) if latencies else None}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=15)
    parser.add_argument("--connections", type=int, default=16)
    parser.add_argument("--stop", default="catalog-api,social-api",
                        help="comma-separated processes to stop, one at a time, for the degraded runs")
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
    overrides.update(urls, AMQP_URL=rabbit.create_vhost(vhost), LOG_LEVEL="WARNING",
                     SIGNUPS_PER_ADDRESS_PER_HOUR="1000")
    platform = LocalPlatform(Path(tempfile.mkdtemp(prefix="packyard-bench-")), overrides=overrides, log_to_files=True)
    report: dict = {"connections": args.connections, "seconds": args.seconds}
    try:
        platform.migrate()
        platform.start()
        platform.wait_ready(timeout=120)
        base = platform.gateway_url
        name, cookies = prepare(base)
        url = f"{base}/ui/users/{name}"
        load(url, cookies, name, 3, args.connections)  # warm-up: connections, caches, JIT of templates
        report["all_up"] = load(url, cookies, name, args.seconds, args.connections)
        for process in [p for p in args.stop.split(",") if p]:
            platform.kill(process)
            report[f"{process}_stopped"] = load(url, cookies, name, args.seconds, args.connections,
                                                must_contain="unavailable")
            platform.start([process])
            platform.wait_ready(names=[process])
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
