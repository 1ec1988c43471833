"""Address checks for outbound calls, and calls pinned to the checked address (real sockets on 127.0.0.1)."""

from __future__ import annotations

import datetime as dt
import ipaddress
import ssl
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from packyard import errors
from packyard.netguard import CheckedTarget, UnsafeURL, check_url, is_public_address, request


def fixed(*addresses):
    calls = []

    def resolve(host, port):
        calls.append((host, port))
        return list(addresses)

    resolve.calls = calls
    return resolve


@pytest.mark.parametrize("url", [
    "http://127.0.0.1/hook", "http://localhost:8080/", "http://[::1]/", "http://10.1.2.3/",
    "http://172.16.0.1/", "http://192.168.1.1/", "http://169.254.169.254/latest/meta-data/",
    "http://100.64.0.1/", "http://100.100.100.200/", "http://0.0.0.0/", "http://[::]/",
    "http://224.0.0.1/", "http://240.0.0.1/", "http://255.255.255.255/", "http://[fe80::1]/",
    "http://[fd00:ec2::254]/", "http://[fc00::1]/", "http://[ff02::1]/", "http://[::ffff:127.0.0.1]/",
    "http://[::ffff:7f00:1]/", "http://[64:ff9b::a9fe:a9fe]/", "http://[2002:7f00:1::]/",
    "http://0x7f000001/", "http://2130706433/", "http://0177.0.0.1/", "http://127.1/",
    "http://198.18.0.1/", "http://192.0.2.1/",
])
def test_non_public_targets_are_refused(url):
    with pytest.raises(UnsafeURL) as caught:
        check_url(url)
    assert caught.value.message


def test_unsafe_url_answers_400_through_the_web_layer():
    assert issubclass(UnsafeURL, errors.Invalid)


@pytest.mark.parametrize("url", ["ftp://example.com/", "file:///etc/passwd", "gopher://x/", "javascript:alert(1)",
                                 "", "   ", "http://", "http://exa mple.com/", "http://user:pw@example.com/",
                                 "http://example.com:99999/", "http://[::1/"])
def test_malformed_or_foreign_urls_are_refused(url):
    with pytest.raises(UnsafeURL):
        check_url(url, resolver=fixed("93.184.216.34"))


def test_public_host_passes_with_every_address_and_the_request_target():
    resolve = fixed("93.184.216.34", "2606:2800:220:1:248:1893:25c8:1946", "93.184.216.34")
    target = check_url("https://Hooks.Example.com/ci/notify?x=1", resolver=resolve)
    assert target == CheckedTarget(
        url="https://Hooks.Example.com/ci/notify?x=1", scheme="https", host="hooks.example.com", port=443,
        addresses=("93.184.216.34", "2606:2800:220:1:248:1893:25c8:1946"), target="/ci/notify?x=1")
    assert resolve.calls == [("hooks.example.com", 443)]


def test_a_name_with_one_private_address_among_public_ones_is_refused():
    with pytest.raises(UnsafeURL, match="10.0.0.5"):
        check_url("http://rebind.example/", resolver=fixed("93.184.216.34", "10.0.0.5"))


def test_unresolvable_host_is_refused():
    def broken(host, port):
        raise OSError("no such host")

    with pytest.raises(UnsafeURL, match="cannot be resolved"):
        check_url("http://nowhere.invalid/", resolver=broken)


def test_operator_allow_list_by_network_address_and_name():
    assert check_url("http://127.0.0.1:9000/h", allow=["127.0.0.0/8"]).addresses == ("127.0.0.1",)
    assert check_url("http://10.0.0.7/", allow=["10.0.0.7"]).addresses == ("10.0.0.7",)
    mapped = check_url("http://[::ffff:127.0.0.1]/", allow=["127.0.0.1/32"]).addresses
    assert [ipaddress.ip_address(a) for a in mapped] == [ipaddress.ip_address("::ffff:127.0.0.1")]
    assert check_url("http://hooks.internal/", allow=["hooks.internal"],
                     resolver=fixed("10.9.9.9")).host == "hooks.internal"
    assert check_url("http://a.b.corp/", allow=[".corp"], resolver=fixed("10.9.9.9")).host == "a.b.corp"
    with pytest.raises(UnsafeURL):
        check_url("http://10.0.0.8/", allow=["10.0.0.7"])
    with pytest.raises(UnsafeURL):
        check_url("http://evilcorp/", allow=[".corp"], resolver=fixed("10.9.9.9"))


def test_public_address_classification():
    assert is_public_address(ipaddress.ip_address("8.8.8.8"))
    assert is_public_address(ipaddress.ip_address("2001:4860:4860::8888"))
    assert not is_public_address(ipaddress.ip_address("100.127.255.255"))
    assert not is_public_address(ipaddress.ip_address("::ffff:10.0.0.1"))


class Recorder(BaseHTTPRequestHandler):
    seen: list = []

    def log_message(self, *args):
        pass

    def _answer(self):
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length)
        Recorder.seen.append((self.command, self.path, dict(self.headers), body))
        if self.path.startswith("/redirect"):
            self.send_response(302)
            self.send_header("Location", "http://127.0.0.1:1/elsewhere")
            self.send_header("Content-Length", "0")
            self.end_headers()
            return
        if self.path.startswith("/slow"):
            threading.Event().wait(3)
        if self.path.startswith("/big"):
            payload = b"x" * 100_000
        else:
            payload = b'{"ok": true}'
        self.send_response(200)
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        try:
            self.wfile.write(payload)
        except OSError:
            pass

    do_POST = do_PUT = do_GET = _answer


@pytest.fixture
def receiver():
    Recorder.seen = []
    server = ThreadingHTTPServer(("127.0.0.1", 0), Recorder)
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server
    server.shutdown()
    server.server_close()


def test_request_connects_to_the_checked_address_and_keeps_the_name(receiver):
    port = receiver.server_address[1]
    target = check_url(f"http://hooks.example:{port}/notify?a=b", allow=["hooks.example"], resolver=fixed("127.0.0.1"))
    answer = request(target, method="post", body=b'{"v": 1}', headers={"Content-Type": "application/json"})
    assert answer.status == 200 and answer.body == b'{"ok": true}' and answer.address == "127.0.0.1"
    method, path, headers, body = Recorder.seen[-1]
    assert (method, path, body) == ("POST", "/notify?a=b", b'{"v": 1}')
    assert headers["Host"] == f"hooks.example:{port}"
    assert headers["Content-Type"] == "application/json"


def test_redirects_are_returned_not_followed(receiver):
    port = receiver.server_address[1]
    answer = request(check_url(f"http://127.0.0.1:{port}/redirect", allow=["127.0.0.1"]))
    assert answer.status == 302
    assert [s[1] for s in Recorder.seen] == ["/redirect"]


def test_slow_receiver_times_out(receiver):
    port = receiver.server_address[1]
    with pytest.raises(TimeoutError):
        request(check_url(f"http://127.0.0.1:{port}/slow", allow=["127.0.0.1"]), timeout=0.5)


def test_only_the_first_bytes_of_a_large_answer_are_kept(receiver):
    port = receiver.server_address[1]
    answer = request(check_url(f"http://127.0.0.1:{port}/big", allow=["127.0.0.1"]), method="GET", max_body=100)
    assert answer.status == 200 and answer.body == b"x" * 100 and answer.truncated


def test_refused_connection_raises_oserror():
    with pytest.raises(OSError):
        request(check_url("http://127.0.0.1:1/", allow=["127.0.0.1"]), connect_timeout=1)


def _self_signed(tmp_path, name):
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, name)])
    now = dt.datetime.now(dt.UTC)
    cert = (x509.CertificateBuilder().subject_name(subject).issuer_name(subject).public_key(key.public_key())
            .serial_number(x509.random_serial_number()).not_valid_before(now - dt.timedelta(minutes=5))
            .not_valid_after(now + dt.timedelta(days=1))
            .add_extension(x509.SubjectAlternativeName([x509.DNSName(name)]), critical=False)
            .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
            .sign(key, hashes.SHA256()))
    cert_path, key_path = tmp_path / "cert.pem", tmp_path / "key.pem"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                           serialization.NoEncryption()))
    return cert_path, key_path


def test_https_sends_sni_and_verifies_the_certificate_for_the_name(tmp_path, receiver):
    cert_path, key_path = _self_signed(tmp_path, "hooks.example")
    server = ThreadingHTTPServer(("127.0.0.1", 0), Recorder)
    names = []
    server_ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    server_ctx.load_cert_chain(cert_path, key_path)
    server_ctx.sni_callback = lambda sock, name, ctx: names.append(name)
    server.socket = server_ctx.wrap_socket(server.socket, server_side=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        port = server.server_address[1]
        client_ctx = ssl.create_default_context(cafile=str(cert_path))
        target = check_url(f"https://hooks.example:{port}/tls", allow=["hooks.example"], resolver=fixed("127.0.0.1"))
        answer = request(target, ssl_context=client_ctx)
        assert answer.status == 200
        assert names == ["hooks.example"]
        assert Recorder.seen[-1][2]["Host"] == f"hooks.example:{port}"
        wrong = check_url(f"https://other.example:{port}/tls", allow=["other.example"], resolver=fixed("127.0.0.1"))
        with pytest.raises(ssl.SSLError):
            request(wrong, ssl_context=client_ctx)
    finally:
        server.shutdown()
        server.server_close()
