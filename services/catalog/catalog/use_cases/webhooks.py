"""Webhooks (Bintray's): a publisher's callback for new releases of a package.

One webhook per user and package (registering again replaces it), at most ``WEBHOOK_LIMIT`` per
user; ``%r`` and ``%p`` in the URL are replaced by the repository's and the package's names.
Catalog stores them and publishes each change; the notifier delivers the callbacks and reports
each result, from which ``failure_count`` is kept (the latest report wins; an older one arriving
late changes nothing).

A target must be somewhere the platform may call: registration (and a test call's URL) refuses
URLs whose host is an internal name (a single label such as ``identity`` or ``rabbitmq``,
``localhost``, ``*.internal``, ``*.svc``…) or an address, or a name resolving to one, that is not
public (loopback, private, link-local with the cloud metadata endpoints, unique-local, in any of
its spellings such as ``0x7f000001``) — unless ``WEBHOOK_ALLOWED_TARGETS`` allows it. A name that
does not resolve yet is accepted: the notifier checks the target again before every call and
connects only to the address it checked.

Each registration gets a new signing secret (``whsec_`` + base64 of 24 random bytes), shown once
in the answer and sent to the notifier sealed (``secret_ciphertext``, Fernet with
``MAIL_TOKEN_KEY``); catalog keeps no copy.
"""

from __future__ import annotations

import base64
import ipaddress
import re
import secrets
import socket
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from urllib.parse import urlsplit

import sqlalchemy as sa

from catalog import events
from catalog.models import Package, Repo, Subject, Version, Webhook
from catalog.use_cases import subjects
from catalog.use_cases.access import PUBLISH
from catalog.use_cases.belongings import announce_webhook_deleted, webhook_ref
from catalog.use_cases.versions import locate
from packyard import netguard
from packyard.auth import Principal
from packyard.db import UnitOfWork
from packyard.errors import Invalid, NotFound

METHODS = ("post", "put", "get")
MAX_URL = 1000
LIMIT_HEADER = "X-Bintray-WebHookLimit-Limit"
REMAINING_HEADER = "X-Bintray-WebHookLimit-Remaining"


def callback_url(url: str, repo: str, package: str) -> str:
    resolved = url.strip().replace("%r", repo).replace("%p", package)
    parts = urlsplit(resolved)
    if (parts.scheme not in ("http", "https") or not parts.hostname or len(resolved) > MAX_URL
            or any(c.isspace() or ord(c) < 0x20 for c in resolved)):
        raise Invalid(f"url must be an http(s) URL of at most {MAX_URL} characters")
    return resolved


INTERNAL_SUFFIXES = (".localhost", ".local", ".localdomain", ".internal", ".intranet", ".corp", ".lan", ".home.arpa",
                     ".svc", ".cluster.local")
_NUMERIC_LABEL = re.compile(r"0x[0-9a-f]*|[0-9]+")


def _is_numeric_host(host: str) -> bool:
    """An address in any spelling resolvers accept (``127.1``, ``0x7f000001``, ``::1``), not a name."""
    try:
        ipaddress.ip_address(host)
        return True
    except ValueError:
        return all(_NUMERIC_LABEL.fullmatch(label) for label in host.split("."))


def _named_in(host: str, allow: Sequence[str]) -> bool:
    for entry in allow:
        entry = entry.strip().lower().rstrip(".")
        if entry and (host == entry or (entry.startswith(".") and (host.endswith(entry) or host == entry[1:]))):
            return True
    return False


def check_target(url: str, allow: Sequence[str] = (),
                 resolver: Callable[[str, int], Sequence[str]] | None = None) -> None:
    """400 unless ``url`` (http or https) leads somewhere the platform may call (see the module doc)."""
    host = (urlsplit(url).hostname or "").rstrip(".").lower()
    numeric = _is_numeric_host(host)
    if not numeric and not _named_in(host, allow) and (
            "." not in host or host == "localhost" or host.endswith(INTERNAL_SUFFIXES)):
        raise Invalid(f"url may not call '{host}': an internal host name (an operator may allow it in "
                      "WEBHOOK_ALLOWED_TARGETS)")
    try:
        netguard.check_url(url, allow=tuple(allow), resolver=resolver)
    except netguard.UnsafeURL as exc:
        if not numeric and isinstance(exc.__cause__, socket.gaierror):
            return  # no address yet; the notifier checks again before every call
        raise Invalid(f"url may not be called: {exc.message}") from None


def new_secret() -> str:
    """A Standard Webhooks signing secret."""
    return "whsec_" + base64.b64encode(secrets.token_bytes(24)).decode()


def callback_method(method: str | None) -> str:
    chosen = (method or "post").strip().lower()
    if chosen not in METHODS:
        raise Invalid("method must be post, put or get")
    return chosen


def limit_headers(limit: int, remaining: int) -> dict[str, str]:
    return {LIMIT_HEADER: str(limit), REMAINING_HEADER: str(max(remaining, 0))}


@dataclass(frozen=True)
class Registered:
    webhook: Webhook
    remaining: int
    secret: str  # shown once to the registrant; never stored


@dataclass(frozen=True)
class Policy:
    """What registration needs beyond the request: the limit, the operators' allowed targets, the sealer."""

    limit: int
    seal: Callable[[str], str]  # plaintext secret -> Fernet token for the notifier
    allow: Sequence[str] = ()
    resolver: Callable[[str, int], Sequence[str]] | None = None


def register(uow: UnitOfWork, actor: Principal, owner: str, repo: str, package: str, url: str, method: str | None,
             now: datetime, *, policy: Policy) -> Registered:
    """Register (or replace) the caller's webhook for a package they may publish to."""
    session = uow.session
    limit = policy.limit
    found = locate(session, actor, owner, repo, package, needed=PUBLISH, action="register webhooks")
    resolved, chosen = callback_url(url, found.repo.name, found.package.name), callback_method(method)
    check_target(resolved, policy.allow, policy.resolver)
    # Registrations of one user queue on their subject row, so that concurrent ones respect the limit.
    if subjects.ensure_user(uow, actor.user_id, actor.username, now) is not None:
        session.get(Subject, actor.username, with_for_update=True, populate_existing=True)
    hook = session.scalars(sa.select(Webhook).where(Webhook.package_id == found.package.id,
                                                    Webhook.username == actor.username)).first()
    count = session.scalar(sa.select(sa.func.count()).select_from(Webhook)
                           .where(Webhook.username == actor.username)) or 0
    if hook is None:
        if count >= limit:
            raise Invalid(f"You have reached the limit of {limit} webhooks", headers=limit_headers(limit, 0))
        hook = Webhook(package_id=found.package.id, username=actor.username, user_id=actor.user_id, url=resolved,
                       method=chosen, failure_count=0, failures_as_of=None, created=now, updated=now)
        session.add(hook)
        count += 1
    else:
        hook.user_id, hook.url, hook.method, hook.updated = actor.user_id, resolved, chosen, now
        hook.failure_count, hook.failures_as_of = 0, now  # delivery reports about the previous one no longer count
    session.flush()
    secret = new_secret()
    uow.publish(events.WEBHOOK_REGISTERED, {**webhook_ref(found.repo, found.package), "username": actor.username,
                                            "url": resolved, "method": chosen, "registered": now,
                                            "webhook_id": hook.id, "secret_ciphertext": policy.seal(secret)},
                subject=f"{found.repo.owner}/{found.repo.name}/{found.package.name}")
    return Registered(hook, limit - count, secret)


def delete(uow: UnitOfWork, actor: Principal, owner: str, repo: str, package: str) -> None:
    """Delete the caller's webhook for a package."""
    session = uow.session
    found = locate(session, actor, owner, repo, package, needed=PUBLISH, action="delete webhooks")
    hook = session.scalars(sa.select(Webhook).where(Webhook.package_id == found.package.id,
                                                    Webhook.username == actor.username)).first()
    if hook is None:
        raise NotFound(f"You have no webhook for package '{package}'")
    session.delete(hook)
    announce_webhook_deleted(uow, found.repo, found.package, hook)


def remove_all_for(uow: UnitOfWork, repo: Repo, package: Package) -> int:
    """Delete every webhook of a package (its publishers change hands)."""
    hooks = uow.session.scalars(sa.select(Webhook).where(Webhook.package_id == package.id)
                                .order_by(Webhook.id)).all()
    for hook in hooks:
        uow.session.delete(hook)
        announce_webhook_deleted(uow, repo, package, hook)
    return len(hooks)


def request_test(uow: UnitOfWork, actor: Principal, owner: str, repo: str, package: str, version: str,
                 url: str | None, method: str | None, *, allow: Sequence[str] = (),
                 resolver: Callable[[str, int], Sequence[str]] | None = None) -> tuple[str, str]:
    """Ask the notifier for a test call of a webhook for one release: the caller's registered webhook, or
    the URL and method given. Returns the URL and method the call will use."""
    session = uow.session
    found = locate(session, actor, owner, repo, package, version, PUBLISH, action="test webhooks")
    release: Version = found.version  # type: ignore[assignment]
    hook = session.scalars(sa.select(Webhook).where(Webhook.package_id == found.package.id,
                                                    Webhook.username == actor.username)).first()
    if url:
        target, chosen = callback_url(url, found.repo.name, found.package.name), \
            callback_method(method or (hook.method if hook else None))
        check_target(target, allow, resolver)
    elif hook is not None:
        target, chosen = hook.url, callback_method(method or hook.method)
    else:
        raise NotFound(f"You have no webhook for package '{package}'")
    notes = (release.release_notes or {}).get("bintray") or {}
    uow.publish(events.WEBHOOK_TEST_REQUESTED, {
        **webhook_ref(found.repo, found.package), "version": release.name, "username": actor.username, "url": target,
        "method": chosen, "released": release.released, "release_notes": notes.get("content"),
        "requested_by": actor.username, "webhook_id": hook.id if hook is not None and target == hook.url else None},
        subject=f"{found.repo.owner}/{found.repo.name}/{found.package.name}")
    return target, chosen


def record_delivery(uow: UnitOfWork, owner: str, repo: str, package: str, url: str, failure_count: int,
                    at: datetime) -> int:
    """Keep ``failure_count`` from the notifier's report of a delivery (the latest report wins)."""
    hooks = uow.session.scalars(
        sa.select(Webhook).join(Package, Package.id == Webhook.package_id).join(Repo, Repo.id == Package.repo_id)
        .where(Repo.owner == owner, Repo.name == repo, Package.name == package, Webhook.url == url)
        .with_for_update(of=Webhook)).all()
    changed = 0
    for hook in hooks:
        as_of = hook.failures_as_of
        if as_of is not None and as_of.tzinfo is None:  # SQLite keeps no time zone; times are UTC
            as_of = as_of.replace(tzinfo=UTC)
        if as_of is None or at >= as_of:
            hook.failure_count, hook.failures_as_of = failure_count, at
            changed += 1
    return changed
