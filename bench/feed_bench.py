"""``GET /me/feed`` for a user who follows 1,000 subjects and watches 1,000 packages, on a platform
with 1,000,000 activity entries: p50/p95 of the first page, of a deep page reached by keyset
(``before``) and of the deepest ``start_pos`` page, timed on social's own query (queries.feed) over
PostgreSQL.

Uses the PostgreSQL of PACKYARD_TEST_POSTGRES_URL (default: the local server), in a database of its
own that it drops at the end; prints one JSON document. Goal: p95 < 50 ms for every page.

    .venv/bin/python bench/feed_bench.py --entries 1000000 --runs 200
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import time
import uuid

import sqlalchemy as sa
from sqlalchemy.orm import Session

from packyard.auth import Principal
from packyard.db import make_engine
from packyard.migrations import upgrade
from social.__main__ import ALEMBIC_INI
from social.queries import feed


def _admin_url() -> str:
    return os.environ.get("PACKYARD_TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres")


def populate(conn: sa.Connection, *, entries: int, logs: int, packages: int, follows: int, watches: int) -> None:
    """Users u0…, packages o<k>/r/p<n>; half the entries are about a package, 5% of packages private."""
    conn.execute(sa.text("""
        INSERT INTO users (id, username, registered_at)
        SELECT 'u' || g, 'user' || g, now() FROM generate_series(0, :logs) g"""), {"logs": logs})
    conn.execute(sa.text("""
        INSERT INTO repos (owner, name, private, deleted, revision)
        SELECT 'user' || g, 'r', (g % 20 = 0), false, 1 FROM generate_series(0, :owners - 1) g"""),
                 {"owners": packages // 10})
    conn.execute(sa.text("""
        INSERT INTO activity (user_id, type, actor_id, actor, created_at, details, package_key, repo_owner,
                              repo_name, private)
        SELECT 'u' || (g % :logs), CASE WHEN g % 2 = 0 THEN 'released_version' ELSE 'followed' END,
               'u' || (g % :logs), 'user' || (g % :logs),
               timestamptz '2026-01-01' + (hashint4(g)::bigint % 25000000) * interval '1 second',
               json_build_object('n', g),
               CASE WHEN g % 2 = 0 THEN 'user' || ((g / 2) % :packages / 10) || '/r/p' || ((g / 2) % :packages) END,
               CASE WHEN g % 2 = 0 THEN 'user' || ((g / 2) % :packages / 10) END,
               CASE WHEN g % 2 = 0 THEN 'r' END,
               (g % 2 = 0 AND ((g / 2) % :packages / 10) % 20 = 0)
        FROM generate_series(1, :entries) g"""), {"entries": entries, "logs": logs, "packages": packages})
    conn.execute(sa.text("INSERT INTO users (id, username, registered_at) VALUES ('viewer', 'viewer', now())"))
    conn.execute(sa.text("""
        INSERT INTO follows (follower_id, followee_id, followee_type, active, revision, created_at)
        SELECT 'viewer', 'u' || (g * (:logs / :follows)), 'user', true, 1, now()
        FROM generate_series(0, :follows - 1) g"""), {"logs": logs, "follows": follows})
    conn.execute(sa.text("""
        INSERT INTO watches (user_id, owner, repo, package, filter_kind, active, revision, created_at)
        SELECT 'viewer', 'user' || (n / 10), 'r', 'p' || n, 'all', true, 1, now()
        FROM (SELECT g * (:packages / :watches) + 1 AS n FROM generate_series(0, :watches - 1) g) w"""),
                 {"packages": packages, "watches": watches})


def timed(engine: sa.Engine, principal: Principal, runs: int, **kwargs) -> dict[str, float]:
    samples = []
    for _ in range(runs):
        with Session(engine) as session:
            started = time.perf_counter()
            items, _headers = feed(session, principal, **kwargs)
            samples.append((time.perf_counter() - started) * 1000)
            assert items, "an empty page measures nothing"
    samples.sort()
    return {"p50_ms": round(statistics.median(samples), 1),
            "p95_ms": round(samples[int(len(samples) * 0.95) - 1], 1), "max_ms": round(samples[-1], 1)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--entries", type=int, default=1_000_000)
    parser.add_argument("--logs", type=int, default=50_000, help="users whose logs hold the entries")
    parser.add_argument("--packages", type=int, default=20_000)
    parser.add_argument("--follows", type=int, default=1_000)
    parser.add_argument("--watches", type=int, default=1_000)
    parser.add_argument("--runs", type=int, default=200)
    parser.add_argument("--deep-pages", type=int, default=20, help="pages walked by keyset before the deep page")
    args = parser.parse_args()

    name = f"feed_bench_{uuid.uuid4().hex[:8]}"
    admin = sa.create_engine(_admin_url(), isolation_level="AUTOCOMMIT", poolclass=sa.pool.NullPool)
    with admin.connect() as conn:
        conn.execute(sa.text(f'CREATE DATABASE "{name}"'))
    url = admin.url.set(database=name).render_as_string(hide_password=False)
    engine = make_engine(url)
    try:
        upgrade(str(ALEMBIC_INI), url)
        started = time.perf_counter()
        with engine.begin() as conn:
            populate(conn, entries=args.entries, logs=args.logs, packages=args.packages, follows=args.follows,
                     watches=args.watches)
        with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            conn.execute(sa.text("VACUUM ANALYZE"))
        load_seconds = time.perf_counter() - started
        viewer = Principal(username="viewer", user_id="viewer")
        timed(engine, viewer, 5, start_pos=0, before=None)  # warm the cache
        cursor = None
        with Session(engine) as session:
            for _ in range(args.deep_pages):
                _items, headers = feed(session, viewer, start_pos=0, before=cursor)
                cursor = headers["X-Next-Before"]
        result = {
            "entries": args.entries, "follows": args.follows, "watches": args.watches, "runs": args.runs,
            "load_seconds": round(load_seconds, 1),
            "first_page": timed(engine, viewer, args.runs, start_pos=0, before=None),
            f"page_{args.deep_pages + 1}_by_keyset": timed(engine, viewer, args.runs, start_pos=0, before=cursor),
            "start_pos_1000": timed(engine, viewer, max(args.runs // 4, 10), start_pos=1000, before=None),
            "goal": "p95 < 50 ms",
        }
        print(json.dumps(result, indent=2))
    finally:
        engine.dispose()
        with admin.connect() as conn:
            conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


if __name__ == "__main__":
    main()
