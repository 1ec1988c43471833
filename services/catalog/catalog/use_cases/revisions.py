"""Revision counters kept apart from the rows they describe (see :class:`catalog.models.Revision`)."""

from __future__ import annotations

from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from catalog.models import Revision
from packyard.db import is_postgres


def next_revision(session: Session, scope: str, key: str) -> int:
    """The next revision of ``key`` (1 the first time); concurrent callers get distinct values."""
    table = Revision.__table__
    insert = (postgresql.insert if is_postgres(session.get_bind()) else sqlite.insert)(table).values(
        scope=scope, key=key, revision=1)
    statement = insert.on_conflict_do_update(index_elements=[table.c.scope, table.c.key],
                                             set_={"revision": table.c.revision + 1}).returning(table.c.revision)
    return session.execute(statement).scalar_one()
