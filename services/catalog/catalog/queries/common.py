"""What the read models share: timestamps, pages and search patterns."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from packyard.events import format_time
from packyard.paging import page_of


def time_or_none(moment: datetime | None) -> str | None:
    return format_time(moment) if moment is not None else None


def page_items(session: Session, query: sa.Select, start: int) -> tuple[list[Any], int]:
    page = page_of(session, query, start)
    return page.items, page.total


def contains(text: str) -> str:
    """A LIKE pattern matching ``text`` anywhere (its own % and _ taken literally; escape character \\)."""
    escaped = text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


def wildcard(pattern: str) -> str:
    """Bintray's wildcards (``*`` any run, ``?`` one character) as a LIKE pattern."""
    escaped = pattern.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return escaped.replace("*", "%").replace("?", "_")
