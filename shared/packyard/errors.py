"""Domain errors that use cases raise and the web layer turns into HTTP answers.

Use cases must not import Flask; they raise these, and :mod:`packyard.web` answers each
with its status and ``{"message": ...}``. The message is shown to the client as is, so it
must never reveal more than the caller may know (a private repository answers
:class:`NotFound`, not :class:`Forbidden`).
"""

from __future__ import annotations

__all__ = ["DomainError", "Invalid", "Unauthorized", "Forbidden", "NotFound", "Conflict", "Gone",
           "TooLarge", "TooManyRequests"]


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
