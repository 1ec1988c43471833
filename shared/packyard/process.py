"""Running long-lived processes: workers and relays.

:func:`run_loops` runs one or more loops (a :class:`~packyard.consumer.ConsumerRunner`, a
:class:`~packyard.relay.Relay`, …) until SIGTERM or SIGINT, then asks each to stop and
waits for them to finish what they hold — the graceful stop Kubernetes expects.

:func:`serve_health` exposes ``/livez``, ``/readyz`` and ``/metrics`` for such a process
on a small HTTP server thread (the API processes get theirs from :mod:`packyard.web`).
"""

from __future__ import annotations

import json
import logging
import signal
import threading
from collections.abc import Iterable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Protocol

from packyard import metrics
from packyard.web import ReadinessCheck, run_checks

__all__ = ["Loop", "run_loops", "serve_health"]

log = logging.getLogger(__name__)


class Loop(Protocol):
    def run(self) -> None: ...

    def stop(self) -> None: ...


def serve_health(port: int, checks: Iterable[ReadinessCheck], host: str = "0.0.0.0") -> ThreadingHTTPServer:
    """Start the health/metrics server on a daemon thread and return it."""
    checks = tuple(checks)

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:  # noqa: N802 - http.server API
            path = self.path.split("?", 1)[0]
            if path == "/livez":
                self._send(200, "application/json", json.dumps({"status": "alive"}).encode())
            elif path == "/readyz":
                ready, report = run_checks(checks)
                body = json.dumps({"status": "ready" if ready else "unready", "checks": report}).encode()
                self._send(200 if ready else 503, "application/json", body)
            elif path == "/metrics":
                body, content_type = metrics.render()
                self._send(200, content_type, body)
            else:
                self._send(404, "application/json", b'{"message":"Not found"}')

        def _send(self, status: int, content_type: str, body: bytes) -> None:
            self.send_response(status)
            self.send_header("Content-Type", content_type)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *_args: Any) -> None:  # probes every few seconds: keep logs quiet
            return

    server = ThreadingHTTPServer((host, port), Handler)
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, name="health", daemon=True).start()
    return server


def run_loops(loops: Iterable[Loop], *, install_signals: bool = True) -> None:
    """Run every loop on its own thread until SIGTERM/SIGINT (or until one of them ends)."""
    loops = list(loops)
    done = threading.Event()

    def stop_all(*_args: Any) -> None:
        if not done.is_set():
            log.info("stopping")
        done.set()
        for loop in loops:
            loop.stop()

    if install_signals:
        signal.signal(signal.SIGTERM, stop_all)
        signal.signal(signal.SIGINT, stop_all)

    def target(loop: Loop) -> None:
        try:
            loop.run()
        except Exception:  # noqa: BLE001
            log.exception("%s crashed", type(loop).__name__)
        finally:
            stop_all()

    threads = [threading.Thread(target=target, args=(loop,), name=type(loop).__name__) for loop in loops]
    for thread in threads:
        thread.start()
    while not done.wait(0.5):
        pass
    for thread in threads:
        thread.join(timeout=30)
