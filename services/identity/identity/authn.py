"""The gateway's authentication of every request that carries credentials (``/internal/authn``).

Almost every call a publisher's tooling makes carries an API key, so this is identity's hottest
path, and it is kept lean:

* One indexed statement on a bare connection, no ORM session, nothing written: the credentials'
  user (found by the API key's digest, or by the id a verified login token names) and, in the
  same statement, everything the access token says about them — admin flag, login-token
  generation, whether the login token was logged out, organizations with roles, teams, the teams
  of what they manage (the read-your-writes claims).
* The statement runs for every request, so a revoked or regenerated API key, a changed password
  (the login token's generation), a logged-out login token or a deleted user is refused on the
  very next request: nothing about the credentials' validity is remembered between requests.
* What is remembered is the access token minted for the same credentials with the same claims:
  while the statement finds exactly the claims it was minted with and it has more than half its
  lifetime left, the same token is answered again instead of a new one being signed. Any change
  of the claims (a membership, a role, a team, the admin flag) mints a new one on that request.
* Login tokens are verified with the signing keys held in memory (:class:`KeyRing`); a login token
  whose signature verified is remembered for a while, so the next request skips the check.

The gateway keeps the answer for a while, so identity is asked only once per credentials and
epoch: see :mod:`identity.authn_epoch` for how a change of any of the above reaches the next request.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import threading
import time
from collections import OrderedDict
from collections.abc import Callable
from typing import Any, NamedTuple

import sqlalchemy as sa
from sqlalchemy.engine import Engine

from identity.access import MANAGERS
from identity.credentials import ApiKeyVault, Tokens
from identity.models import ApiKey, Org, OrgMember, RevokedLogin, Team, TeamMember, User
from packyard.errors import Unauthorized

__all__ = ["Authenticated", "Authenticator"]

# Kinds of the rows the statement answers (one "u" row for the user, then one row per fact).
USER, REVOKED, ORG, TEAM, MANAGED = "u", "r", "o", "t", "m"


def _statement(me: sa.CTE, jti: bool) -> sa.CompoundSelect:
    """The user ``me`` names and every claim about them, as rows ``(kind, a, b, x, y)``."""

    def kind(value: str) -> sa.ColumnElement[str]:
        return sa.literal_column(f"'{value}'", sa.String).label("kind")

    empty, zero = sa.literal_column("''", sa.String), sa.literal_column("0", sa.Integer)
    team_owner = sa.func.coalesce(Org.name, User.username)
    managed_orgs = sa.select(OrgMember.org_id).where(OrgMember.user_id == me.c.id, OrgMember.role.in_(MANAGERS))
    branches = [
        sa.select(kind(USER), me.c.id.label("a"), me.c.username.label("b"),
                  sa.cast(me.c.is_admin, sa.Integer).label("x"), me.c.token_generation.label("y")),
        sa.select(kind(ORG), Org.name, OrgMember.role, zero, zero)
        .select_from(me).join(OrgMember, OrgMember.user_id == me.c.id).join(Org, Org.id == OrgMember.org_id),
        sa.select(kind(TEAM), team_owner, Team.name, zero, zero)
        .select_from(me).join(TeamMember, TeamMember.user_id == me.c.id).join(Team, Team.id == TeamMember.team_id)
        .outerjoin(Org, Org.id == Team.org_id).outerjoin(User, User.id == Team.user_id),
        sa.select(kind(MANAGED), team_owner, Team.name, zero, zero)
        .select_from(me).join(Team, sa.or_(Team.user_id == me.c.id, Team.org_id.in_(managed_orgs.scalar_subquery())))
        .outerjoin(Org, Org.id == Team.org_id).outerjoin(User, User.id == Team.user_id),
    ]
    if jti:
        branches.append(sa.select(kind(REVOKED), RevokedLogin.jti, empty, zero, zero)
                        .where(RevokedLogin.jti == sa.bindparam("jti")))
    return sa.union_all(*branches)


_USER_COLUMNS = (User.id, User.username, User.is_admin, User.token_generation)
BY_API_KEY = _statement(sa.select(*_USER_COLUMNS).join(ApiKey, ApiKey.user_id == User.id)
                        .where(ApiKey.digest == sa.bindparam("digest")).cte("me"), jti=False)
BY_USER_ID = _statement(sa.select(*_USER_COLUMNS).where(User.id == sa.bindparam("uid")).cte("me"), jti=True)


def _without_pre_ping(engine: Engine) -> Engine:
    """An engine like ``engine`` whose pool does not ping each connection it hands out.

    The ping is a round trip of its own, as long as the statement itself; here a connection the
    database dropped is found by the statement instead, and :meth:`Authenticator.authenticate` tries
    once more on a new one. SQLite has nothing to ping: ``engine`` itself serves.
    """
    if engine.dialect.name != "postgresql" or not engine.pool._pre_ping:  # noqa: SLF001 - the pool's own setting
        return engine
    pool = engine.pool
    size = pool.size() if isinstance(pool, sa.pool.QueuePool) else 5
    return sa.create_engine(engine.url, pool_size=size, max_overflow=size, pool_recycle=1800)


class _Lru:
    """A small thread-safe map that forgets its oldest entries beyond ``size``."""

    def __init__(self, size: int) -> None:
        self._size = size
        self._items: OrderedDict[Any, Any] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, key: Any) -> Any:
        with self._lock:
            value = self._items.get(key)
            if value is not None:
                self._items.move_to_end(key)
            return value

    def put(self, key: Any, value: Any) -> None:
        with self._lock:
            self._items[key] = value
            self._items.move_to_end(key)
            while len(self._items) > self._size:
                self._items.popitem(last=False)

    def clear(self) -> None:
        with self._lock:
            self._items.clear()


class Authenticated(NamedTuple):
    """An access token for the services and until when the answer holds."""

    token: str
    expires_at: int  # the access token's expiry
    login_expires_at: int | None  # the login token's, for Bearer credentials


class Authenticator:
    """Credentials of a request (``Authorization`` header) → an access token for the services."""

    def __init__(self, engine: Engine, vault: ApiKeyVault, tokens: Tokens, *,
                 clock: Callable[[], float] = time.time, cache_size: int = 10_000,
                 login_check_ttl: float = 30.0) -> None:
        self._engine = _without_pre_ping(engine)
        self._vault = vault
        self._tokens = tokens
        self._clock = clock
        # credentials -> (claims, access token, its expiry): answered again while the claims are unchanged
        self._minted = _Lru(cache_size)
        # login token -> (its verified claims, when verified): the signature is not checked again for a while
        self._logins = _Lru(cache_size)
        self._login_check_ttl = login_check_ttl

    def authenticate(self, authorization: str) -> Authenticated:
        """The access token for ``Authorization``; raises :class:`Unauthorized` (the gateway answers 401)."""
        scheme, _, value = authorization.strip().partition(" ")
        scheme = scheme.lower()
        if scheme not in ("basic", "bearer"):
            raise Unauthorized("Unsupported authorization scheme")
        username = api_key = ""
        if scheme == "basic":
            try:
                username, sep, api_key = base64.b64decode(value.strip(), validate=True).decode().partition(":")
            except (binascii.Error, UnicodeDecodeError):
                raise Unauthorized("Malformed Basic credentials") from None
            if not sep or not username or not api_key:
                raise Unauthorized("Malformed Basic credentials")
        try:
            return self._authenticate(scheme, value, username, api_key)
        except sa.exc.DBAPIError as exc:
            if not exc.connection_invalidated:
                raise
            # A connection the database dropped (a restart): the pool let go of it and of every
            # connection as old; this once more, on a new one.
            return self._authenticate(scheme, value, username, api_key)

    def _authenticate(self, scheme: str, value: str, username: str, api_key: str) -> Authenticated:
        with self._engine.connect() as conn:
            if conn.dialect.name == "postgresql":  # one statement: no BEGIN/ROLLBACK round trips
                conn.execution_options(isolation_level="AUTOCOMMIT")
            if scheme == "basic":
                digest = self._vault.digest(api_key)
                found = self._lookup(conn, BY_API_KEY, {"digest": digest})
                if found is None or found[0][1] != username:
                    raise Unauthorized("Wrong username or API key")
                token, expires = self._token(conn, ("apikey", digest), found, method="apikey", auth_time=None,
                                             login=None)
                return Authenticated(token, expires, None)
            token = value.strip()
            token_key = hashlib.sha256(token.encode()).digest()
            claims = self._login_claims(conn, token, token_key)
            jti = claims.get("jti") if claims else None
            found = self._lookup(conn, BY_USER_ID, {"uid": str(claims["uid"]), "jti": str(jti or "")}) \
                if claims else None
            if claims is None or found is None or claims.get("gen", 0) != found[0][3] or found[1]:
                raise Unauthorized("Invalid or expired token")
            token, expires = self._token(conn, ("login", token_key), found, method="password",
                                         auth_time=claims.get("auth_time"),
                                         login=(str(jti), int(claims["exp"])) if jti else None)
            return Authenticated(token, expires, int(claims["exp"]))

    def forget(self) -> None:
        """Drop every remembered token (after the signing keys changed)."""
        self._minted.clear()
        self._logins.clear()

    def _login_claims(self, conn: sa.Connection, token: str, key: bytes) -> dict[str, Any] | None:
        now = self._clock()
        known = self._logins.get(key)
        if known is not None and now - known[1] < self._login_check_ttl:
            claims = known[0]
        else:
            claims = self._tokens.verify_login(conn, token)
            if claims is None:
                return None
            self._logins.put(key, (claims, now))
        if int(claims["exp"]) <= now:  # verified a moment ago, expired since
            return None
        return claims

    @staticmethod
    def _lookup(conn: sa.Connection, statement: sa.CompoundSelect,
                params: dict[str, str]) -> tuple[tuple, bool, dict[str, Any]] | None:
        """``(user, logged out, memberships)`` of the statement's user, None when there is none."""
        user: tuple | None = None
        revoked = False
        orgs: dict[str, str] = {}
        teams: set[str] = set()
        managed: set[str] = set()
        for kind, a, b, x, y in conn.execute(statement, params):
            if kind == USER:
                user = (a, b, bool(x), y)
            elif kind == REVOKED:
                revoked = True
            elif kind == ORG:
                orgs[a] = b
            elif kind == TEAM:
                teams.add(f"{a}/{b}")
            elif kind == MANAGED:
                managed.add(f"{a}/{b}")
        if user is None:
            return None
        return user, revoked, {"orgs": orgs, "teams": sorted(teams), "managed_teams": sorted(managed)}

    def _token(self, conn: sa.Connection, credentials: tuple[str, str | bytes],
               found: tuple[tuple, bool, dict[str, Any]], *, method: str, auth_time: int | None,
               login: tuple[str, int] | None) -> tuple[str, int]:
        (user_id, username, admin, _generation), _revoked, memberships = found
        claims = (user_id, username, admin, auth_time, login, tuple(sorted(memberships["orgs"].items())),
                  tuple(memberships["teams"]), tuple(memberships["managed_teams"]))
        now = self._clock()
        minted = self._minted.get(credentials)
        if minted is not None and minted[0] == claims and minted[2] - now > self._tokens.access_ttl / 2:
            return minted[1], minted[2]
        token = self._tokens.issue_access(conn, user_id=user_id, username=username, admin=admin, method=method,
                                          auth_time=auth_time, now=now, memberships=memberships, login=login)
        expires = int(now) + self._tokens.access_ttl
        self._minted.put(credentials, (claims, token, expires))
        return token, expires
