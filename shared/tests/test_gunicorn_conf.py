"""The container gunicorn settings, exercised with a real gunicorn master and two workers."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

from packyard.gunicorn_conf import prepare_metrics_dir
from packyard.testing import free_port, wait_for

APP = textwrap.dedent('''
    import os

    from prometheus_client import Counter, Gauge

    from packyard import metrics

    HITS = Counter("conf_test_hits", "requests served")
    LIVE = Gauge("conf_test_live", "one per live worker", multiprocess_mode="livesum")


    def app(environ, start_response):
        if environ["PATH_INFO"] == "/metrics":
            body, content_type = metrics.render()
        else:
            HITS.inc()
            LIVE.set(1)
            body, content_type = str(os.getpid()).encode(), "text/plain"
        start_response("200 OK", [("Content-Type", content_type), ("Content-Length", str(len(body)))])
        return [body]
''')


def _get(port: int, path: str) -> str:
    with urllib.request.urlopen(f"http://127.0.0.1:{port}{path}", timeout=5) as response:
        return response.read().decode()


def _sample(text: str, name: str) -> float:
    for line in text.splitlines():
        if line.startswith(name + " "):
            return float(line.split()[1])
    raise AssertionError(f"{name} not in /metrics")


@pytest.fixture
def metrics_dir(tmp_path: Path) -> Path:
    path = tmp_path / "metrics"
    path.mkdir()
    (path / "counter_4242.db").write_bytes(b"samples of a previous run")
    return path


@pytest.fixture
def gunicorn(tmp_path: Path, metrics_dir: Path) -> Iterator[int]:
    (tmp_path / "conf_test_app.py").write_text(APP)
    port = free_port()
    env = {**os.environ, "WEB_CONCURRENCY": "2", "WEB_THREADS": "2",
           "PROMETHEUS_MULTIPROC_DIR": str(metrics_dir)}
    master = subprocess.Popen(
        [sys.executable, "-m", "gunicorn", "--config", "python:packyard.gunicorn_conf",
         "--bind", f"127.0.0.1:{port}", "--chdir", str(tmp_path), "conf_test_app:app"],
        env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    try:
        wait_for(lambda: _get(port, "/metrics"), timeout=20, message="gunicorn to answer")
        yield port
    finally:
        master.send_signal(signal.SIGTERM)
        try:
            master.wait(timeout=30)
        except subprocess.TimeoutExpired:
            master.kill()
            master.wait()


def test_metrics_of_a_previous_run_are_cleared_when_the_master_starts(gunicorn, metrics_dir):
    assert not (metrics_dir / "counter_4242.db").exists()


def test_metrics_add_up_every_workers_samples(gunicorn):
    pids = {_get(gunicorn, "/") for _ in range(12)}
    # Whichever worker answers /metrics reports the requests of all of them.
    for _ in range(4):
        assert _sample(_get(gunicorn, "/metrics"), "conf_test_hits_total") == 12
    assert len(pids) <= 2


def test_a_worker_that_exits_is_marked_dead(gunicorn, metrics_dir):
    pid = int(_get(gunicorn, "/"))
    live_file = metrics_dir / f"gauge_livesum_{pid}.db"
    assert live_file.exists()
    os.kill(pid, signal.SIGTERM)
    wait_for(lambda: not live_file.exists(), timeout=20, message="the exited worker's live gauge to go")
    # The master replaced the worker; the service keeps answering.
    assert int(wait_for(lambda: _get(gunicorn, "/"), timeout=20)) != pid


def test_without_a_configured_directory_a_private_one_is_made(tmp_path, monkeypatch):
    monkeypatch.setenv("TMPDIR", str(tmp_path))
    environ: dict[str, str] = {}
    import tempfile

    monkeypatch.setattr(tempfile, "tempdir", None)
    path = prepare_metrics_dir(environ)
    assert environ["PROMETHEUS_MULTIPROC_DIR"] == str(path)
    assert path.is_dir() and path.parent == tmp_path and not any(path.iterdir())


def test_a_configured_directory_that_does_not_exist_yet_is_created(tmp_path):
    target = tmp_path / "run" / "prometheus"
    assert prepare_metrics_dir({"PROMETHEUS_MULTIPROC_DIR": str(target)}) == target
    assert target.is_dir()
