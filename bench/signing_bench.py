"""Signing through the gateway: a version of 10 files of 1 MiB, and the memory a 100 MiB file costs.

1. ``POST /gpg/:s/:r/:p/versions/:v`` for a version of ten 1 MiB files, signed with the caller's
   stored Ed25519 key (no passphrase), through the gateway: each run streams every file from
   catalog's internal API into gpg and stores ten ``.asc`` files back (goal: under 1 s).
2. the memory growth of the signing API workers (and of catalog's, which streams the bytes) while
   one 100 MiB file is signed (goal: under 32 MiB).

Starts a whole local Packyard (the launcher of ``make run``) on databases and a vhost of its own,
removed at the end; prints one JSON document.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
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
sys.path.insert(0, str(ROOT / "deploy" / "gateway"))
sys.path.insert(0, str(ROOT / "bench"))

from launcher import DEFAULT_PORTS, SERVICES, LocalPlatform  # noqa: E402
from relay_throughput import PG, broker  # noqa: E402

from packyard.testing import free_port, wait_for  # noqa: E402


def rss_kib(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    return 0


def children(pid: int) -> list[int]:
    return [int(k) for task in Path(f"/proc/{pid}/task").iterdir() for k in (task / "children").read_text().split()]


def gunicorn_workers(shell_pid: int) -> list[int]:
    """The worker processes of the gunicorn started by a Procfile line (shell → master → workers)."""
    masters = [p for p in [shell_pid, *children(shell_pid)] if "gunicorn" in Path(f"/proc/{p}/cmdline").read_text()]
    return children(masters[0])


def new_key(name: str) -> tuple[str, str]:
    with tempfile.TemporaryDirectory(prefix="bench-key-") as home:
        def gpg(*args: str) -> str:
            return subprocess.run(["gpg", "--homedir", home, "--batch", "--yes", "--pinentry-mode", "loopback",
                                   "--passphrase", "", *args], capture_output=True, check=True).stdout.decode()
        gpg("--quick-generate-key", f"{name} <{name}@example.com>", "ed25519", "sign", "0")
        public, private = gpg("--armor", "--export"), gpg("--armor", "--export-secret-keys")
        subprocess.run(["gpgconf", "--homedir", home, "--kill", "gpg-agent"], check=False)
        return public, private


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--files", type=int, default=10)
    parser.add_argument("--file-mib", type=int, default=1)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--big-mib", type=int, default=100)
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
    rabbit = broker()
    overrides.update(urls, AMQP_URL=rabbit.create_vhost(vhost), LOG_LEVEL="WARNING")
    work = Path(tempfile.mkdtemp(prefix="packyard-bench-"))
    platform = LocalPlatform(work / "var", overrides=overrides, log_to_files=True)
    results: dict = {}
    try:
        platform.migrate()
        platform.start()
        platform.wait_ready(timeout=120)
        base = platform.gateway_url
        http = requests.Session()
        user = f"bench{uuid.uuid4().hex[:6]}"
        password = "a long enough password"
        assert http.post(f"{base}/auth/signup", json={"username": user, "email": f"{user}@example.com",
                                                       "password": password}).status_code == 201
        token = http.post(f"{base}/auth/login", json={"username": user, "password": password}).json()["token"]
        auth = {"Authorization": f"Bearer {token}"}
        wait_for(lambda: http.get(f"{base}/repos/{user}").status_code == 200, timeout=30, message="catalog ready")
        assert http.post(f"{base}/repos/{user}/generic", json={"type": "generic"}, headers=auth).status_code == 201
        assert http.post(f"{base}/packages/{user}/generic", headers=auth, json={
            "name": "widget", "licenses": ["MIT"], "vcs_url": "https://example.com/widget.git"}).status_code == 201
        public, private = new_key(user)
        r = http.put(f"{base}/me/keys/gpg", json={"public_key": public, "private_key": private}, headers=auth)
        assert r.status_code == 200, r.text
        for i in range(args.files):
            r = http.put(f"{base}/content/{user}/generic/widget/1.0/widget-{i}.bin?publish=1",
                         data=os.urandom(args.file_mib * 1024 * 1024), headers=auth)
            assert r.status_code == 201, r.text

        timings = []
        for _ in range(args.runs + 1):  # the first run warms connections and imports
            started = time.perf_counter()
            r = http.post(f"{base}/gpg/{user}/generic/widget/versions/1.0", headers=auth)
            timings.append(time.perf_counter() - started)
            assert r.status_code == 200 and len(r.json()["files"]) == args.files, r.text
        assert http.get(f"{base}/dl/{user}/generic/widget-0.bin.asc").status_code == 200
        measured = timings[1:]
        results["sign_version"] = {
            "files": args.files, "file_mib": args.file_mib, "runs": len(measured),
            "p50_ms": round(statistics.median(measured) * 1000, 1), "max_ms": round(max(measured) * 1000, 1),
            "goal": "< 1000 ms"}

        big = work / "big.bin"
        with open(big, "wb") as fh:
            chunk = os.urandom(1024 * 1024)
            for _ in range(args.big_mib):
                fh.write(chunk)
        with open(big, "rb") as fh:
            r = http.put(f"{base}/content/{user}/generic/widget/2.0/big.bin?publish=1", data=fh, headers=auth)
        assert r.status_code == 201, r.text
        watched = {"signing": gunicorn_workers(platform.processes["signing-api"].popen.pid),
                   "catalog": gunicorn_workers(platform.processes["catalog-api"].popen.pid)}
        baseline = {pid: rss_kib(pid) for pids in watched.values() for pid in pids}
        peak = dict(baseline)
        done = threading.Event()

        def sample() -> None:
            while not done.is_set():
                for pid in peak:
                    peak[pid] = max(peak[pid], rss_kib(pid))
                time.sleep(0.02)

        sampler = threading.Thread(target=sample)
        sampler.start()
        started = time.perf_counter()
        r = http.post(f"{base}/gpg/{user}/generic/big.bin", headers=auth)
        elapsed = time.perf_counter() - started
        done.set()
        sampler.join()
        assert r.status_code == 200, r.text
        growth = {svc: round(max(peak[p] - baseline[p] for p in pids) / 1024, 1) for svc, pids in watched.items()}
        results["sign_big_file"] = {
            "mib": args.big_mib, "seconds": round(elapsed, 2), "mib_per_second": round(args.big_mib / elapsed, 1),
            "max_worker_rss_growth_mib": growth, "goal": "< 32 MiB (signing)"}
        print(json.dumps(results, indent=2))
    finally:
        platform.stop()
        rabbit.delete_vhost(vhost)
        with admin.connect() as conn:
            for svc in SERVICES:
                conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{tag}_{svc}" WITH (FORCE)'))
        admin.dispose()


if __name__ == "__main__":
    main()
