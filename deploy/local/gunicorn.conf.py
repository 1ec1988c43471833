"""gunicorn settings for a local run (containers pass their own flags).

Each API master gets its own Prometheus multiprocess directory so /metrics aggregates
its workers, and files of dead workers are marked as such.
"""

import os
import tempfile

workers = int(os.environ.get("WEB_CONCURRENCY", "2"))
threads = int(os.environ.get("WEB_THREADS", "4"))
worker_class = "gthread"
timeout = 300  # large uploads stream through one request
graceful_timeout = 20
keepalive = 30
accesslog = None
errorlog = "-"

if not os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
    os.environ["PROMETHEUS_MULTIPROC_DIR"] = tempfile.mkdtemp(prefix="packyard-metrics-")


def child_exit(_server, worker):
    from prometheus_client import multiprocess

    multiprocess.mark_process_dead(worker.pid)
