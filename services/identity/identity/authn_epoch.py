"""The authentication epoch: identity's answers cached at the gateway, with revocation still instant.

The gateway asks identity about every request that carries credentials (``/internal/authn``).
Asking costs a Python request and a database statement each time, more than the read it guards,
so the gateway keeps identity's answers for a while (``AUTHN_CACHE_SECONDS``) — under the digest of
the credentials *and the epoch*: a number identity keeps in its database (:class:`AuthnEpoch`)
that grows whenever anything an answer depends on changes. Each gateway holds the epoch it last
heard; with a new epoch, every answer it kept is out of reach at once and the next request asks
identity again.

When a transaction that changes what an access token would say commits — an API key revoked or
regenerated, a password changed, a login token logged out, a user deleted or renamed, a
membership, a role, a team or the admin flag changed, a signing key rotated (:func:`changes_claims`,
watched on identity's sessions by :meth:`AuthnEpoch.watch`) — identity, before the request that
made the change returns:

1. advances the epoch (its own short transaction, after the change committed: any answer the
   gateway keeps under the new epoch was worked out from the changed data);
2. tells every gateway (``GATEWAY_CONTROL_URLS``; a host name standing for several addresses, as a
   Kubernetes headless Service does, is told at each of them) on its control listener, with the
   service credential: the gateway keeps the new epoch for ``AUTHN_EPOCH_RECHECK_SECONDS`` and
   answers with what it kept. A gateway that answers an older epoch is told again.

So a request sent after the revoking call returned finds the new epoch at every gateway that was
told, and identity is asked. A gateway that could not be told (unreachable, or not up yet) fetches
the epoch from identity on its own within ``AUTHN_EPOCH_RECHECK_SECONDS`` (as every gateway does
once that long has passed, which also bounds the rare announcement overtaken by a fetch of the epoch
read just before it grew); identity logs such a gateway and counts it
(``packyard_identity_authn_epoch_announcements_total{outcome="failed"}``). Without
``GATEWAY_CONTROL_URLS`` identity has no gateway to tell, and its answers say not to keep them.
"""

from __future__ import annotations

import concurrent.futures
import http.client
import logging
import socket
from collections.abc import Iterable
from typing import Any
from urllib.parse import urlsplit

import sqlalchemy as sa
from prometheus_client import Counter
from sqlalchemy import event
from sqlalchemy.engine import Engine
from sqlalchemy.orm import ORMExecuteState, Session, SessionTransaction, sessionmaker

from identity.models import ApiKey, Org, OrgMember, RevokedLogin, SigningKey, Team, TeamMember, User
from identity.models import AuthnEpoch as EpochRow

__all__ = ["AuthnEpoch", "changes_claims", "EPOCH_HEADER", "CONTROL_PATH"]

log = logging.getLogger(__name__)

EPOCH_HEADER = "X-Packyard-Epoch"
CONTROL_PATH = "/_pk/authn-epoch"  # the gateway's control listener: fetch the epoch anew, answer it

ANNOUNCEMENTS = Counter("packyard_identity_authn_epoch_announcements",
                        "Gateways told of a new authentication epoch, by outcome", ["outcome"])

# What an answer of /internal/authn depends on (identity.authn's statement and the token's signature):
# a class with a tuple names the columns that matter; None means every column.
_WATCHED: dict[type, tuple[str, ...] | None] = {
    User: ("username", "is_admin", "token_generation"),
    ApiKey: None,
    Org: ("name",),
    OrgMember: None,
    Team: ("name", "user_id", "org_id"),
    TeamMember: None,
    RevokedLogin: None,
    SigningKey: None,
}
# New rows that change an existing caller's answer (a new user, key or organization has no answer kept yet).
_NEW_MATTERS = (OrgMember, Team, TeamMember, RevokedLogin, SigningKey)
_TABLES = {cls.__table__.name: cls for cls in _WATCHED}  # type: ignore[attr-defined]
_FLAG = "identity.authn_changed"
_COMMITTED = "identity.authn_changed_committed"


def changes_claims(new: Iterable[Any], dirty: Iterable[Any], deleted: Iterable[Any]) -> bool:
    """Whether flushing these objects changes what ``/internal/authn`` answers for some credentials."""
    if any(isinstance(obj, _NEW_MATTERS) for obj in new):
        return True
    if any(type(obj) in _WATCHED and not isinstance(obj, RevokedLogin) for obj in deleted):
        return True  # a pruned RevokedLogin belongs to a token that expired anyway
    for obj in dirty:
        columns = _WATCHED.get(type(obj), ())
        if columns == ():
            continue
        state = sa.inspect(obj)
        names = columns if columns is not None else [attr.key for attr in state.mapper.column_attrs]
        if any(state.attrs[name].history.has_changes() for name in names):
            return True
    return False


def _bulk_changes_claims(state: ORMExecuteState) -> bool:
    """Whether an UPDATE or DELETE statement run through the session touches what answers depend on."""
    if not (state.is_update or state.is_delete):
        return False
    table = getattr(state.statement, "table", None)
    cls = _TABLES.get(getattr(table, "name", ""))
    if cls is None or (state.is_delete and cls is RevokedLogin):
        return False
    columns = _WATCHED[cls]
    if state.is_delete or columns is None:
        return True
    assigned = {str(key.key if hasattr(key, "key") else key) for key in
                getattr(state.statement, "_values", None) or {}}  # the SET clause (no public accessor)
    return not assigned or bool(assigned & set(columns))


class AuthnEpoch:
    """The epoch in identity's database and the gateways told of it."""

    def __init__(self, engine: Engine, gateways: Iterable[str] = (), *, service_token: str = "",
                 keep_seconds: int = 5, timeout: float = 2.0) -> None:
        self._engine = engine
        self._gateways = [url.rstrip("/") for url in gateways if url.strip()]
        self._service_token = service_token
        self._keep_seconds = keep_seconds
        self._timeout = timeout

    @property
    def announced(self) -> bool:
        """Whether there are gateways to tell (only then may they keep identity's answers)."""
        return bool(self._gateways)

    def current(self) -> int:
        with self._engine.connect() as conn:
            return int(conn.execute(sa.select(EpochRow.value).where(EpochRow.id == 1)).scalar() or 0)

    def advance(self) -> int:
        """Grow the epoch by one, in a transaction of its own; the new value."""
        with self._engine.begin() as conn:
            value = conn.execute(sa.update(EpochRow).where(EpochRow.id == 1).values(value=EpochRow.value + 1)
                                 .returning(EpochRow.value)).scalar()
            if value is None:  # tables made without the migration's first row
                conn.execute(sa.insert(EpochRow).values(id=1, value=2))
                value = 2
        return int(value)

    def announce(self, value: int) -> list[str]:
        """Tell every gateway address of epoch ``value``; the addresses that could not be told."""
        targets = [target for url in self._gateways for target in _addresses(url)]
        if not targets:
            return []
        if len(targets) == 1:
            outcomes = [self._tell(targets[0], value)]
        else:
            with concurrent.futures.ThreadPoolExecutor(max_workers=min(16, len(targets))) as pool:
                outcomes = list(pool.map(lambda target: self._tell(target, value), targets))
        failed = [f"{host}:{port}" for (host, port, _name), ok in zip(targets, outcomes, strict=True) if not ok]
        ANNOUNCEMENTS.labels("told").inc(len(outcomes) - len(failed))
        if failed:
            ANNOUNCEMENTS.labels("failed").inc(len(failed))
            log.warning("gateways not told of authentication epoch %s (they recheck on their own): %s",
                        value, ", ".join(failed))
        return failed

    def _tell(self, target: tuple[str, int, str], value: int) -> bool:
        host, port, name = target
        for _attempt in range(3):
            conn = http.client.HTTPConnection(host, port, timeout=self._timeout)
            try:
                conn.request("GET", f"{CONTROL_PATH}?epoch={value}&ttl={self._keep_seconds}",
                             headers={"Host": name, "X-Service-Token": self._service_token})
                response = conn.getresponse()
                response.read()
                stored = response.getheader(EPOCH_HEADER, "")
            except OSError as exc:
                log.debug("gateway %s:%s: %s", host, port, exc)
                return False
            finally:
                conn.close()
            if response.status != 200 or not stored.isdigit():
                log.debug("gateway %s:%s answered %s", host, port, response.status)
                return False
            if int(stored) >= value:
                return True
            # an announcement of an older epoch was stored after ours: fetch again
        return False

    def watch(self, sessions: sessionmaker[Session]) -> None:
        """Advance and announce the epoch after each commit of ``sessions`` that changed an answer."""

        @event.listens_for(sessions, "after_flush")
        def _after_flush(session: Session, _context: Any) -> None:
            if changes_claims(session.new, session.dirty, session.deleted):
                session.info[_FLAG] = True

        @event.listens_for(sessions, "do_orm_execute")
        def _on_execute(state: ORMExecuteState) -> None:
            if _bulk_changes_claims(state):
                state.session.info[_FLAG] = True

        @event.listens_for(sessions, "after_commit")
        def _after_commit(session: Session) -> None:
            if session.info.pop(_FLAG, False):
                session.info[_COMMITTED] = True

        @event.listens_for(sessions, "after_transaction_end")
        def _after_transaction_end(session: Session, transaction: SessionTransaction) -> None:
            if transaction.parent is not None:
                return  # a savepoint or a nested block: the outermost transaction decides
            # Here the session's connection is back in the pool (SQLite's lock released with it).
            if session.info.pop(_COMMITTED, False):
                self.announce(self.advance())
            session.info.pop(_FLAG, None)  # rolled back: nothing changed


def _addresses(url: str) -> list[tuple[str, int, str]]:
    """``(address, port, host name)`` of every address ``url``'s host name stands for."""
    parts = urlsplit(url if "://" in url else f"http://{url}")
    host, port = parts.hostname or "", parts.port or 80
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except OSError as exc:
        log.warning("gateway control address %s does not resolve: %s", url, exc)
        ANNOUNCEMENTS.labels("failed").inc()
        return []
    seen: dict[str, None] = {}
    for info in infos:
        seen.setdefault(str(info[4][0]), None)
    return [(address, port, host) for address in seen]
