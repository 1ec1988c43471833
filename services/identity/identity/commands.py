"""Identity's own commands, beside the shared ``migrate``, ``worker`` and ``relay``."""

from __future__ import annotations

import argparse
import getpass
import logging
import sys
from typing import Any

import sqlalchemy as sa

from identity.access import user_by_name
from identity.models import SigningKey
from packyard.errors import DomainError

log = logging.getLogger(__name__)


def ensure_signing_key(ident: Any) -> None:
    """Create the first token signing key when there is none (run by ``migrate``)."""
    with ident.uow() as uow:
        if uow.session.scalar(sa.select(sa.func.count()).select_from(SigningKey)
                              .where(SigningKey.retired_at.is_(None))) == 0:
            kid = ident.keyring.create(uow.session, ident.clock())
            uow.commit()
            log.info("created token signing key %s", kid)


def rotate_keys(ident: Any, _args: argparse.Namespace) -> int:
    """Add a new signing key; keys older than the previous one are retired."""
    with ident.uow() as uow:
        keys = uow.session.scalars(sa.select(SigningKey).where(SigningKey.retired_at.is_(None))
                                   .order_by(SigningKey.created_at.desc())).all()
        for old in keys[1:]:  # keep the current key so tokens it signed still verify
            old.retired_at = ident.clock()
        kid = ident.keyring.create(uow.session, ident.clock())
        uow.commit()
    print(f"new signing key {kid}")
    return 0


def _read_password(args: argparse.Namespace) -> str:
    if args.password_stdin:
        return sys.stdin.readline().rstrip("\r\n")
    first = getpass.getpass("Password: ")
    if getpass.getpass("Password again: ") != first:
        raise SystemExit("the passwords do not match")
    return first


def create_admin(ident: Any, args: argparse.Namespace) -> int:
    """Make a user a platform administrator, creating the account if there is none.

    The password is read from standard input (``--password-stdin``) or asked for; never from
    the command line, where other users of the machine could see it.
    """
    with ident.uow() as uow:
        exists = user_by_name(uow.session, args.username) is not None
    password = None if exists else _read_password(args)
    try:
        with ident.uow() as uow:
            user, created = ident.make_admin(uow, args.username, args.email, password)
            uow.commit()
    except DomainError as exc:
        print(f"error: {exc.message}", file=sys.stderr)
        return 1
    print(f"{'created' if created else 'promoted'} platform administrator {user.username}")
    return 0


def _create_admin_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("username")
    parser.add_argument("--email", help="needed when the account does not exist yet")
    parser.add_argument("--password-stdin", action="store_true", help="read the new account's password from stdin")


COMMANDS = {
    "rotate-keys": ("add a new token signing key and retire the older ones", rotate_keys, None),
    "create-admin": ("make a user a platform administrator (creating the account if needed)", create_admin,
                     _create_admin_arguments),
}
