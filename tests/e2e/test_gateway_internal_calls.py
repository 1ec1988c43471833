"""The gateway's sub-requests to /internal/* endpoints: the service credential, and the same forwarding
headers as its normal proxying (never what the client sent); the country it decides itself.

A real nginx runs the generated configuration in front of one recording HTTP server that stands
in for every service.
"""

from __future__ import annotations

import http.client
import http.server
import json
import subprocess
import threading
from pathlib import Path

import pytest
from launcher import DEFAULT_PORTS, render_gateway

from packyard.testing import free_port, wait_for

pytestmark = pytest.mark.e2e

TOKEN = "gateway-test-service-token-0123456789abcdef"
CLIENT_HEADERS = {"X-Request-Id": "client-chosen-id", "X-Forwarded-For": "203.0.113.9",
                  "traceparent": "00-11111111111111111111111111111111-2222222222222222-01",
                  "X-Country-Code": "ZZ", "X-Service-Token": "forged"}


class Recorder(http.server.ThreadingHTTPServer):
    def __init__(self) -> None:
        self.seen: list[tuple[str, str, dict[str, str]]] = []

        recorder = self

        class Handler(http.server.BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def _answer(self) -> None:
                recorder.seen.append((self.command, self.path, {k.lower(): v for k, v in self.headers.items()}))
                headers = {"Content-Type": "application/json"}
                if self.path.startswith("/internal/authn"):
                    headers["X-Packyard-Token"] = "access-token"
                elif self.path.startswith("/internal/downloads/decision"):
                    headers.update({"X-Packyard-Blob": "ab/blob", "X-Checksum-Sha1": "1" * 40,
                                    "X-Checksum-Sha2": "2" * 64, "X-Packyard-Filename": "f.bin"})
                body = b"{}"
                self.send_response(200)
                for name, value in {**headers, "Content-Length": str(len(body))}.items():
                    self.send_header(name, value)
                self.end_headers()
                self.wfile.write(body)

            do_GET = do_POST = do_PUT = _answer

            def log_message(self, *args) -> None:
                pass

        super().__init__(("127.0.0.1", 0), Handler)

    def requests_to(self, prefix: str) -> list[dict[str, str]]:
        return [headers for _method, path, headers in self.seen if path.startswith(prefix)]


@pytest.fixture(scope="module")
def gateway(tmp_path_factory):
    var = tmp_path_factory.mktemp("gateway")
    recorder = Recorder()
    threading.Thread(target=recorder.serve_forever, daemon=True).start()
    geoip = var / "countries.conf"
    geoip.write_text("127.0.0.2/32 NZ;\n")
    (var / "blobs" / "ab").mkdir(parents=True)
    (var / "blobs" / "ab" / "blob").write_bytes(b"file bytes")
    env = {"PACKYARD_VAR": str(var), "BLOB_STORAGE_PATH": str(var / "blobs"), "DOWNLOAD_LOG_DIR": str(var / "logs"),
           "GATEWAY_PORT": str(free_port()), "SERVICE_TOKEN": TOKEN, "GEOIP_COUNTRY_FILE": str(geoip),
           "GATEWAY_WORKERS": "1", "WEB_TRUSTED_ADDRESSES": "127.0.0.3",  # the clients here are the public
           **{name: str(recorder.server_port) for name in DEFAULT_PORTS
              if name not in ("GATEWAY_PORT", "GATEWAY_CONTROL_PORT", "SMTP_PORT")},
           "GATEWAY_CONTROL_PORT": str(free_port())}
    conf = render_gateway(env)
    nginx = subprocess.Popen(["nginx", "-p", str(conf.parent), "-c", str(conf), "-e", "stderr", "-g", "daemon off;"])
    port = int(env["GATEWAY_PORT"])

    def up() -> bool:
        try:
            return request(port, "GET", "/livez")[0] == 200
        except OSError:
            return False

    wait_for(up, timeout=15)
    yield port, recorder, Path(env["DOWNLOAD_LOG_DIR"])
    nginx.terminate()
    nginx.wait(10)
    recorder.shutdown()


def request(port: int, method: str, path: str, headers: dict[str, str] | None = None,
            source: str = "127.0.0.1") -> tuple[int, dict[str, str]]:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10, source_address=(source, 0))
    try:
        conn.request(method, path, headers=headers or {})
        response = conn.getresponse()
        response.read()
        return response.status, {k.lower(): v for k, v in response.getheaders()}
    finally:
        conn.close()


def test_the_authentication_subrequest_carries_the_credential_and_the_gateways_forwarding_headers(gateway):
    port, recorder, _logs = gateway
    recorder.seen.clear()
    status, answer = request(port, "GET", "/repos/alice", {**CLIENT_HEADERS, "Authorization": "Basic YTpi"})
    assert status == 200
    [authn] = [headers for _method, path, headers in recorder.seen if path == "/internal/authn"]
    # the authentication epoch the gateway keeps identity's answers under: the credential, no client header
    [epoch] = recorder.requests_to("/internal/authn/epoch")
    assert epoch["x-service-token"] == TOKEN and "authorization" not in epoch
    [proxied] = recorder.requests_to("/repos/alice")
    rid = proxied["x-request-id"]
    assert rid != "client-chosen-id"
    for sent in (authn, proxied):
        assert sent["x-request-id"] == rid
        assert sent["x-forwarded-for"] == "203.0.113.9, 127.0.0.1"  # the gateway's own computation
        assert sent["traceparent"].startswith(f"00-{rid}-") and sent["traceparent"] != CLIENT_HEADERS["traceparent"]
        assert "x-country-code" not in sent  # what the client claimed is dropped; no GeoIP entry for it
    assert authn["x-service-token"] == TOKEN and authn["authorization"] == "Basic YTpi"
    assert "x-service-token" not in proxied and proxied["authorization"] == "Bearer access-token"


def test_the_download_decision_carries_the_credential_and_the_country_is_the_gateways(gateway):
    port, recorder, logs = gateway
    recorder.seen.clear()
    status, answer = request(port, "GET", "/dl/alice/main/f.bin", CLIENT_HEADERS)
    assert status == 200
    [decision] = recorder.requests_to("/internal/downloads/decision")
    assert decision["x-service-token"] == TOKEN
    assert decision["x-request-id"] == answer["x-request-id"] != "client-chosen-id"
    assert decision["x-forwarded-for"] == "203.0.113.9, 127.0.0.1"
    assert decision["traceparent"].startswith(f"00-{answer['x-request-id']}-")
    assert "x-country-code" not in decision
    # from an address the GeoIP data places in New Zealand (the decision itself is cached by path)
    assert request(port, "GET", "/dl/alice/main/f.bin", CLIENT_HEADERS, source="127.0.0.2")[0] == 200
    status, _ = request(port, "GET", "/repos/alice", CLIENT_HEADERS, source="127.0.0.2")
    assert recorder.requests_to("/repos/alice")[-1]["x-country-code"] == "NZ"

    def logged() -> list[dict]:
        return [json.loads(line) for path in logs.glob("downloads-*.log") for line in path.read_text().splitlines()]

    lines = wait_for(lambda: (found := logged()) and len(found) >= 2 and found, timeout=10)
    assert [line["country"] for line in lines[-2:]] == ["", "NZ"]
