"""The visitor's address through the web app: the gateway believes X-Forwarded-For from the web app's
addresses (WEB_TRUSTED_ADDRESSES) only, so identity throttles sign-ups and logins per visitor of the pages
while a public client cannot pass itself off as another address.

A real nginx runs the generated configuration in front of one recording HTTP server that stands in for
every service; the web app is a client connecting from 127.0.0.3, the public from 127.0.0.1 and 127.0.0.2.
"""

from __future__ import annotations

import http.client
import http.server
import subprocess
import threading

import pytest
from launcher import DEFAULT_PORTS, render_gateway

from packyard.testing import free_port, wait_for

pytestmark = pytest.mark.e2e

WEB_APP = "127.0.0.3"
VISITOR = "198.51.100.7"


class Recorder(http.server.ThreadingHTTPServer):
    def __init__(self) -> None:
        self.seen: list[tuple[str, dict[str, str]]] = []
        recorder = self

        class Handler(http.server.BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def _answer(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                self.rfile.read(length)
                recorder.seen.append((self.path, {k.lower(): v for k, v in self.headers.items()}))
                body = b"{}"
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            do_GET = do_POST = _answer

            def log_message(self, *args) -> None:
                pass

        super().__init__(("127.0.0.1", 0), Handler)

    def last(self, path: str) -> dict[str, str]:
        return [headers for seen, headers in self.seen if seen == path][-1]


@pytest.fixture(scope="module")
def gateway(tmp_path_factory):
    var = tmp_path_factory.mktemp("gateway")
    recorder = Recorder()
    threading.Thread(target=recorder.serve_forever, daemon=True).start()
    env = {"PACKYARD_VAR": str(var), "BLOB_STORAGE_PATH": str(var / "blobs"), "DOWNLOAD_LOG_DIR": str(var / "logs"),
           "GATEWAY_PORT": str(free_port()), "SERVICE_TOKEN": "gateway-test-service-token-0123456789abcdef",
           "GATEWAY_WORKERS": "1", "WEB_TRUSTED_ADDRESSES": f"{WEB_APP}, 192.0.2.0/24",
           **{name: str(recorder.server_port) for name in DEFAULT_PORTS
              if name not in ("GATEWAY_PORT", "GATEWAY_CONTROL_PORT", "SMTP_PORT")},
           "GATEWAY_CONTROL_PORT": str(free_port())}
    conf = render_gateway(env)
    nginx = subprocess.Popen(["nginx", "-p", str(conf.parent), "-c", str(conf), "-e", "stderr", "-g", "daemon off;"])
    port = int(env["GATEWAY_PORT"])

    def up() -> bool:
        try:
            return post(port, "/livez", {}, "127.0.0.1") == 200
        except OSError:
            return False

    wait_for(up, timeout=15)
    yield port, recorder
    nginx.terminate()
    nginx.wait(10)
    recorder.shutdown()


def post(port: int, path: str, headers: dict[str, str], source: str) -> int:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10, source_address=(source, 0))
    try:
        conn.request("GET" if path == "/livez" else "POST", path, body=b"{}" if path != "/livez" else None,
                     headers={"Content-Type": "application/json", **headers})
        response = conn.getresponse()
        response.read()
        return response.status
    finally:
        conn.close()


def client_address(headers: dict[str, str]) -> str:
    """The address identity throttles by: the last X-Forwarded-For entry (TRUSTED_PROXIES=1)."""
    return headers["x-forwarded-for"].split(",")[-1].strip()


def test_the_visitors_address_the_web_app_passes_reaches_the_service(gateway):
    port, recorder = gateway
    assert post(port, "/auth/login", {"X-Forwarded-For": VISITOR}, WEB_APP) == 200
    seen = recorder.last("/auth/login")
    assert client_address(seen) == VISITOR and seen["x-real-ip"] == VISITOR
    # the address the web app read from the gateway's own header, after what the visitor claimed
    assert post(port, "/auth/signup", {"X-Forwarded-For": f"203.0.113.66, {VISITOR}"}, WEB_APP) == 200
    assert client_address(recorder.last("/auth/signup")) == VISITOR


@pytest.mark.parametrize("source", ["127.0.0.1", "127.0.0.2"])
def test_a_public_client_cannot_pass_itself_off_as_another_address(gateway, source):
    port, recorder = gateway
    assert post(port, "/auth/login", {"X-Forwarded-For": VISITOR}, source) == 200
    seen = recorder.last("/auth/login")
    assert client_address(seen) == source and seen["x-real-ip"] == source
    assert seen["x-forwarded-for"] == f"{VISITOR}, {source}"
