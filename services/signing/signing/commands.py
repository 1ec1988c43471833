"""Signing's own commands, beside the shared ``migrate``, ``worker`` and ``relay``: rotating the platform key
and the secret that seals stored private keys."""

from __future__ import annotations

import argparse
from typing import Any

import sqlalchemy as sa

from signing import use_cases
from signing.models import GpgKey, PlatformKey


def rotate_platform_key(signing: Any, args: argparse.Namespace) -> int:
    """Add a new platform key (generated, or imported from PLATFORM_GPG_KEY with --import); it signs from now on.
    The older keys stay published so that their signatures still verify, until retired."""
    s = signing.settings
    with signing.uow() as uow:
        key = use_cases.add_platform_key(uow, signing.vault, private_key=s.platform_key if args.import_key else None,
                                         name=s.platform_key_name, email=s.platform_key_email, now=signing.clock(),
                                         **signing.gpg_options)
        uow.commit()
        print(f"platform key {key.fingerprint} signs from now on")
    return 0


def retire_platform_key(signing: Any, args: argparse.Namespace) -> int:
    """Stop publishing an old platform key (its signatures no longer verify against /gpg/platform/public.key)."""
    with signing.uow() as uow:
        use_cases.retire_platform_key(uow, args.fingerprint, signing.clock())
        uow.commit()
    print(f"platform key {args.fingerprint} retired")
    return 0


def reseal_keys(signing: Any, args: argparse.Namespace) -> int:
    """Seal every stored private key (users', organizations', the platform's) under the newest secret of
    SIGNING_SECRET_KEY, so that the older secrets can be removed from it. Safe to run again; keys are
    resealed in batches, each batch committed on its own."""
    vault, done = signing.vault, 0
    for model in (GpgKey, PlatformKey):
        while True:
            with signing.uow() as uow:
                rows = uow.session.scalars(
                    sa.select(model).where(model.private_key_ciphertext.is_not(None))
                    .order_by(*model.__table__.primary_key.columns).with_for_update()).all()
                stale = [row for row in rows if not vault.sealed_under_newest(row.private_key_ciphertext)][:100]
                for row in stale:
                    row.private_key_ciphertext = vault.reseal(row.private_key_ciphertext)
                uow.commit()
            done += len(stale)
            if len(stale) < 100:
                break
    print(f"{done} private keys resealed under the newest SIGNING_SECRET_KEY")
    return 0


def _configure_rotate(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--import", dest="import_key", action="store_true",
                        help="import PLATFORM_GPG_KEY instead of generating a key")


def _configure_retire(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("fingerprint", help="the fingerprint of the platform key to retire")


COMMANDS = {
    "rotate-platform-key": ("add a new platform signing key; the newest signs", rotate_platform_key,
                            _configure_rotate),
    "retire-platform-key": ("stop publishing an old platform signing key", retire_platform_key, _configure_retire),
    "reseal-keys": ("seal stored private keys under the newest SIGNING_SECRET_KEY", reseal_keys, None),
}
