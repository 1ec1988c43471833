"""Signing's own commands, beside the shared ``migrate``, ``worker`` and ``relay``: rotating the platform key."""

from __future__ import annotations

import argparse
from typing import Any

from signing import use_cases


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


def _configure_rotate(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--import", dest="import_key", action="store_true",
                        help="import PLATFORM_GPG_KEY instead of generating a key")


def _configure_retire(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("fingerprint", help="the fingerprint of the platform key to retire")


COMMANDS = {
    "rotate-platform-key": ("add a new platform signing key; the newest signs", rotate_platform_key,
                            _configure_rotate),
    "retire-platform-key": ("stop publishing an old platform signing key", retire_platform_key, _configure_retire),
}
