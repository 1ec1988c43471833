"""Read models of identity: the Bintray JSON shapes, built straight from the tables."""

from __future__ import annotations

import hashlib
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from identity.models import SubjectRepo, User
from packyard.auth import Principal
from packyard.errors import NotFound
from packyard.events import format_time


def gravatar_id(email: str) -> str:
    """As Bintray (and Gravatar) computed it: md5 of the trimmed, lower-cased address."""
    return hashlib.md5(email.strip().lower().encode(), usedforsecurity=False).hexdigest()


def get_user(session: Session, username: str, viewer: Principal | None) -> dict[str, Any]:
    user = session.scalars(sa.select(User).where(User.username == username)).first()
    if user is None:
        raise NotFound(f"Subject '{username}' was not found")
    is_self = viewer is not None and (viewer.user_id == user.id or viewer.admin)
    repos_query = sa.select(SubjectRepo.repo).where(SubjectRepo.subject == user.username).order_by(SubjectRepo.repo)
    if not is_self:
        repos_query = repos_query.where(SubjectRepo.private.is_(False))
    body: dict[str, Any] = {
        "name": user.username,
        "full_name": user.full_name,
        "gravatar_id": gravatar_id(user.email),
        "repos": list(session.scalars(repos_query)),
        "organizations": [],
        "followers_count": user.followers_count,
        "registered": format_time(user.created_at),
    }
    if is_self:
        body["quota_used_bytes"] = 0
    return body
