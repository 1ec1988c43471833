"""Identity's own commands, beside the shared ``migrate``, ``worker`` and ``relay``."""

from __future__ import annotations

import argparse
import logging
from typing import Any

import sqlalchemy as sa

from identity.models import SigningKey

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


COMMANDS = {
    "rotate-keys": ("add a new token signing key and retire the older ones", rotate_keys, None),
}
