"""Running one use case in one transaction: the only place an HTTP view's changes are committed.

Views parse the request, hand one use case to :func:`change` (or one query to :func:`read`) and
shape the answer; they never commit themselves. Each service binds these to its container's
unit-of-work factory in its ``api`` package (``change(lambda uow: use_case(uow, command))``).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

from packyard.db import UnitOfWork

__all__ = ["change", "read"]

T = TypeVar("T")


def change(
    uow_factory: Callable[[], UnitOfWork],
    action: Callable[[UnitOfWork], T],
    *,
    commit_on: tuple[type[BaseException], ...] = (),
    retry_on: tuple[type[BaseException], ...] = (),
) -> T:
    """Run ``action(uow)`` in a new unit of work and commit it; return what it returned.

    Guarantees:

    * state and the events published through the unit of work commit together, once
      ``action`` returned — anything ``action`` computed from the session (an answer built
      from the rows it changed) is computed before the commit, in the same transaction;
    * an exception from ``action`` rolls everything back and propagates — except one of
      ``commit_on``, whose work is committed before it propagates (a refused login whose
      failure record must count);
    * an exception of ``retry_on`` raised by ``action`` or the commit (a unique-key race lost
      to an identical concurrent request) runs ``action`` once more in a fresh unit of work;
      a second one propagates.
    """
    attempts = 2 if retry_on else 1
    for attempt in range(1, attempts + 1):
        with uow_factory() as uow:
            try:
                try:
                    result = action(uow)
                except commit_on:
                    uow.commit()
                    raise
                uow.commit()
                return result
            except retry_on:
                if attempt == attempts:
                    raise
    raise AssertionError("unreachable")  # pragma: no cover - the loop returns or raises


def read(uow_factory: Callable[[], UnitOfWork], query: Callable[[Any], T]) -> T:
    """Run ``query(session)`` in a unit of work that is never committed (it rolls back).

    The rollback expires every object the session loaded: ``query`` returns plain data (the
    answer's dicts, strings), not ORM objects to be read afterwards.
    """
    with uow_factory() as uow:
        return query(uow.session)
