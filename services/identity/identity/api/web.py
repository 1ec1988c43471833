"""What identity's views share: the container, the client's address, and running one use case."""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, TypeVar

import flask

from identity.use_cases import Rejected
from packyard import transactions
from packyard.db import UnitOfWork
from packyard.web import require_principal

if TYPE_CHECKING:
    from identity.bootstrap import Identity

T = TypeVar("T")


def ident() -> Identity:
    container: Identity = flask.current_app.extensions["identity"]
    return container


def authenticated(view: Callable[..., Any]) -> Callable[..., Any]:
    """Answer 401 to anonymous callers before the request body is even parsed."""
    @functools.wraps(view)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        require_principal()
        return view(*args, **kwargs)
    return wrapper


def client_address() -> str | None:
    """The caller's address: the gateway appends it to ``X-Forwarded-For`` (``TRUSTED_PROXIES`` hops)."""
    hops = ident().settings.trusted_proxies
    forwarded = [part.strip() for part in flask.request.headers.get("X-Forwarded-For", "").split(",")
                 if part.strip()]
    if hops and forwarded:
        return forwarded[-hops] if len(forwarded) >= hops else forwarded[0]
    return flask.request.remote_addr


def change(action: Callable[[UnitOfWork], T]) -> T:
    """Run a changing use case in one unit of work and commit it.

    A rejected password is committed too — only its failure record is in the unit of work —
    so throttling counts it; then the error answers.
    """
    return transactions.change(ident().uow, action, commit_on=(Rejected,))


def read(query: Callable[[Any], T]) -> T:
    """Run a query on a session that is never committed."""
    return transactions.read(ident().uow, query)
