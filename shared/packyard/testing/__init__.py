"""Test helpers for Packyard services (the pytest fixtures live in :mod:`packyard.testing.plugin`).

* :func:`wait_for` — poll a condition until it holds or a deadline passes; async tests
  wait with it, never with fixed sleeps;
* :class:`TcpProxy` — a TCP forwarder that can be cut and restored, to make a real
  broker or database unreachable for the code under test (the fault) without stopping it;
* :class:`SmtpSink` — a real SMTP server (aiosmtpd) that keeps every message it receives;
* :class:`TokenMinter` — signs access tokens as identity would, to test one service alone;
* :func:`publish_event` — put a CloudEvent on its publisher's exchange as a relay would;
* :func:`running` — run a consumer runner (or any loop) on a thread for the length of a block;
* :mod:`packyard.testing.openapi` — every answer a test receives checked against the service's
  OpenAPI document (the ``openapi_check`` fixture, autouse in every service's suite).
"""

from __future__ import annotations

import contextlib
import email
import email.policy
import socket
import threading
import time
from collections.abc import Callable, Iterator
from email.message import EmailMessage
from typing import Any, TypeVar

__all__ = ["wait_for", "TcpProxy", "SmtpSink", "TokenMinter", "free_port", "publish_event", "running", "statements"]

T = TypeVar("T")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_for(condition: Callable[[], T], *, timeout: float = 10.0, interval: float = 0.05,
             message: str = "condition") -> T:
    """Return the first truthy value of ``condition()``; fail after ``timeout`` seconds.

    Exceptions raised by ``condition`` count as "not yet" until the deadline, then the last
    one is re-raised.
    """
    deadline = time.monotonic() + timeout
    last_exc: BaseException | None = None
    while True:
        try:
            value = condition()
            if value:
                return value
            last_exc = None
        except AssertionError as exc:
            last_exc = exc
        except Exception as exc:  # noqa: BLE001
            last_exc = exc
        if time.monotonic() >= deadline:
            if last_exc is not None:
                raise last_exc
            raise AssertionError(f"timed out after {timeout}s waiting for {message}")
        time.sleep(interval)


class TcpProxy:
    """Forward ``127.0.0.1:<port>`` to ``target``; :meth:`cut` makes the target unreachable.

    While cut, existing connections are closed and new ones are refused at once, as when a
    broker host goes away; :meth:`restore` lets connections through again. A connection that
    stays quiet (a consumer waiting for messages) is kept however long it is idle.
    """

    connect_timeout = 5.0  # seconds to reach the target; not a limit on idleness afterwards

    def __init__(self, target_host: str, target_port: int) -> None:
        self.target = (target_host, target_port)
        self.port = free_port()
        self._open = threading.Event()
        self._open.set()
        self._conns: list[socket.socket] = []
        self._lock = threading.Lock()
        self._stopped = False
        self._server: socket.socket | None = None
        self._listen()
        threading.Thread(target=self._accept_loop, daemon=True, name="tcp-proxy").start()

    def _listen(self) -> None:
        server = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        server.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        server.bind(("127.0.0.1", self.port))
        server.listen(64)
        server.settimeout(0.2)
        self._server = server

    def _accept_loop(self) -> None:
        while not self._stopped:
            try:
                client, _ = self._server.accept()  # type: ignore[union-attr]
            except (TimeoutError, OSError):
                continue
            if not self._open.is_set():
                client.close()
                continue
            try:
                upstream = socket.create_connection(self.target, timeout=self.connect_timeout)
            except OSError:
                client.close()
                continue
            upstream.settimeout(None)  # the timeout was for connecting: a quiet target is not a dead one
            with self._lock:
                self._conns += [client, upstream]
            for a, b in ((client, upstream), (upstream, client)):
                threading.Thread(target=self._pipe, args=(a, b), daemon=True).start()

    def _pipe(self, src: socket.socket, dst: socket.socket) -> None:
        try:
            while True:
                data = src.recv(65536)
                if not data:
                    break
                dst.sendall(data)
        except OSError:
            pass
        finally:
            for s in (src, dst):
                try:
                    s.shutdown(socket.SHUT_RDWR)
                except OSError:
                    pass
                s.close()

    def cut(self) -> None:
        self._open.clear()
        with self._lock:
            conns, self._conns = self._conns, []
        for conn in conns:
            try:
                conn.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
            conn.close()

    def restore(self) -> None:
        self._open.set()

    def close(self) -> None:
        self._stopped = True
        self.cut()
        if self._server is not None:
            self._server.close()


class SmtpSink:
    """A real SMTP server on ``127.0.0.1:<port>`` that keeps every message it receives."""

    def __init__(self, port: int | None = None) -> None:
        from aiosmtpd.controller import Controller

        self.messages: list[EmailMessage] = []
        self._lock = threading.Lock()
        sink = self

        class Handler:
            async def handle_DATA(self, _server: Any, _session: Any, envelope: Any) -> str:  # noqa: N802
                message = email.message_from_bytes(envelope.content, policy=email.policy.default)
                with sink._lock:
                    sink.messages.append(message)
                return "250 Message accepted for delivery"

        self.port = port or free_port()
        self._controller = Controller(Handler(), hostname="127.0.0.1", port=self.port)
        self._controller.start()

    def find(self, predicate: Callable[[EmailMessage], bool]) -> list[EmailMessage]:
        with self._lock:
            return [m for m in self.messages if predicate(m)]

    def wait_for(self, predicate: Callable[[EmailMessage], bool], timeout: float = 10.0) -> EmailMessage:
        return wait_for(lambda: self.find(predicate), timeout=timeout, message="an email")[0]

    def stop(self) -> None:
        self._controller.stop()


# The service credential of /internal/* endpoints in tests (SERVICE_TOKEN; the gateway sends it).
SERVICE_TOKEN = "test-service-token-of-at-least-32-characters"


class TokenMinter:
    """Issues access tokens like identity does, for testing one service on its own.

    Pass :meth:`jwks` as the service's JWKS source; :meth:`headers` gives the
    ``Authorization`` header the gateway would forward for that user.
    """

    def __init__(self) -> None:
        import base64

        from cryptography.hazmat.primitives import serialization
        from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

        self._key = Ed25519PrivateKey.generate()
        raw = self._key.public_key().public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
        self.kid = "test-" + raw.hex()[:12]
        self._jwk = {"kty": "OKP", "crv": "Ed25519", "x": base64.urlsafe_b64encode(raw).rstrip(b"=").decode(),
                     "kid": self.kid, "alg": "EdDSA", "use": "sig"}

    def jwks(self) -> dict[str, Any]:
        return {"keys": [dict(self._jwk)]}

    def token(self, username: str, user_id: str | None = None, *, admin: bool = False, method: str = "apikey",
              auth_time: int | None = None, ttl: int = 300, orgs: dict[str, str] | None = None,
              teams: list[str] | None = None, managed_teams: list[str] | None = None) -> str:
        import jwt

        from packyard.auth import ACCESS_AUDIENCE, ALGORITHM, ISSUER

        now = int(time.time())
        claims: dict[str, Any] = {"iss": ISSUER, "aud": ACCESS_AUDIENCE, "sub": username,
                                  "uid": user_id or f"uid-{username}", "adm": admin, "amr": method,
                                  "iat": now, "exp": now + ttl}
        if auth_time is not None:
            claims["auth_time"] = auth_time
        for name, value in (("orgs", orgs), ("teams", teams), ("managed_teams", managed_teams)):
            if value is not None:
                claims[name] = value
        return jwt.encode(claims, self._key, algorithm=ALGORITHM, headers={"kid": self.kid})

    def headers(self, username: str, **kwargs: Any) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token(username, **kwargs)}"}


def publish_event(amqp_url: str, event: Any, *, body: bytes | None = None) -> None:
    """Publish ``event`` (a :class:`packyard.events.CloudEvent`) to ``<source>.events`` as a relay does.

    ``body`` replaces the serialized event (to send something malformed with its properties).
    """
    import pika

    from packyard import amqp
    from packyard.events import CONTENT_TYPE

    service = event.source.strip("/")
    connection = pika.BlockingConnection(pika.URLParameters(amqp_url))
    try:
        channel = connection.channel()
        channel.confirm_delivery()
        exchange = amqp.declare_events_exchange(channel, service)
        channel.basic_publish(exchange, event.type, event.to_json().encode() if body is None else body,
                              pika.BasicProperties(message_id=event.id, type=event.type, content_type=CONTENT_TYPE,
                                                   delivery_mode=2), mandatory=True)
    finally:
        connection.close()


@contextlib.contextmanager
def running(loop: Any, *, ready: Callable[[], bool] | None = None, timeout: float = 15.0) -> Iterator[Any]:
    """Run ``loop.run()`` on a thread during the block, then ``loop.stop()`` and join it.

    For a :class:`~packyard.consumer.ConsumerRunner` the block starts once it is consuming.
    """
    thread = threading.Thread(target=loop.run, name=type(loop).__name__, daemon=True)
    thread.start()
    try:
        connected = getattr(loop, "connected", None)
        condition = ready or (connected.is_set if connected is not None else None)
        if condition is not None:
            wait_for(condition, timeout=timeout, message=f"{type(loop).__name__} ready")
        yield loop
    finally:
        loop.stop()
        thread.join(timeout)


_TRANSACTION_CONTROL = ("BEGIN", "COMMIT", "ROLLBACK", "SAVEPOINT", "RELEASE")


@contextlib.contextmanager
def statements() -> Iterator[list[str]]:
    """The SQL statements every engine of this process runs during the block (transaction control left
    out), for tests that count what a hot path asks of the database."""
    import sqlalchemy as sa

    seen: list[str] = []

    def record(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        if not statement.lstrip().upper().startswith(_TRANSACTION_CONTROL):
            seen.append(statement)

    sa.event.listen(sa.Engine, "before_cursor_execute", record)
    try:
        yield seen
    finally:
        sa.event.remove(sa.Engine, "before_cursor_execute", record)
