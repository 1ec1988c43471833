#!/usr/bin/env python3
"""Catalog benchmarks, measured in one run on this machine:

1. anonymous ``GET /packages/:s/:r/:p`` through the gateway, as a fraction of a bare Flask +
   SQLAlchemy primary-key read of the same row behind the same nginx (goal: at least 0.7);
2. the same package read with credentials — Basic ``username:API key`` and ``Bearer <login
   token>``, authenticated through the gateway's ``auth_request`` (identity's answer kept by the
   gateway under the authentication epoch, identity.authn_epoch) — as a fraction of the anonymous
   read (goal: at least 0.6), and their p99 against the anonymous p99 (goal: at most 2×);
3. a 1 MiB download at ``/dl/`` through the gateway, anonymous and with an API key, as a
   fraction of nginx serving the same file directly (goal: at least 0.5 for both);
4. the catalog API worker's memory growth while a 500 MiB file uploads (goal: under 64 MiB).

    .venv/bin/python bench/catalog_bench.py [--seconds 10] [--connections 16] [--upload-mib 500]
        [--rounds 1] [--profile DIR]

Starts the whole platform (as `make run` does) on PostgreSQL databases and a RabbitMQ vhost of
its own, the bare Flask app under the same gunicorn settings, and a second nginx with the same
settings for the two baselines. Load comes from `wrk` (Debian package `wrk`; installed with
apt when running as root). Prints one JSON document with every figure. ``--rounds N`` measures
each read N times, interleaved, and keeps the medians (for a shared machine). ``--upload-mib 0``
skips the upload. ``--profile DIR`` then samples identity's and catalog's API workers with `py-spy`
(``pip install py-spy``) under API-key load and writes their collapsed stacks and a summary of
the hottest functions to DIR (not measured: the sampler slows what it samples).
"""


from __future__ import annotations

import argparse
import base64
import json
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import textwrap
import threading
import time
import uuid
from collections.abc import Callable
from pathlib import Path

import requests
import sqlalchemy as sa

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "deploy" / "local"))
sys.path.insert(0, str(ROOT / "bench"))

from launcher import DEFAULT_PORTS, SERVICES, LocalPlatform  # noqa: E402
from relay_throughput import PG, broker  # noqa: E402

from packyard.testing import free_port, wait_for  # noqa: E402

BARE_APP = textwrap.dedent('''
    """A bare Flask + SQLAlchemy primary-key read: the baseline of the package benchmark."""
    import os

    import flask
    import sqlalchemy as sa

    def create_app():
        app = flask.Flask(__name__)
        engine = sa.create_engine(os.environ["DATABASE_URL"], pool_size=5, pool_pre_ping=True)
        packages = sa.Table("packages", sa.MetaData(), autoload_with=engine)

        @app.get("/bare/<int:package_id>")
        def package(package_id):
            with engine.connect() as conn:
                row = conn.execute(sa.select(packages).where(packages.c.id == package_id)).mappings().first()
            if row is None:
                flask.abort(404)
            return {k: (v.isoformat() if hasattr(v, "isoformat") else v) for k, v in row.items()}

        return app
''')


def ensure_wrk() -> str:
    found = shutil.which("wrk")
    if found:
        return found
    if os.geteuid() == 0:
        subprocess.run(["apt-get", "install", "-y", "-qq", "wrk"], check=True,
                       env=dict(os.environ, DEBIAN_FRONTEND="noninteractive"))
        return shutil.which("wrk") or "wrk"
    raise SystemExit("wrk is not installed: apt-get install wrk")


def wrk(url: str, seconds: int, connections: int, headers: dict[str, str] | None = None) -> dict:
    extra = [arg for name, value in (headers or {}).items() for arg in ("-H", f"{name}: {value}")]
    out = subprocess.run(["wrk", "-t2", f"-c{connections}", f"-d{seconds}s", "--latency", *extra, url],
                         capture_output=True, text=True, check=True).stdout
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))
    total = int(re.search(r"(\d+) requests in", out).group(1))
    non2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    p99 = re.search(r"99%\s+([\d.]+)(us|ms|s)", out)
    scale = {"us": 0.001, "ms": 1.0, "s": 1000.0}
    return {"requests_per_second": round(rps, 1), "errors": int(non2xx.group(1)) if non2xx else 0,
            "p99_ms": round(float(p99.group(1)) * scale[p99.group(2)], 2) if p99 else None, "requests": total}


def process_tree(pid: int) -> list[int]:
    found, todo = [], [pid]
    while todo:
        current = todo.pop()
        found.append(current)
        try:
            todo += children(current)
        except OSError:
            pass
    return found


def cpu_seconds(pids: list[int]) -> float:
    """User and system CPU time the processes have used (those gone meanwhile count nothing)."""
    total = 0
    for pid in pids:
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()
        except OSError:
            continue
        total += int(fields[11]) + int(fields[12])  # utime, stime
    return total / os.sysconf("SC_CLK_TCK")


class CpuMeter:
    """CPU time the platform spends per request: its processes (gateway, APIs, workers), the benchmark's
    own baselines, and the PostgreSQL backends of the benchmark's databases. The load of other work on
    the machine slows every figure but hardly changes what one request costs, so the ratio of these
    costs is what a quiet machine's throughput ratio tends to (when the platform is what is busy)."""

    def __init__(self, roots: list[int], engine: sa.Engine, databases: list[str]) -> None:
        self._roots, self._engine, self._databases = roots, engine, databases

    def pids(self) -> list[int]:
        with self._engine.connect() as conn:
            backends = [row[0] for row in conn.execute(
                sa.text("SELECT pid FROM pg_stat_activity WHERE datname = ANY(:names)"), {"names": self._databases})]
        return [pid for root in self._roots for pid in process_tree(root)] + backends

    def measure(self, run: Callable[[], dict]) -> dict:
        pids = self.pids()
        before = cpu_seconds(pids)
        figures = run()
        used = cpu_seconds(pids) - before
        requests = figures.pop("requests")
        figures["cpu_ms_per_request"] = round(1000 * used / requests, 3) if requests else None
        return figures


def median_of(rounds: list[dict]) -> dict:
    """The median of each figure of several wrk runs (the rounds' own figures kept when there are several)."""
    def median(key: str) -> float | None:
        values = [r[key] for r in rounds if r[key] is not None]
        return round(statistics.median(values), 2) if values else None

    summary = {"requests_per_second": median("requests_per_second"), "errors": sum(r["errors"] for r in rounds),
               "p99_ms": median("p99_ms"), "cpu_ms_per_request": median("cpu_ms_per_request")}
    if len(rounds) > 1:
        summary["rounds"] = [[r["requests_per_second"], r["p99_ms"], r["cpu_ms_per_request"]] for r in rounds]
    return summary


def rss_kib(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    return 0


def children(pid: int) -> list[int]:
    kids: list[int] = []
    for task in Path(f"/proc/{pid}/task").iterdir():
        kids += [int(k) for k in (task / "children").read_text().split()]
    return kids


def gunicorn_workers(shell_pid: int) -> list[int]:
    """The worker processes of the gunicorn started by a Procfile line (shell → master → workers)."""
    masters = [p for p in [shell_pid, *children(shell_pid)] if "gunicorn" in Path(f"/proc/{p}/cmdline").read_text()]
    master = masters[0]
    return children(master)


def profile(platform: LocalPlatform, out: Path, url: str, headers: dict[str, str], args: argparse.Namespace) -> dict:
    """py-spy samples of identity's and catalog's API workers under API-key load: the hottest functions."""
    spy = shutil.which("py-spy") or str(Path(sys.executable).parent / "py-spy")
    out.mkdir(parents=True, exist_ok=True)
    seconds = max(args.seconds, 5)
    samplers = []
    for service in ("identity-api", "catalog-api"):
        for pid in gunicorn_workers(platform.processes[service].popen.pid):
            target = out / f"{service}-{pid}.txt"
            samplers.append((service, target, subprocess.Popen(
                [spy, "record", "--pid", str(pid), "--duration", str(seconds), "--rate", "200", "--format", "raw",
                 "--nonblocking", "--output", str(target)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)))
    time.sleep(1)
    wrk(url, seconds, args.connections, headers)
    for _service, _target, proc in samplers:
        proc.wait(60)
    summary: dict = {}
    for service in ("identity-api", "catalog-api"):
        own: dict[str, int] = {}
        inclusive: dict[str, int] = {}
        total = 0
        for _s, target, _p in (entry for entry in samplers if entry[0] == service):
            if not target.exists():
                continue
            for line in target.read_text().splitlines():
                stack, _, count = line.rpartition(" ")
                frames = [f for f in stack.split(";") if f]
                if not frames or not count.isdigit():
                    continue
                n = int(count)
                if any("wait" in f and "threading.py" in f for f in frames[-2:]) or "select" in frames[-1]:
                    continue  # idle threads
                total += n
                own[frames[-1]] = own.get(frames[-1], 0) + n
                for frame in set(frames):
                    inclusive[frame] = inclusive.get(frame, 0) + n
        top = sorted(inclusive.items(), key=lambda kv: -kv[1])
        summary[service] = {
            "busy_samples": total,
            "top_inclusive": [[frame, round(n / total, 3)] for frame, n in top[:40]] if total else [],
            "top_own": [[frame, round(n / total, 3)] for frame, n in sorted(own.items(), key=lambda kv: -kv[1])[:15]]
            if total else []}
    (out / "summary.json").write_text(json.dumps(summary, indent=2))
    return {"written_to": str(out)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=int, default=10)
    parser.add_argument("--connections", type=int, default=16)
    parser.add_argument("--upload-mib", type=int, default=500)
    parser.add_argument("--rounds", type=int, default=1,
                        help="measure every figure this many times, interleaved, and keep the medians")
    parser.add_argument("--profile", metavar="DIR", help="sample identity's and catalog's API workers with py-spy")
    args = parser.parse_args()
    ensure_wrk()

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
    extra: list[subprocess.Popen] = []
    results: dict = {}
    try:
        platform.migrate()
        platform.start()
        platform.wait_ready(timeout=120)
        base = platform.gateway_url
        http = requests.Session()

        # a publisher, a repository, a package with a version and a published 1 MiB file
        user = f"bench{uuid.uuid4().hex[:6]}"
        password = "a long enough password"
        assert http.post(f"{base}/auth/signup", json={"username": user, "email": f"{user}@example.com",
                                                       "password": password}).status_code == 201
        token = http.post(f"{base}/auth/login", json={"username": user, "password": password}).json()["token"]
        auth = {"Authorization": f"Bearer {token}"}
        wait_for(lambda: http.get(f"{base}/repos/{user}").status_code == 200, timeout=30,
                 message="catalog knowing the user")
        r = http.post(f"{base}/repos/{user}/generic", json={"type": "generic", "desc": "bench"}, headers=auth)
        assert r.status_code == 201, r.text
        r = http.post(f"{base}/packages/{user}/generic", headers=auth, json={
            "name": "widget", "desc": "a widget", "licenses": ["MIT"], "vcs_url": "https://example.com/widget.git"})
        assert r.status_code == 201, r.text
        payload = os.urandom(1024 * 1024)
        r = http.put(f"{base}/content/{user}/generic/widget/1.0/widget-1.0.bin?publish=1", data=payload, headers=auth)
        assert r.status_code == 201, r.text
        package_url = f"{base}/packages/{user}/generic/widget"
        download_url = f"{base}/dl/{user}/generic/widget-1.0.bin"
        assert http.get(package_url).status_code == 200
        r = http.post(f"{base}/me/apikey", headers=auth)
        assert r.status_code == 201, r.text
        basic = {"Authorization": "Basic " + base64.b64encode(f"{user}:{r.json()['api_key']}".encode()).decode()}
        for headers in (basic, auth):
            r = http.get(package_url, headers=headers)
            assert r.status_code == 200 and r.json()["name"] == "widget", r.text
        assert http.get(download_url, headers=basic).content == payload
        downloaded = http.get(download_url)
        assert downloaded.status_code == 200 and downloaded.content == payload, (
            downloaded.status_code, downloaded.headers, downloaded.content[:300])

        # the baselines: a bare Flask app and a plain static file, behind an nginx of the same settings
        catalog_engine = sa.create_engine(urls["CATALOG_DATABASE_URL"])
        with catalog_engine.connect() as conn:
            package_id = conn.execute(sa.text("SELECT id FROM packages WHERE name = 'widget'")).scalar_one()
        catalog_engine.dispose()
        (work / "bare_app.py").write_text(BARE_APP)
        static_dir = work / "static"
        static_dir.mkdir()
        (static_dir / "widget-1.0.bin").write_bytes(payload)
        bare_port, nginx_port = free_port(), free_port()
        env = dict(platform.env, DATABASE_URL=urls["CATALOG_DATABASE_URL"])
        extra.append(subprocess.Popen(
            [str(Path(sys.executable).parent / "gunicorn"), "--config", "python:packyard.gunicorn_conf",
             "--bind", f"127.0.0.1:{bare_port}", "--chdir", str(work), "bare_app:create_app()"],
            env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL))
        gateway_conf = (platform.var_dir / "gateway" / "nginx.conf").read_text()
        head = gateway_conf.split("http {")[0]
        bare_dir = work / "nginx"
        (bare_dir / "tmp").mkdir(parents=True)
        head = head.replace(str(platform.var_dir / "gateway"), str(bare_dir))
        (bare_dir / "nginx.conf").write_text(head + textwrap.dedent(f"""
            http {{
                access_log off;
                sendfile on;
                client_body_temp_path {bare_dir}/tmp/client_body;
                proxy_temp_path {bare_dir}/tmp/proxy;
                fastcgi_temp_path {bare_dir}/tmp/fastcgi;
                uwsgi_temp_path {bare_dir}/tmp/uwsgi;
                scgi_temp_path {bare_dir}/tmp/scgi;
                upstream bare {{ server 127.0.0.1:{bare_port}; keepalive 32; }}
                server {{
                    listen 127.0.0.1:{nginx_port};
                    proxy_http_version 1.1;
                    proxy_set_header Connection "";
                    location /bare/ {{ proxy_pass http://bare; }}
                    location /static/ {{ alias {static_dir}/; tcp_nopush on; }}
                }}
            }}
        """))
        nginx = shutil.which("nginx") or "/usr/sbin/nginx"
        extra.append(subprocess.Popen([nginx, "-p", str(bare_dir), "-c", str(bare_dir / "nginx.conf"), "-e", "stderr",
                                       "-g", "daemon off;"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL))
        bare_url = f"http://127.0.0.1:{nginx_port}/bare/{package_id}"
        static_url = f"http://127.0.0.1:{nginx_port}/static/widget-1.0.bin"
        wait_for(lambda: requests.get(bare_url, timeout=2).status_code == 200, timeout=30, message="bare app")
        assert requests.get(static_url).content == payload

        runs = {  # name: (url, headers)
            "package_anonymous": (package_url, None), "package_bare": (bare_url, None),
            "package_apikey": (package_url, basic), "package_bearer": (package_url, auth),
            "download_anonymous": (download_url, None), "download_apikey": (download_url, basic),
            "download_nginx_direct": (static_url, None)}
        for url, headers in runs.values():  # warm every path
            wrk(url, 2, args.connections, headers)
        meter = CpuMeter([proc.popen.pid for proc in platform.processes.values() if proc.popen is not None]
                         + [proc.pid for proc in extra], admin, [f"{tag}_{svc}" for svc in SERVICES])
        # Rounds of every measurement one after the other, medians kept: on a shared machine the load
        # changes over a run, and interleaving spreads it over the figures that are compared.
        measured: dict[str, list[dict]] = {name: [] for name in runs}
        for _ in range(args.rounds):
            for name, (url, headers) in runs.items():
                measured[name].append(meter.measure(lambda u=url, h=headers: wrk(u, args.seconds, args.connections, h)))
        figures = {name: median_of(rounds) for name, rounds in measured.items()}

        def fraction(name: str, of: str) -> float:
            return round(figures[name]["requests_per_second"] / figures[of]["requests_per_second"], 3)

        def cost_fraction(name: str, of: str) -> float | None:
            mine, theirs = figures[name]["cpu_ms_per_request"], figures[of]["cpu_ms_per_request"]
            return round(theirs / mine, 3) if mine and theirs else None

        def p99_ratio(name: str, of: str) -> float | None:
            mine, theirs = figures[name]["p99_ms"], figures[of]["p99_ms"]
            return round(mine / theirs, 2) if mine and theirs else None

        results["package_read"] = {
            "gateway": figures["package_anonymous"], "bare_flask_sqlalchemy": figures["package_bare"],
            "fraction": fraction("package_anonymous", "package_bare"), "goal": ">= 0.7"}
        results["authenticated_package_read"] = {
            "api_key": figures["package_apikey"], "bearer": figures["package_bearer"],
            "api_key_fraction_of_anonymous": fraction("package_apikey", "package_anonymous"),
            "bearer_fraction_of_anonymous": fraction("package_bearer", "package_anonymous"),
            "goal": ">= 0.6",
            "api_key_p99_over_anonymous_p99": p99_ratio("package_apikey", "package_anonymous"),
            "bearer_p99_over_anonymous_p99": p99_ratio("package_bearer", "package_anonymous"),
            "p99_goal": "<= 2",
            # anonymous CPU per request ÷ authenticated CPU per request: the fraction a quiet machine tends to
            "api_key_cpu_cost_fraction": cost_fraction("package_apikey", "package_anonymous"),
            "bearer_cpu_cost_fraction": cost_fraction("package_bearer", "package_anonymous")}
        results["download_1mib"] = {
            "gateway": figures["download_anonymous"], "gateway_api_key": figures["download_apikey"],
            "nginx_direct": figures["download_nginx_direct"],
            "fraction": fraction("download_anonymous", "download_nginx_direct"),
            "api_key_fraction": fraction("download_apikey", "download_nginx_direct"),
            "api_key_cpu_cost_fraction": cost_fraction("download_apikey", "download_nginx_direct"), "goal": ">= 0.5"}
        results["load_average"] = [round(load, 1) for load in os.getloadavg()]
        if args.profile:
            results["profile"] = profile(platform, Path(args.profile), package_url, basic, args)

        # memory of the catalog API workers while a large file streams in
        if not args.upload_mib:
            print(json.dumps(results, indent=2))
            return
        big = work / "big.bin"
        with open(big, "wb") as fh:
            chunk = os.urandom(1024 * 1024)
            for _ in range(args.upload_mib):
                fh.write(chunk)
        workers = gunicorn_workers(platform.processes["catalog-api"].popen.pid)
        baseline = {pid: rss_kib(pid) for pid in workers}
        peak = dict(baseline)
        done = threading.Event()

        def sample() -> None:
            while not done.is_set():
                for pid in workers:
                    peak[pid] = max(peak[pid], rss_kib(pid))
                time.sleep(0.05)

        sampler = threading.Thread(target=sample)
        sampler.start()
        started = time.perf_counter()
        with open(big, "rb") as fh:
            r = http.put(f"{base}/content/{user}/generic/widget/2.0/big-2.0.bin", data=fh, headers=auth)
        elapsed = time.perf_counter() - started
        done.set()
        sampler.join()
        assert r.status_code == 201, r.text
        growth = max(peak[pid] - baseline[pid] for pid in workers) / 1024
        results["upload_memory"] = {
            "upload_mib": args.upload_mib, "seconds": round(elapsed, 1),
            "mib_per_second": round(args.upload_mib / elapsed, 1),
            "worker_rss_before_mib": {str(p): round(v / 1024, 1) for p, v in baseline.items()},
            "max_worker_rss_growth_mib": round(growth, 1), "goal": "< 64"}
        print(json.dumps(results, indent=2))
    finally:
        for proc in extra:
            proc.terminate()
            proc.wait(20)
        platform.stop()
        rabbit.delete_vhost(vhost)
        with admin.connect() as conn:
            for svc in SERVICES:
                conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{tag}_{svc}" WITH (FORCE)'))
        admin.dispose()
        if not os.environ.get("BENCH_KEEP"):
            shutil.rmtree(work, ignore_errors=True)
        else:
            print("kept", work)


if __name__ == "__main__":
    main()
