"""Unit tests of the web app's behaviour, against a stand-in API served over real HTTP.

The browser tests (tests/browser) drive the same app through the gateway of a whole platform;
these check what needs no platform: sessions, CSRF, headers, error mapping, concurrency limits.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
from cryptography.fernet import Fernet

from web import config
from web.app import create_app


class StandIn:
    """An HTTP server answering ``(method, path) -> (status, body, headers, delay)`` and recording requests."""

    def __init__(self) -> None:
        self.routes: dict[tuple[str, str], Callable[[dict], tuple]] = {}
        self.requests: list[dict] = []
        stand_in = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *_args: Any) -> None:
                pass

            def _answer(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length) if length else b""
                path = self.path.split("?")[0]
                seen = {"method": self.command, "path": path, "query": self.path.partition("?")[2],
                        "headers": dict(self.headers), "body": body}
                stand_in.requests.append(seen)
                handler = stand_in.routes.get((self.command, path))
                status, payload, headers, delay = (handler(seen) if handler else (404, {"message": "Not found"}, {}, 0))
                time.sleep(delay)
                data = json.dumps(payload).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                for name, value in headers.items():
                    self.send_header(name, value)
                self.end_headers()
                self.wfile.write(data)

            do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = _answer

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def on(self, method: str, path: str, status: int = 200, body: Any = None, headers: dict | None = None,
           delay: float = 0) -> None:
        self.routes[(method, path)] = lambda _req: (status, body if body is not None else {}, headers or {}, delay)

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def stand_in() -> Iterator[StandIn]:
    server = StandIn()
    yield server
    server.close()


@pytest.fixture
def make_app(stand_in):
    def make(**overrides: Any):
        values = dict(api_url=stand_in.url, session_key=Fernet.generate_key().decode(), section_timeout=0.5,
                      api_timeout=2.0)
        values.update(overrides)
        app = create_app(config.check(config.Settings(**values)))
        app.testing = True
        return app

    return make


@pytest.fixture
def app(make_app):
    return make_app()


@pytest.fixture
def client(app):
    return app.test_client()


def csrf_of(html: bytes) -> str:
    import re
    return re.search(rb'name="csrf_token" value="([^"]+)"', html).group(1).decode()


@pytest.fixture
def logged_in(client, stand_in):
    """A visitor logged in as ann through the login form."""
    stand_in.on("POST", "/auth/login", body={"token": "tok-ann", "expires_in": 3600})
    stand_in.on("GET", "/me", body={"name": "ann"})
    token = csrf_of(client.get("/ui/login").data)
    response = client.post("/ui/login", data={"username": "ann", "password": "pw", "csrf_token": token})
    assert response.status_code == 303
    return client
