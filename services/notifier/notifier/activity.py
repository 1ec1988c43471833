"""Notices about things happening around a user: messages, reviews, comments, replies, ownership
claims, inclusion requests, signing failures and expiring keys."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any
from urllib.parse import quote

import sqlalchemy as sa

from notifier import kinds
from notifier.fanout import package_link
from notifier.loops import BackgroundLoop
from notifier.models import SigningKey
from notifier.notify import Notice, tell
from notifier.subscriptions import owners_of
from packyard.db import UnitOfWork

EXPIRY_WARNING = timedelta(days=30)


def _excerpt(text: str | None, limit: int = 500) -> str:
    text = (text or "").strip()
    return text if len(text) <= limit else text[:limit - 1] + "…"


def social_notice(uow: UnitOfWork, type_: str, event_id: str, data: dict[str, Any], *, base: str,
                  now: datetime) -> None:
    session = uow.session
    if type_ == "social.message.sent":
        sender = data["sender"]
        link = f"{base}/ui/messages/{quote(sender)}"
        subject = data.get("subject")
        tell(uow, Notice(kind=kinds.MESSAGE, event_id=event_id, title=f"Message from {sender}" +
                         (f": {subject}" if subject else ""), body=_excerpt(data["body"]), link=link,
                         context={"sender": sender, "subject": subject, "message": data["body"][:20000]}),
             [data["recipient"]], now=now)
        return
    owner, repo, package = data["owner"], data["repo"], data["package"]
    where = f"{owner}/{repo}/{package}"
    link = package_link(base, owner, repo, package)
    if type_ == "social.review.posted":
        author = data["username"]
        stars = f" ({data['rating']}/5)" if data.get("rating") else ""
        notice = Notice(kind=kinds.REVIEW, event_id=event_id, title=f"{author} reviewed {where}{stars}",
                        body=_excerpt(data.get("title")), link=link + "/reviews", context={"author": author})
        tell(uow, notice, [u for u in owners_of(session, owner) if u != author], now=now)
    elif type_ == "social.comment.posted":
        author = data["username"]
        notice = Notice(kind=kinds.COMMENT, event_id=event_id,
                        title=f"{author} commented on {where} {data['version']}", body=_excerpt(data["body"]),
                        link=f"{link}/versions/{quote(data['version'])}/comments", context={"author": author})
        tell(uow, notice, [u for u in owners_of(session, owner) if u != author], now=now)
    elif type_ == "social.review.replied":
        if data["replier"] == data["reviewer"]:
            return
        notice = Notice(kind=kinds.REVIEW_REPLY, event_id=event_id,
                        title=f"{data['replier']} replied to your review of {where}", body=_excerpt(data["body"]),
                        link=link + "/reviews", context={"replier": data["replier"]})
        tell(uow, notice, [data["reviewer"]], now=now)


_CLAIM_TITLES = {
    "catalog.claim.filed": "{claimant} claims ownership of {where}",
    "catalog.claim.consented": "{by} agreed to your ownership claim on {where}",
    "catalog.claim.objected": "{by} objected to your ownership claim on {where}",
    "catalog.claim.withdrawn": "{by} withdrew the ownership claim on {where}",
    "catalog.claim.decided": "The ownership claim on {where} was {decision}",
    "catalog.inclusion.requested": "{requester} asks to include {where} in {target}",
    "catalog.inclusion.approved": "{by} included {where} in {target}",
    "catalog.inclusion.rejected": "{by} declined to include {where} in {target}",
}


def catalog_notice(uow: UnitOfWork, type_: str, event_id: str, data: dict[str, Any], *, base: str,
                   now: datetime) -> None:
    """Claims and inclusion requests: catalog names the recipients."""
    where = f"{data['owner']}/{data['repo']}/{data['package']}"
    target = f"{data.get('target_owner') or ''}/{data.get('target_repo') or ''}"
    values = {k: (v if v is not None else "") for k, v in data.items() if not isinstance(v, list)}
    title = _CLAIM_TITLES[type_].format(**{**values, "where": where, "target": target})
    kind = kinds.CLAIM if ".claim." in type_ else kinds.INCLUSION
    text = data.get("reason") or data.get("message") or ""
    link = f"{base}/ui/claims" if kind == kinds.CLAIM else f"{base}/me/inclusion_requests"
    tell(uow, Notice(kind=kind, event_id=event_id, title=title, body=_excerpt(text) or title, link=link,
                     context={"detail": _excerpt(text, 2000)}), data["recipients"], now=now)


def signing_failed(uow: UnitOfWork, event_id: str, data: dict[str, Any], *, base: str, now: datetime) -> None:
    where = f"{data['owner']}/{data['repo']}/{data['package']} {data['version']}"
    recipients = data["recipients"] or owners_of(uow.session, data["owner"])
    tell(uow, Notice(kind=kinds.SIGNING_FAILED, event_id=event_id, title=f"Signing {where} failed",
                     body=_excerpt(data["reason"]) or "The files could not be signed.",
                     link=f"{package_link(base, data['owner'], data['repo'], data['package'])}/versions/"
                          f"{quote(data['version'])}"), recipients, now=now)


def key_uploaded(uow: UnitOfWork, *, subject: str, subject_type: str, fingerprint: str,
                 expires: datetime | None) -> None:
    session = uow.session
    session.execute(sa.delete(SigningKey).where(SigningKey.subject == subject, SigningKey.fingerprint != fingerprint))
    row = session.get(SigningKey, (subject, fingerprint))
    if expires is None:
        if row is not None:
            session.delete(row)
        return
    if row is None:
        session.add(SigningKey(subject=subject, fingerprint=fingerprint, subject_type=subject_type,
                               expires_at=expires, warned_at=None))
    elif row.expires_at != expires:
        row.expires_at, row.warned_at = expires, None


def key_cleared(uow: UnitOfWork, *, subject: str, fingerprint: str | None) -> None:
    where = [SigningKey.subject == subject]
    if fingerprint:
        where.append(SigningKey.fingerprint == fingerprint)
    uow.session.execute(sa.delete(SigningKey).where(*where))


def warn_expiring_keys(uow: UnitOfWork, *, base: str, now: datetime, limit: int = 100) -> int:
    """Tell the owners of keys expiring within 30 days (once per key and expiry date)."""
    rows = uow.session.scalars(sa.select(SigningKey).where(
        SigningKey.warned_at.is_(None), SigningKey.expires_at <= now + EXPIRY_WARNING)
        .order_by(SigningKey.expires_at).limit(limit).with_for_update(skip_locked=True)).all()
    for key in rows:
        when = key.expires_at.strftime("%Y-%m-%d")
        keys_page = f"{base}/me/keys/gpg" if key.subject_type == "user" else f"{base}/orgs/{key.subject}/keys/gpg"
        expired = key.expires_at <= now
        tell(uow, Notice(kind=kinds.KEY_EXPIRING, event_id=f"key-expiry:{key.fingerprint}:{when}",
                         title=f"The GPG key {key.fingerprint[-16:]} of {key.subject} "
                               f"{'expired' if expired else 'expires'} on {when}",
                         body="Upload a renewed key so that signing goes on working.",
                         link=keys_page),
             owners_of(uow.session, key.subject), now=now)
        key.warned_at = now
    return len(rows)


class KeyExpiryWatcher(BackgroundLoop):
    name = "key expiry watcher"

    def __init__(self, *, engine: Any, uow_factory: Any, base: str, clock: Any, interval: float = 3600.0) -> None:
        super().__init__(engine=engine, interval=interval, full_batch=100)
        self._uow, self._base, self._clock = uow_factory, base, clock

    def run_once(self) -> int:
        with self._uow() as uow:
            done = warn_expiring_keys(uow, base=self._base, now=self._clock())
            uow.commit()
        return done
