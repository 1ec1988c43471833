"""Pieces the use cases share: the subject namespace, the password policy, rejected credentials."""

from __future__ import annotations

import logging
from datetime import datetime

import sqlalchemy as sa
import sqlalchemy.exc

from identity import password_policy
from identity.credentials import Passwords
from identity.models import SubjectName, User
from identity.use_cases import throttle
from packyard.db import UnitOfWork
from packyard.errors import Conflict, DomainError, Invalid, Unauthorized

log = logging.getLogger(__name__)


class Rejected(DomainError):
    """A password check failed and the failure is recorded in the unit of work.

    Answers like the wrapped error; the caller must commit before answering so that the
    failure counts toward throttling (nothing else has changed at that point).
    """

    def __init__(self, error: DomainError) -> None:
        super().__init__(error.message, headers=error.headers)
        self.status = error.status


def claim_subject_name(uow: UnitOfWork, name: str, kind: str, now: datetime) -> None:
    """Take ``name`` for a new user or organization; 409 when any subject has or had it.

    The primary key decides between two concurrent claims of one name.
    """
    taken = Conflict(f"The name '{name}' is already taken")
    if uow.session.get(SubjectName, name.lower()) is not None:
        raise taken
    try:
        with uow.session.begin_nested():
            uow.session.add(SubjectName(name_key=name.lower(), kind=kind, created_at=now))
    except sqlalchemy.exc.IntegrityError:
        raise taken from None


def retire_subject_name(uow: UnitOfWork, name: str) -> None:
    """Keep a deleted subject's name from ever naming somebody else."""
    uow.session.execute(sa.update(SubjectName).where(SubjectName.name_key == name.lower()).values(kind="retired"))


def check_password(password: str, *, username: str, email: str) -> None:
    problems = password_policy.problems(password, username=username, email=email)
    if problems:
        raise Invalid("; ".join(problems))


def verify_password(uow: UnitOfWork, passwords: Passwords, policy: throttle.ThrottlePolicy, user: User,
                    password: str, address: str | None, now: datetime, wrong: Invalid | Unauthorized) -> None:
    """Check the password of a signed-in user before a sensitive change; failures count like failed logins.

    Call it before changing anything: on failure the caller commits the recorded failure.
    """
    attempt = throttle.Attempt.of(user.username_key, address)
    throttle.check(uow, policy, attempt, now)
    if not passwords.verify(user.password_hash, password):
        throttle.record_failure(uow, policy, attempt, now)
        log.info("wrong password given for a sensitive change", extra={"username": user.username})
        raise Rejected(wrong)
