"""Outbound HTTP to addresses users chose (webhooks, Mastodon instances), without SSRF.

:func:`check_url` parses a URL (http and https only), resolves its host once and refuses it
when any address it resolves to is not a public unicast address: loopback, private, link-local
(the cloud metadata endpoints 169.254.169.254 and fd00:ec2::254 included), unique-local,
multicast, unspecified, reserved, shared/CGNAT (100.64.0.0/10) and the documentation and
benchmarking ranges. Numeric spellings of IPv4 that resolvers accept (``0x7f000001``,
``2130706433``, ``0177.0.0.1``, ``127.1``) and IPv6 forms that embed an IPv4 address
(IPv4-mapped ``::ffff:127.0.0.1``, NAT64, 6to4) are judged by the address they mean.

Operators may allow targets with ``allow`` entries: a host name (``hooks.internal``, or
``.internal`` for a domain and its sub-domains), an address (``10.0.0.7``) or a network in CIDR
form (``127.0.0.0/8``). An address in an allowed network, or any address of an allowed host
name, passes.

:func:`request` then calls the :class:`CheckedTarget` by connecting to the address that was
checked — never resolving the name again, so a DNS answer cannot change between the check and
the call — while keeping the name for the ``Host`` header, TLS SNI and certificate checks. It
never follows redirects (a 3xx is returned as the answer), bounds connect and read time, and keeps
only the first bytes of the answer.
"""

from __future__ import annotations

import http.client
import ipaddress
import socket
import ssl
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from urllib.parse import urlsplit

from packyard.errors import Invalid

__all__ = ["UnsafeURL", "CheckedTarget", "Response", "check_url", "request", "is_public_address"]

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
Resolver = Callable[[str, int], Iterable[str]]

_NOT_PUBLIC_V4 = [ipaddress.ip_network(n) for n in (
    "0.0.0.0/8", "10.0.0.0/8", "100.64.0.0/10", "127.0.0.0/8", "169.254.0.0/16", "172.16.0.0/12",
    "192.0.0.0/24", "192.0.2.0/24", "192.88.99.0/24", "192.168.0.0/16", "198.18.0.0/15",
    "198.51.100.0/24", "203.0.113.0/24", "224.0.0.0/4", "240.0.0.0/4", "255.255.255.255/32",
)]
_NOT_PUBLIC_V6 = [ipaddress.ip_network(n) for n in (
    "::/128", "::1/128", "::/96", "100::/64", "2001:db8::/32", "2001::/23", "fc00::/7",
    "fe80::/10", "fec0::/10", "ff00::/8",
)]
_NAT64 = ipaddress.ip_network("64:ff9b::/96")
_NAT64_LOCAL = ipaddress.ip_network("64:ff9b:1::/48")
_SIX_TO_FOUR = ipaddress.ip_network("2002::/16")


class UnsafeURL(Invalid):
    """The URL may not be called: not http(s), unresolvable, or it leads to a non-public address."""


@dataclass(frozen=True)
class CheckedTarget:
    url: str
    scheme: str
    host: str
    port: int
    addresses: tuple[str, ...]
    target: str = "/"  # path and query, as sent on the request line

    @property
    def host_header(self) -> str:
        name = f"[{self.host}]" if ":" in self.host else self.host
        default = 443 if self.scheme == "https" else 80
        return name if self.port == default else f"{name}:{self.port}"


@dataclass
class Response:
    status: int
    headers: dict[str, str]
    body: bytes  # the first max_body bytes
    elapsed_ms: int
    address: str
    truncated: bool = False
    extra: dict = field(default_factory=dict)

    def text(self) -> str:
        return self.body.decode("utf-8", errors="replace")


def _embedded_v4(address: ipaddress.IPv6Address) -> ipaddress.IPv4Address | None:
    if address.ipv4_mapped is not None:
        return address.ipv4_mapped
    if address in _NAT64:
        return ipaddress.IPv4Address(int(address) & 0xFFFFFFFF)
    if address in _SIX_TO_FOUR:
        return address.sixtofour
    return None


def is_public_address(address: IPAddress) -> bool:
    """True for a global unicast address that may be called without an operator's permission."""
    if isinstance(address, ipaddress.IPv6Address):
        if address.scope_id:
            return False
        embedded = _embedded_v4(address)
        if embedded is not None:
            return is_public_address(embedded)
        if address in _NAT64_LOCAL or any(address in net for net in _NOT_PUBLIC_V6):
            return False
    elif any(address in net for net in _NOT_PUBLIC_V4):
        return False
    return (address.is_global and not address.is_multicast and not address.is_reserved
            and not address.is_loopback and not address.is_link_local and not address.is_unspecified)


def _parse_allow(allow: Sequence[str]) -> tuple[list, set[str], list[str]]:
    networks, names, suffixes = [], set(), []
    for raw in allow:
        entry = raw.strip().lower()
        if not entry:
            continue
        try:
            networks.append(ipaddress.ip_network(entry.strip("[]"), strict=False))
            continue
        except ValueError:
            pass
        if entry.startswith("*."):
            entry = entry[1:]
        if entry.startswith("."):
            suffixes.append(entry)
        else:
            names.add(entry.rstrip("."))
    return networks, names, suffixes


def _in_networks(address: IPAddress, networks: list) -> bool:
    candidates = [address]
    if isinstance(address, ipaddress.IPv6Address):
        embedded = _embedded_v4(address)
        if embedded is not None:
            candidates.append(embedded)
    return any(c.version == n.version and c in n for c in candidates for n in networks)


def _system_resolver(host: str, port: int) -> list[str]:
    infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    return [str(info[4][0]) for info in infos]  # the address; a str for AF_INET and AF_INET6


def check_url(url: str, *, allow: Sequence[str] = (), resolver: Resolver | None = None) -> CheckedTarget:
    """Parse and resolve ``url``; raise :class:`UnsafeURL` unless every address it leads to may be called."""
    if not isinstance(url, str) or not url.strip():
        raise UnsafeURL("the URL is empty")
    if any(ord(ch) < 0x21 or ord(ch) == 0x7F for ch in url.strip()):
        raise UnsafeURL("the URL contains spaces or control characters")
    url = url.strip()
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError as exc:
        raise UnsafeURL(f"the URL is malformed: {exc}") from None
    scheme = parts.scheme.lower()
    if scheme not in ("http", "https"):
        raise UnsafeURL("only http and https URLs may be called")
    if parts.username is not None or parts.password is not None:
        raise UnsafeURL("the URL may not carry a user name or password")
    host = (parts.hostname or "").rstrip(".").lower()
    if not host:
        raise UnsafeURL("the URL has no host")
    if "%" in host:
        raise UnsafeURL("zone-scoped IPv6 addresses may not be called")
    port = port if port is not None else (443 if scheme == "https" else 80)
    if not 0 < port < 65536:
        raise UnsafeURL("the URL's port is out of range")
    target = parts.path or "/"
    if parts.query:
        target += "?" + parts.query

    networks, names, suffixes = _parse_allow(allow)
    host_allowed = host in names or any(host.endswith(s) or host == s[1:] for s in suffixes)

    try:
        resolved = list((resolver or _system_resolver)(host, port))
    except (OSError, UnicodeError) as exc:
        raise UnsafeURL(f"the host {host!r} cannot be resolved") from exc
    addresses: list[str] = []
    for raw in resolved:
        try:
            address = ipaddress.ip_address(str(raw).split("%", 1)[0])
        except ValueError:
            raise UnsafeURL(f"the host {host!r} resolved to an unusable address") from None
        if not (host_allowed or is_public_address(address) or _in_networks(address, networks)):
            raise UnsafeURL(f"the host {host!r} leads to a non-public address ({address}); "
                            "an operator must allow it")
        text = str(address)
        if text not in addresses:
            addresses.append(text)
    if not addresses:
        raise UnsafeURL(f"the host {host!r} cannot be resolved")
    return CheckedTarget(url=url, scheme=scheme, host=host, port=port, addresses=tuple(addresses), target=target)


class _PinnedHTTPConnection(http.client.HTTPConnection):
    def __init__(self, host: str, port: int, address: str, connect_timeout: float, timeout: float) -> None:
        super().__init__(host, port, timeout=timeout)
        self._address = address
        self._connect_timeout = connect_timeout

    def _open_socket(self) -> socket.socket:
        family = socket.AF_INET6 if ":" in self._address else socket.AF_INET
        sock = socket.socket(family, socket.SOCK_STREAM)
        sock.settimeout(self._connect_timeout)
        try:
            sock.connect((self._address, self.port))
        except BaseException:
            sock.close()
            raise
        sock.settimeout(self.timeout)
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        return sock

    def connect(self) -> None:  # pragma: no cover - exercised through request()
        self.sock = self._open_socket()


class _PinnedHTTPSConnection(_PinnedHTTPConnection):
    def __init__(self, host: str, port: int, address: str, connect_timeout: float, timeout: float,
                 context: ssl.SSLContext) -> None:
        super().__init__(host, port, address, connect_timeout, timeout)
        self._context = context

    def connect(self) -> None:
        sock = self._open_socket()
        try:
            self.sock = self._context.wrap_socket(sock, server_hostname=self.host)
        except BaseException:
            sock.close()
            raise


def request(target: CheckedTarget, *, method: str = "POST", body: bytes | None = None,
            headers: Mapping[str, str] | None = None, connect_timeout: float = 5.0, timeout: float = 10.0,
            max_body: int = 4096, ssl_context: ssl.SSLContext | None = None) -> Response:
    """Call ``target`` at its checked address; redirects are not followed.

    Raises ``OSError`` (``TimeoutError``, ``ConnectionError``, ``ssl.SSLError``) or
    ``http.client.HTTPException`` when no answer could be had; the caller records it.
    ``timeout`` bounds the whole exchange after connecting, not only each socket read.
    """
    started = time.monotonic()
    last_error: BaseException | None = None
    for address in target.addresses:
        if target.scheme == "https":
            conn: _PinnedHTTPConnection = _PinnedHTTPSConnection(
                target.host, target.port, address, connect_timeout, timeout,
                ssl_context or ssl.create_default_context())
        else:
            conn = _PinnedHTTPConnection(target.host, target.port, address, connect_timeout, timeout)
        try:
            conn.connect()
        except (OSError, ssl.SSLError) as exc:
            conn.close()
            last_error = exc
            continue
        try:
            conn.putrequest(method.upper(), target.target, skip_host=True, skip_accept_encoding=True)
            conn.putheader("Host", target.host_header)
            sent = {k.lower() for k in (headers or {})}
            for name, value in (headers or {}).items():
                conn.putheader(name, value)
            if "user-agent" not in sent:
                conn.putheader("User-Agent", "Packyard-Notifier")
            data = body or b""
            if "content-length" not in sent:
                conn.putheader("Content-Length", str(len(data)))
            conn.endheaders(data)
            deadline = time.monotonic() + timeout
            answer = conn.getresponse()
            kept = bytearray()
            truncated = False
            while True:
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    raise TimeoutError("the receiver did not finish answering in time")
                if conn.sock is not None:
                    conn.sock.settimeout(min(timeout, remaining))
                chunk = answer.read1(8192) if hasattr(answer, "read1") else answer.read(8192)
                if not chunk:
                    break
                room = max_body - len(kept)
                if room > 0:
                    kept += chunk[:room]
                if len(chunk) > room:
                    truncated = True
                    break
            return Response(
                status=answer.status,
                headers={k.lower(): v for k, v in answer.getheaders()},
                body=bytes(kept),
                elapsed_ms=int((time.monotonic() - started) * 1000),
                address=address,
                truncated=truncated,
            )
        finally:
            conn.close()
    assert last_error is not None
    raise last_error
