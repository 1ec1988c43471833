#!/usr/bin/env python3
"""End-to-end latency of a sign-up: from the 201 of POST /auth/signup at the gateway until the
welcome notification, the "joined" activity entry and the welcome email exist.

    .venv/bin/python bench/signup_to_welcome.py [--users 30]

Starts the whole platform (every process of the Procfile, as `make run` does) on PostgreSQL
databases and a RabbitMQ vhost of its own (PACKYARD_TEST_POSTGRES_URL / PACKYARD_TEST_AMQP_URL,
defaults: the local servers), signs users up one after another, polls each effect every 10 ms,
and prints the distribution. Everything it created is removed at the end.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import tempfile
import time
import uuid
from pathlib import Path

import requests
import sqlalchemy as sa

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "deploy" / "local"))
sys.path.insert(0, str(ROOT / "bench"))

from launcher import DEFAULT_PORTS, SERVICES, LocalPlatform  # noqa: E402
from relay_throughput import PG, create_vhost, delete_vhost  # noqa: E402

from packyard.testing import free_port  # noqa: E402


def percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, int(round(p * len(ordered))) - 1))]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--users", type=int, default=30)
    args = parser.parse_args()

    tag = f"bench_{int(time.time())}_{uuid.uuid4().hex[:4]}"
    admin = sa.create_engine(PG, isolation_level="AUTOCOMMIT")
    urls = {}
    with admin.connect() as conn:
        for svc in SERVICES:
            conn.execute(sa.text(f'CREATE DATABASE "{tag}_{svc}"'))
            urls[f"{svc.upper()}_DATABASE_URL"] = sa.make_url(PG).set(database=f"{tag}_{svc}").render_as_string(
                hide_password=False)
    vhost = f"pk-{tag}"
    overrides = {name: str(free_port()) for name in DEFAULT_PORTS}
    overrides.update(urls, AMQP_URL=create_vhost(vhost), LOG_LEVEL="WARNING")
    platform = LocalPlatform(Path(tempfile.mkdtemp(prefix="packyard-bench-")), overrides=overrides, log_to_files=True)
    results: dict[str, list[float]] = {"notification": [], "activity": [], "email": [], "all": []}
    try:
        platform.migrate()
        platform.start()
        platform.wait_ready(timeout=120)
        gw = requests.Session()
        base = platform.gateway_url
        maildir = platform.var_dir / "mail"
        for _i in range(args.users):
            name = f"bench-{uuid.uuid4().hex[:8]}"
            password = "a long enough password"
            response = gw.post(f"{base}/auth/signup", json={"username": name, "email": f"{name}@example.com",
                                                            "password": password})
            assert response.status_code == 201, response.text
            created = time.perf_counter()
            token = gw.post(f"{base}/auth/login", json={"username": name, "password": password}).json()["token"]
            headers = {"Authorization": f"Bearer {token}"}
            seen: dict[str, float] = {}
            while len(seen) < 3:
                now = time.perf_counter()
                if now - created > 30:
                    raise SystemExit(f"{name}: effects missing after 30 s: {sorted(set(results) - set(seen))}")
                if "notification" not in seen and any(
                        n["type"] == "welcome" for n in gw.get(f"{base}/me/notifications", headers=headers).json()):
                    seen["notification"] = time.perf_counter() - created
                if "activity" not in seen:
                    r = gw.get(f"{base}/users/{name}/activity")
                    if r.status_code == 200 and any(e["type"] == "joined" for e in r.json()):
                        seen["activity"] = time.perf_counter() - created
                if "email" not in seen and any(f"{name}@example.com".encode() in p.read_bytes()
                                               for p in maildir.glob("*.eml")):
                    seen["email"] = time.perf_counter() - created
                time.sleep(0.01)
            for key, value in seen.items():
                results[key].append(value * 1000)
            results["all"].append(max(seen.values()) * 1000)
        print(json.dumps({key: {"users": len(v), "p50_ms": round(statistics.median(v), 1),
                                "p95_ms": round(percentile(v, 0.95), 1), "max_ms": round(max(v), 1)}
                          for key, v in results.items()}, indent=2))
    finally:
        platform.stop()
        delete_vhost(vhost)
        with admin.connect() as conn:
            for svc in SERVICES:
                conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{tag}_{svc}" WITH (FORCE)'))
        admin.dispose()


if __name__ == "__main__":
    os.environ.setdefault("PYTHONUNBUFFERED", "1")
    main()
