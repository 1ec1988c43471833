"""Domain errors that use cases raise and the web layer turns into HTTP answers.

Use cases must not import Flask; they raise these, and :mod:`packyard.web` answers each
with its status and ``{"message": ...}``. The message is shown to the client as is, so it
must never reveal more than the caller may know (a private repository answers
:class:`NotFound`, not :class:`Forbidden`).

:func:`from_database_failure` says how the web layer answers a database failure that is not a
defect of the request or of the code: the database unreachable, restarting or refusing connections
(503 :class:`Unavailable`, with ``Retry-After``), and a transaction that lost a race with a
concurrent one (409 :class:`Conflict`; use cases lock what they change, so this is the last resort).
"""

from __future__ import annotations

__all__ = ["DomainError", "Invalid", "Unauthorized", "Forbidden", "NotFound", "Conflict", "Gone",
           "TooLarge", "TooManyRequests", "Unavailable", "from_database_failure", "RETRY_AFTER_SECONDS"]

RETRY_AFTER_SECONDS = 5
DATABASE_UNAVAILABLE = "The service's database is unavailable at the moment; retry shortly"
CHANGED_CONCURRENTLY = "A concurrent request changed this at the same time; read it again and retry"


class DomainError(Exception):
    status = 400

    def __init__(self, message: str, *, headers: dict[str, str] | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.headers = headers or {}


class Invalid(DomainError):
    status = 400


class Unauthorized(DomainError):
    status = 401


class Forbidden(DomainError):
    status = 403


class NotFound(DomainError):
    status = 404


class Conflict(DomainError):
    status = 409


class Gone(DomainError):
    status = 410


class TooLarge(DomainError):
    status = 413


class TooManyRequests(DomainError):
    status = 429


class Unavailable(DomainError):
    status = 503


def from_database_failure(exc: BaseException) -> DomainError | None:
    """The answer to a database failure no retry of the same request would meet again, or None.

    * the database cannot be reached or used (connection refused or broken, the server shutting
      down or starting, the pool exhausted, a statement cancelled): :class:`Unavailable` with
      ``Retry-After``;
    * the transaction lost a race (serialization failure or deadlock, SQLSTATE class 40) or
      wrote a row a concurrent transaction deleted (SQLAlchemy's ``StaleDataError``,
      ``ObjectDeletedError``): :class:`Conflict`.

    Anything else (a constraint violated, a bad statement) is a defect: None.
    """
    import sqlalchemy.exc as sa_exc
    import sqlalchemy.orm.exc as orm_exc

    if isinstance(exc, (orm_exc.StaleDataError, orm_exc.ObjectDeletedError)):
        return Conflict(CHANGED_CONCURRENTLY)
    unavailable = Unavailable(DATABASE_UNAVAILABLE, headers={"Retry-After": str(RETRY_AFTER_SECONDS)})
    if isinstance(exc, sa_exc.DBAPIError):
        sqlstate = str(getattr(exc.orig, "sqlstate", None) or "")
        if sqlstate.startswith("40"):
            return Conflict(CHANGED_CONCURRENTLY)
        if isinstance(exc, (sa_exc.OperationalError, sa_exc.InterfaceError)) or exc.connection_invalidated:
            return unavailable
        return None
    if isinstance(exc, (sa_exc.TimeoutError, sa_exc.DisconnectionError)):  # no pooled connection came free
        return unavailable
    return None
