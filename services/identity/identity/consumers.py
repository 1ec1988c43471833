"""What identity listens to: only what keeps the Bintray user JSON's counters current.

Schemas here are identity's own, tolerant readings of other services' events (unknown
fields excluded); identity never imports another service's code.
"""

from __future__ import annotations

from typing import Any

import marshmallow as ma
import sqlalchemy as sa

from identity.models import SubjectRepo
from packyard.consumer import ConsumerQueue, Handler
from packyard.db import UnitOfWork
from packyard.events import CloudEvent


class RepoEvent(ma.Schema):
    owner = ma.fields.String(required=True)
    repo = ma.fields.String(required=True)
    private = ma.fields.Boolean(load_default=False)


def on_repo_created(uow: UnitOfWork, _event: CloudEvent, data: dict[str, Any]) -> None:
    existing = uow.session.get(SubjectRepo, (data["owner"], data["repo"]))
    if existing is None:
        uow.session.add(SubjectRepo(subject=data["owner"], repo=data["repo"], private=data["private"]))
    else:
        existing.private = data["private"]


def on_repo_deleted(uow: UnitOfWork, _event: CloudEvent, data: dict[str, Any]) -> None:
    uow.session.execute(sa.delete(SubjectRepo).where(SubjectRepo.subject == data["owner"],
                                                     SubjectRepo.repo == data["repo"]))


QUEUES = [
    ConsumerQueue("identity.subject-counters", (
        Handler("catalog.repo.created", on_repo_created, RepoEvent),
        Handler("catalog.repo.updated", on_repo_created, RepoEvent),
        Handler("catalog.repo.deleted", on_repo_deleted, RepoEvent),
    )),
]
