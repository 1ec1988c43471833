"""A background loop of the worker: does its work, then waits for a PostgreSQL notification or a tick.

Subclasses implement :meth:`run_once` (returns how much it did); a loop that did a full batch runs
again at once. Failures (database outages) pause it with growing, jittered back-off; it never dies.
"""

from __future__ import annotations

import logging
import random
import threading

from sqlalchemy.engine import Engine

from packyard.db import ChannelListener, is_postgres

log = logging.getLogger(__name__)


class BackgroundLoop:
    name = "loop"

    def __init__(self, *, engine: Engine, interval: float, channel: str | None = None, full_batch: int = 1 << 30,
                 backoff_initial: float = 0.5, backoff_max: float = 30.0) -> None:
        self._engine = engine
        self._interval = interval
        self._channel = channel
        self._full_batch = full_batch
        self._backoff_initial, self._backoff_max = backoff_initial, backoff_max
        self._stopping = threading.Event()
        self._listener: ChannelListener | None = None
        self.healthy = threading.Event()

    def run_once(self) -> int:
        raise NotImplementedError

    def stop(self) -> None:
        self._stopping.set()

    @property
    def stopping(self) -> bool:
        return self._stopping.is_set()

    def run(self) -> None:
        backoff = self._backoff_initial
        log.info("%s started", self.name)
        try:
            while not self._stopping.is_set():
                try:
                    done = self.run_once()
                    self.healthy.set()
                    backoff = self._backoff_initial
                    if done < self._full_batch:
                        self._wait()
                except Exception as exc:  # noqa: BLE001 - the loop must outlive any outage
                    self.healthy.clear()
                    self._drop_listener()
                    delay = min(backoff, self._backoff_max) * (0.5 + random.random() / 2)
                    log.warning("%s paused: %s: %s; retrying in %.1fs", self.name, type(exc).__name__, exc, delay)
                    self._stopping.wait(delay)
                    backoff = min(backoff * 2, self._backoff_max)
        finally:
            self._drop_listener()
            log.info("%s stopped", self.name)

    def _wait(self) -> None:
        if self._channel and is_postgres(self._engine):
            if self._listener is None:
                self._listener = ChannelListener(self._engine, self._channel)
            self._listener.wait(self._interval, self._stopping)
        else:
            self._stopping.wait(self._interval)

    def _drop_listener(self) -> None:
        listener, self._listener = self._listener, None
        if listener is not None:
            listener.close()
