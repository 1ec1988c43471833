"""gunicorn settings for a service's API process in a container.

    gunicorn --config python:packyard.gunicorn_conf --bind 0.0.0.0:8000 '<service>.app:create_app()'

Read from the environment when gunicorn starts:

``WEB_CONCURRENCY`` (default 2)
    worker processes; size it to the CPUs the container is given.
``WEB_THREADS`` (default 4)
    threads per worker (``gthread``): requests waiting on the database or on a slow
    client do not hold a whole process.
``GUNICORN_TIMEOUT`` (default 300)
    seconds a request may take: large uploads and downloads stream through one request.
``PROMETHEUS_MULTIPROC_DIR`` (optional)
    where the workers write their metric samples so that ``/metrics`` aggregates them all
    (see :mod:`packyard.metrics`). The directory is created if missing and emptied when
    the master starts, so a restarted container does not add up the samples of the
    previous run; without the variable the master makes a fresh private directory.
    Samples of a worker that exits are marked dead, so live gauges drop them.

Guarantees: workers stop gracefully within ``graceful_timeout`` (20 s, under the 30 s a
Kubernetes pod is given after SIGTERM); idle keep-alive connections outlive the gateway's
(nginx closes its idle upstream connections after 60 s), so nginx never reuses a connection
gunicorn has just closed.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path
from typing import Any

__all__ = ["prepare_metrics_dir"]


def _int(name: str, default: int) -> int:
    raw = os.environ.get(name, "")
    try:
        return int(raw) if raw.strip() else default
    except ValueError:
        raise SystemExit(f"configuration error: {name} must be an integer, got {raw!r}") from None


def prepare_metrics_dir(environ: Any = os.environ) -> Path:
    """Make ``PROMETHEUS_MULTIPROC_DIR`` an existing, empty directory (or create one) and return it."""
    configured = environ.get("PROMETHEUS_MULTIPROC_DIR")
    if not configured:
        path = Path(tempfile.mkdtemp(prefix="prometheus-"))
        environ["PROMETHEUS_MULTIPROC_DIR"] = str(path)
        return path
    path = Path(configured)
    path.mkdir(parents=True, exist_ok=True)
    for stale in path.glob("*.db"):
        stale.unlink()
    return path


workers = _int("WEB_CONCURRENCY", 2)
threads = _int("WEB_THREADS", 4)
worker_class = "gthread"
timeout = _int("GUNICORN_TIMEOUT", 300)
graceful_timeout = 20
keepalive = 75
# gunicorn's most: the gateway refuses request lines and headers over 8 KiB itself, with a JSON message,
# so no request it passes meets gunicorn's HTML 414/431 page
limit_request_line = 8190
limit_request_field_size = 8190
# The heartbeat file lives in memory: a disk-backed or read-only /tmp must not stall workers.
worker_tmp_dir = "/dev/shm" if os.path.isdir("/dev/shm") and os.access("/dev/shm", os.W_OK) else None
accesslog = None  # the gateway keeps the access log; request counts and latencies are metrics
errorlog = "-"
# No runtime control socket (gunicorn 25.1+): the orchestrator scales by replicas, and the
# socket's default place, the home directory, is not writable in the images.
control_socket_disable = True


def on_starting(_server: Any) -> None:
    prepare_metrics_dir()


def child_exit(_server: Any, worker: Any) -> None:
    from prometheus_client import multiprocess

    multiprocess.mark_process_dead(worker.pid)
