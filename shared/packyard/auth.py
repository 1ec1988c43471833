"""Verification of the short-lived access tokens the gateway forwards (DESIGN §4).

The gateway asks identity to authenticate every request that carries credentials (HTTP
Basic with an API key, or a login bearer token). Identity answers with a short-lived JWT,
signed with an asymmetric key and published as a JWKS document; the gateway forwards it
to the service as ``Authorization: Bearer <jwt>``. Services verify it here, locally:
they never see a password or an API key.

:class:`JwksVerifier` caches identity's keys. An unknown key id triggers a refresh (at
most one per ``min_refresh_interval``, so garbage tokens cannot hammer identity); when
identity is unreachable the keys already cached keep working, so a service keeps
answering while identity is down.

Read your own writes: the token identity answers for a request says what identity knows of the
caller at that instant (it mints a new one as soon as that changes) — ``orgs`` (organization →
role), ``teams`` (``"<subject>/<team>"`` the caller is in) and ``managed_teams`` (the teams of the
subjects the caller manages: their own, and their organizations' as owner or admin).
:class:`Principal` exposes them; a service whose replica of identity's events lags trusts them for
this caller (catalog does for repository creation, organization admin rights, team grants and
reads). A claim that is absent means "unknown" (``None``), never "member of nothing".

A token verified once is remembered until it expires (or its key leaves the JWKS): identity
answers the same token for a caller as long as their claims hold, so its signature is checked once.
"""

from __future__ import annotations

import json
import logging
import threading
import time
import urllib.request
from collections import OrderedDict
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any

import jwt

__all__ = [
    "ISSUER",
    "ACCESS_AUDIENCE",
    "ALGORITHM",
    "Principal",
    "InvalidToken",
    "JwksVerifier",
    "fetch_jwks",
]

log = logging.getLogger(__name__)

ISSUER = "packyard-identity"
ACCESS_AUDIENCE = "packyard"
ALGORITHM = "EdDSA"


class InvalidToken(Exception):
    """The token is malformed, expired, not ours, or signed by an unknown key."""


@dataclass(frozen=True)
class Principal:
    """Who is calling, as established by identity for this request."""

    username: str
    user_id: str
    admin: bool = False
    method: str = "apikey"  # "apikey" | "password" | "service"
    auth_time: int | None = None  # when the password login behind the token happened
    # What identity knew of the caller's memberships when it minted the token (read your own
    # writes: a service whose replica lags may trust these for this caller). None = unknown
    # (a token without the claim), which is not the same as "member of nothing".
    orgs: Mapping[str, str] | None = field(default=None, hash=False, compare=False)  # org -> role
    teams: frozenset[str] | None = None  # "<subject>/<team>" the caller is a member of
    # Teams of the subjects the caller manages (their own, their organizations' as owner or admin).
    managed_teams: frozenset[str] | None = None

    @classmethod
    def from_claims(cls, claims: dict[str, Any]) -> Principal:
        return cls(
            username=claims["sub"],
            user_id=str(claims.get("uid", "")),
            admin=bool(claims.get("adm", False)),
            method=str(claims.get("amr", "apikey")),
            auth_time=claims.get("auth_time"),
            orgs=_org_roles(claims.get("orgs")),
            teams=_names(claims.get("teams")),
            managed_teams=_names(claims.get("managed_teams")),
        )

    def org_role(self, org: str) -> str | None:
        """The caller's role in ``org`` as the token says; None when not a member (or unknown)."""
        return None if self.orgs is None else self.orgs.get(org)

    def in_team(self, subject: str, team: str) -> bool | None:
        """Whether the token says the caller is in ``subject``'s team; None when it does not say."""
        return None if self.teams is None else f"{subject}/{team}" in self.teams


ROLES = ("owner", "admin", "member")


def _org_roles(value: Any) -> Mapping[str, str] | None:
    if not isinstance(value, dict):
        return None
    return MappingProxyType({str(k): v for k, v in value.items() if v in ROLES})


def _names(value: Any) -> frozenset[str] | None:
    if not isinstance(value, list):
        return None
    return frozenset(str(v) for v in value if isinstance(v, str))


def fetch_jwks(url: str, timeout: float = 3.0) -> dict[str, Any]:
    with urllib.request.urlopen(url, timeout=timeout) as response:  # noqa: S310 - configured URL
        return json.loads(response.read())


class JwksVerifier:
    """Verify access tokens against a JWKS document, cached in memory.

    ``source`` returns the JWKS document (``{"keys": [...]}``): by default it is fetched
    from ``jwks_url``; identity passes a function reading its own key table.
    """

    def __init__(
        self,
        jwks_url: str | None = None,
        *,
        source: Callable[[], dict[str, Any]] | None = None,
        issuer: str = ISSUER,
        audience: str = ACCESS_AUDIENCE,
        cache_ttl: float = 300.0,
        min_refresh_interval: float = 5.0,
        leeway: float = 10.0,
    ) -> None:
        if source is None:
            if not jwks_url:
                raise ValueError("JwksVerifier needs jwks_url or source")
            source = lambda: fetch_jwks(jwks_url)  # noqa: E731
        self._source = source
        self._issuer = issuer
        self._audience = audience
        self._ttl = cache_ttl
        self._min_refresh = min_refresh_interval
        self._leeway = leeway
        self._keys: dict[str, Any] = {}
        self._fetched_at = 0.0
        self._attempted_at = 0.0
        self._lock = threading.Lock()
        # token -> (principal, key id, expiry): identity answers a token again for the same caller
        # while their claims hold, so its signature is checked once, not on every request
        self._verified: OrderedDict[str, tuple[Principal, str, float]] = OrderedDict()
        self._verified_size = 4096

    def _refresh(self, *, force: bool) -> None:
        with self._lock:
            now = time.monotonic()
            fresh = now - self._fetched_at < self._ttl
            if (fresh and not force) or now - self._attempted_at < self._min_refresh:
                return
            self._attempted_at = now
            try:
                document = self._source()
            except Exception as exc:  # noqa: BLE001 - keep serving with the cached keys
                log.warning("could not refresh JWKS: %s", exc)
                return
            keys = {}
            for jwk in document.get("keys", []):
                try:
                    keys[jwk["kid"]] = jwt.PyJWK(jwk).key
                except (KeyError, jwt.PyJWTError) as exc:
                    log.warning("ignoring unusable JWK: %s", exc)
            if keys:
                self._keys = keys
                self._fetched_at = now

    def verify(self, token: str) -> Principal:
        """Return the principal of a valid access token; raise :class:`InvalidToken` otherwise."""
        known = self._verified.get(token)
        if known is not None and time.time() <= known[2] + self._leeway and known[1] in self._keys \
                and time.monotonic() - self._fetched_at <= self._ttl:
            return known[0]
        try:
            header = jwt.get_unverified_header(token)
        except jwt.PyJWTError as exc:
            raise InvalidToken(f"malformed token: {exc}") from None
        kid = header.get("kid")
        if header.get("alg") != ALGORITHM or not kid:
            raise InvalidToken("unexpected token algorithm or key id")
        if kid not in self._keys or time.monotonic() - self._fetched_at > self._ttl:
            self._refresh(force=kid not in self._keys)
        key = self._keys.get(kid)
        if key is None:
            raise InvalidToken("token signed by an unknown key")
        try:
            claims = jwt.decode(
                token,
                key,
                algorithms=[ALGORITHM],
                audience=self._audience,
                issuer=self._issuer,
                leeway=self._leeway,
                options={"require": ["exp", "iat", "sub", "iss", "aud"]},
            )
        except jwt.PyJWTError as exc:
            raise InvalidToken(str(exc)) from None
        principal = Principal.from_claims(claims)
        with self._lock:
            self._verified[token] = (principal, kid, float(claims["exp"]))
            while len(self._verified) > self._verified_size:
                self._verified.popitem(last=False)
        return principal
