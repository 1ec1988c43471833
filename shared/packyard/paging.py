"""Bintray's pagination, shared by every list endpoint.

Lists take ``?start_pos=N`` (the index of the first item, 0-based) and return at most
:data:`PAGE_SIZE` items with three headers: ``X-RangeLimit-Total`` (items in the whole
list), ``X-RangeLimit-StartPos`` and ``X-RangeLimit-EndPos`` (index of the last item
returned, inclusive). A query builds a :class:`Page`; a view answers ``page.response()``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Generic, TypeVar

import marshmallow as ma
import sqlalchemy as sa
from sqlalchemy.orm import Session

__all__ = ["PAGE_SIZE", "RANGE_HEADERS", "PageArgs", "Page", "page_of"]

T = TypeVar("T")

PAGE_SIZE = 50  # Bintray's page size

RANGE_HEADERS = {  # for @blp.response(..., headers=RANGE_HEADERS) in the OpenAPI document
    "X-RangeLimit-Total": {"description": "number of items in the whole list", "schema": {"type": "integer"}},
    "X-RangeLimit-StartPos": {"description": "index of the first item returned", "schema": {"type": "integer"}},
    "X-RangeLimit-EndPos": {"description": "index of the last item returned (inclusive)",
                            "schema": {"type": "integer"}},
}


class PageArgs(ma.Schema):
    """``?start_pos=N``; subclass it to add a list's own filters."""

    class Meta:
        unknown = ma.EXCLUDE

    start_pos = ma.fields.Integer(load_default=0, validate=ma.validate.Range(min=0, max=2**31 - 1),
                                  metadata={"description": "index of the first item to return"})


@dataclass(frozen=True)
class Page(Generic[T]):
    """One page of a list: the items, the size of the whole list, and where the page starts."""

    items: list[T]
    total: int
    start_pos: int

    @property
    def end_pos(self) -> int:
        return self.start_pos + len(self.items) - 1

    def headers(self) -> dict[str, str]:
        return {"X-RangeLimit-Total": str(self.total), "X-RangeLimit-StartPos": str(self.start_pos),
                "X-RangeLimit-EndPos": str(self.end_pos)}

    def response(self) -> tuple[list[T], int, dict[str, str]]:
        """What a flask-smorest view returns: items, 200 and the range headers."""
        return self.items, 200, self.headers()


def page_of(session: Session, query: sa.Select[*tuple[Any, ...]], start_pos: int, *, size: int = PAGE_SIZE,
            scalars: bool = True) -> Page[Any]:
    """Run ``query`` (already ordered) for one page and count the whole list."""
    total = session.scalar(sa.select(sa.func.count()).select_from(query.order_by(None).subquery())) or 0
    paged = query.offset(start_pos).limit(size)
    rows = list(session.scalars(paged) if scalars else session.execute(paged))
    return Page(rows, total, start_pos)
