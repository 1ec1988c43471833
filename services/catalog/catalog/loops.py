"""Background loops the catalog worker runs beside its consumers (``worker_loops()``)."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable

from prometheus_client import Counter

log = logging.getLogger(__name__)

FAILURES = Counter("packyard_catalog_loop_failures_total", "Passes of a catalog worker loop that failed", ["loop"])


class Periodic:
    """Calls ``work()`` every ``interval`` seconds until :meth:`stop`; a failed pass is logged and retried
    at the next one (each pass commits what it did or nothing)."""

    def __init__(self, name: str, work: Callable[[], object], interval: float) -> None:
        self.name = name
        self._work = work
        self._interval = interval
        self._stopping = threading.Event()

    def run(self) -> None:
        log.info("%s: running every %gs", self.name, self._interval)
        while not self._stopping.is_set():
            try:
                self._work()
            except Exception:  # noqa: BLE001 - the loop outlives one bad pass
                FAILURES.labels(self.name).inc()
                log.exception("%s: pass failed; trying again in %gs", self.name, self._interval)
            self._stopping.wait(self._interval)

    def stop(self) -> None:
        self._stopping.set()
