"""The notifier's fan-out of a release, on PostgreSQL through the real bus, with real worker processes.

For each case (recipients × workers) it migrates a fresh notifier database, declares the broker
topology in a vhost of its own, fills in the recipients and their watches of one package, starts
``python -m notifier relay`` and one or two ``python -m notifier worker`` processes, then publishes
``catalog.version.released`` on ``catalog.events`` as catalog's relay does and measures:

* release → every in-app notification committed (one release per run; ``--runs`` runs);
* release → the first watcher sees it at ``GET /me/notifications`` (the notifier's API app,
  in-process, polled every few milliseconds with that watcher's token): p50/p95 over the runs.

Uses PACKYARD_TEST_POSTGRES_URL and PACKYARD_TEST_AMQP_URL (defaults: the local servers); every
database and vhost it makes is removed at the end. Prints one JSON document.
Goals (issue 11): 10,000 recipients < 5 s with one worker and faster with two; p95 release → visible
< 1 s for 1,000 watchers.

    .venv/bin/python bench/fanout_bench.py --cases 1000x1,1000x2,10000x1,10000x2 --runs 5
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time
import urllib.parse
import uuid
from pathlib import Path

import pika
import sqlalchemy as sa
from cryptography.fernet import Fernet

from packyard import amqp
from packyard.events import CloudEvent
from packyard.testing import TokenMinter, free_port, publish_event, wait_for
from packyard.testing.plugin import RabbitMQ, _local_broker_node

ROOT = Path(__file__).resolve().parents[1]
PG = os.environ.get("PACKYARD_TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres")
AMQP = os.environ.get("PACKYARD_TEST_AMQP_URL", "amqp://guest:guest@127.0.0.1:5672/")
API = os.environ.get("PACKYARD_TEST_RABBITMQ_API", "http://guest:guest@127.0.0.1:15672")
OWNER, REPO, PACKAGE = "acme", "maven", "widget"


def broker() -> RabbitMQ:
    parsed = urllib.parse.urlparse(AMQP)
    local, node = _local_broker_node(parsed.hostname)
    return RabbitMQ(f"{parsed.scheme}://{parsed.netloc}/", None if local else API, node=node)


def populate(engine: sa.Engine, recipients: int) -> str:
    """``recipients`` users watching acme/maven/widget (in-app only); returns the first watcher's user id."""
    with engine.begin() as conn:
        conn.execute(sa.text("""
            INSERT INTO recipients (user_id, username, email, show_email, release_alerts_email, news_email,
                                    preferences_revision)
            SELECT 'u' || lpad(g::text, 6, '0'), 'watcher' || g, 'watcher' || g || '@example.com', false, false,
                   false, 1
            FROM generate_series(1, :n) g"""), {"n": recipients})
        conn.execute(sa.text("""
            INSERT INTO watches (username, owner, repo, package, active, private, filter_kind, revision)
            SELECT 'watcher' || g, :o, :r, :p, true, false, 'all', 1 FROM generate_series(1, :n) g"""),
                     {"n": recipients, "o": OWNER, "r": REPO, "p": PACKAGE})
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        conn.execute(sa.text("VACUUM ANALYZE"))
    return "u000001"


def count_told(engine: sa.Engine, event_id: str) -> int:
    with engine.connect() as conn:
        return conn.execute(sa.text("SELECT count(*) FROM notifications WHERE event_id = :e"), {"e": event_id}).scalar()


def percentile(samples: list[float], share: float) -> float:
    ordered = sorted(samples)
    return ordered[max(0, min(len(ordered) - 1, int(round(share * len(ordered))) - 1))]


def run_case(recipients: int, workers: int, runs: int, batch_size: int) -> dict:
    tag = uuid.uuid4().hex[:8]
    name = f"fanout_bench_{tag}"
    admin = sa.create_engine(PG, isolation_level="AUTOCOMMIT", poolclass=sa.pool.NullPool)
    with admin.connect() as conn:
        conn.execute(sa.text(f'CREATE DATABASE "{name}"'))
    url = admin.url.set(database=name).render_as_string(hide_password=False)
    rabbit = broker()
    vhost = f"fanout-{tag}"
    amqp_url = rabbit.create_vhost(vhost)
    processes: list[subprocess.Popen] = []
    engine = sa.create_engine(url, pool_size=1, max_overflow=1)  # one connection for the polling
    minter = TokenMinter()
    env = {**os.environ, "DATABASE_URL": url, "AMQP_URL": amqp_url, "JWKS_URL": "http://127.0.0.1:9/jwks",
           "MAIL_TOKEN_KEY": Fernet.generate_key().decode(), "SERVICE_TOKEN": "bench-service-token-" + uuid.uuid4().hex,
           "FANOUT_BATCH_SIZE": str(batch_size), "LOG_LEVEL": "WARNING", "SMTP_PORT": str(free_port()),
           "PYTHONUNBUFFERED": "1"}
    try:
        connection = pika.BlockingConnection(pika.URLParameters(amqp_url))
        for service in ("identity", "social", "catalog", "signing", "notifier"):
            amqp.declare_events_exchange(connection.channel(), service)
        connection.close()
        migrated = subprocess.run([sys.executable, "-m", "notifier", "migrate"], cwd=ROOT, env=env,
                                  capture_output=True, text=True)
        if migrated.returncode != 0:
            raise RuntimeError(f"notifier migrate failed:\n{migrated.stderr[-3000:]}")
        first = populate(engine, recipients)
        with engine.begin() as conn:  # for the bench's own polling only (the notifier never looks up by event)
            conn.execute(sa.text("CREATE INDEX bench_notifications_event ON notifications (event_id)"))

        def spawn(*args: str) -> None:
            processes.append(subprocess.Popen([sys.executable, "-m", "notifier", *args], cwd=ROOT,
                                              env={**env, "HEALTH_PORT": str(free_port())},
                                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL))

        spawn("relay")
        for _ in range(workers):
            spawn("worker")
        # The API app, in this process, to read as the first watcher would.
        os.environ.update({k: env[k] for k in ("DATABASE_URL", "AMQP_URL", "JWKS_URL", "MAIL_TOKEN_KEY",
                                                "SERVICE_TOKEN")})
        from notifier.app import create_app
        from notifier.bootstrap import bootstrap
        from notifier.config import load
        container = bootstrap(load(), jwks_source=minter.jwks)
        client = create_app(container).test_client()
        headers = minter.headers("watcher1", user_id=first)

        # Workers are ready once they consume: a warm-up release reaches everyone.
        warm = CloudEvent(type="catalog.version.released", source="/catalog", subject=f"{OWNER}/{REPO}/{PACKAGE}",
                          data=_release("0.0.1"))
        publish_event(amqp_url, warm)
        wait_for(lambda: count_told(engine, warm.id) == recipients, timeout=300, interval=0.2,
                 message="the warm-up release fanned out")

        visible, complete = [], []
        for run in range(runs):
            version = f"1.{run}.0"
            event = CloudEvent(type="catalog.version.released", source="/catalog",
                               subject=f"{OWNER}/{REPO}/{PACKAGE}/{version}", data=_release(version))
            started = time.perf_counter()
            publish_event(amqp_url, event)
            seen_at = None
            while True:
                now = time.perf_counter()
                if seen_at is None:
                    page = client.get("/me/notifications?kind=release", headers=headers).json
                    if page and page[0]["data"]["version"] == version:
                        seen_at = now
                        visible.append((seen_at - started) * 1000)
                if seen_at is not None and count_told(engine, event.id) == recipients:
                    complete.append((time.perf_counter() - started) * 1000)
                    break
                if now - started > 300:
                    raise TimeoutError(f"release {version} did not reach {recipients} recipients")
                time.sleep(0.005 if seen_at is None else 0.02)
        container.platform.engine.dispose()
        return {"recipients": recipients, "workers": workers, "batch_size": batch_size, "runs": runs,
                "all_committed_ms": {"p50": round(statistics.median(complete)),
                                     "p95": round(percentile(complete, 0.95)),
                                     "max": round(max(complete))},
                "first_visible_ms": {"p50": round(statistics.median(visible)),
                                     "p95": round(percentile(visible, 0.95)),
                                     "max": round(max(visible))}}
    finally:
        for proc in processes:
            proc.terminate()
        for proc in processes:
            try:
                proc.wait(20)
            except subprocess.TimeoutExpired:
                proc.kill()
        engine.dispose()
        with admin.connect() as conn:
            conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()
        rabbit.delete_vhost(vhost)


def _release(version: str) -> dict:
    return {"owner": OWNER, "repo": REPO, "private": False, "package": PACKAGE, "version": version,
            "publisher": "alice", "released": "2026-11-25T10:02:00.000Z", "release_notes": None,
            "gpg_sign_files": False, "gpg_use_owner_key": False, "files": []}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--cases", default="1000x1,1000x2,10000x1,10000x2",
                        help="comma-separated RECIPIENTSxWORKERS")
    parser.add_argument("--runs", type=int, default=5, help="releases measured per case")
    parser.add_argument("--batch-size", type=int, default=500)
    args = parser.parse_args()
    results = []
    for case in args.cases.split(","):
        recipients, workers = (int(x) for x in case.lower().split("x"))
        results.append(run_case(recipients, workers, args.runs, args.batch_size))
        print(json.dumps(results[-1]), file=sys.stderr)
    print(json.dumps({"cases": results, "goals": {"10000 recipients, one worker": "all committed < 5000 ms",
                                                  "1000 watchers": "first visible p95 < 1000 ms"}}, indent=2))


if __name__ == "__main__":
    main()
