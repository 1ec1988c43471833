"""GnuPG, through python-gnupg over the real ``gpg`` binary.

Every operation runs in a throwaway home directory (:class:`Keyring`) that is removed — its
agent stopped — as soon as the operation ends, so no key outlives the request that used it on
disk. A passphrase always travels through a pipe (``--pinentry-mode loopback --passphrase-fd 0``
on gpg's standard input, ahead of the data), never in argv or the environment; the data to sign
is streamed into gpg in chunks, never held whole in memory.

Nothing here logs or raises anything containing key material or a passphrase: errors are
:class:`KeyProblem` with a message written for the user.
"""

from __future__ import annotations

import logging
import os
import secrets
import shutil
import subprocess
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import BinaryIO

import gnupg

__all__ = ["KeyProblem", "BadPassphrase", "KeyInfo", "Keyring", "keyring", "inspect_key", "generate_key"]

log = logging.getLogger(__name__)

CHUNK = 64 * 1024
ARMOR_PUBLIC = "-----BEGIN PGP PUBLIC KEY BLOCK-----"
ARMOR_PRIVATE = "-----BEGIN PGP PRIVATE KEY BLOCK-----"

# python-gnupg logs gpg's whole status stream at DEBUG; keep it quiet whatever the root level.
logging.getLogger("gnupg").setLevel(logging.WARNING)


class KeyProblem(Exception):
    """A key or a signing request gpg refuses; the message is safe to show the user."""


class BadPassphrase(KeyProblem):
    pass


@dataclass(frozen=True)
class KeyInfo:
    fingerprint: str
    key_id: str
    user_ids: list[str]
    algorithm: str
    created: datetime
    expires: datetime | None
    has_private_key: bool = False
    passphrase_protected: bool = False


_ALGORITHMS = {"1": "RSA", "2": "RSA", "3": "RSA", "16": "ElGamal", "17": "DSA", "18": "ECDH", "19": "ECDSA",
               "22": "EdDSA"}


def _when(value: str | None) -> datetime | None:
    if not value:
        return None
    return datetime.fromtimestamp(int(value), tz=UTC)


class Keyring:
    """A throwaway GnuPG home; use :func:`keyring` to get one that cleans up after itself."""

    def __init__(self, home: str, binary: str) -> None:
        self.home = home
        self.gpg = gnupg.GPG(gpgbinary=binary, gnupghome=home)
        self.gpg.encoding = "utf-8"
        self.gpg.buffer_size = CHUNK

    # -- keys ---------------------------------------------------------------------------------
    def import_public(self, armor: str) -> dict:
        armor = (armor or "").strip()
        if ARMOR_PRIVATE in armor:
            raise KeyProblem("public_key holds a private key: send the public key there, "
                             "the private key in private_key")
        if ARMOR_PUBLIC not in armor:
            raise KeyProblem("public_key is not an ASCII-armored PGP public key block")
        result = self.gpg.import_keys(armor)
        fingerprints = sorted(set(result.fingerprints or []))
        if not fingerprints:
            raise KeyProblem("public_key could not be read as a PGP public key")
        keys = self.gpg.list_keys()
        if len(keys) != 1:
            raise KeyProblem("public_key must hold exactly one key")
        return keys[0]

    def import_private(self, armor: str, fingerprint: str | None) -> str:
        """Import a secret key; return its fingerprint (the one matching ``fingerprint`` when given)."""
        armor = (armor or "").strip()
        if ARMOR_PRIVATE not in armor:
            raise KeyProblem("private_key is not an ASCII-armored PGP private key block")
        self.gpg.import_keys(armor)
        secret = [k["fingerprint"] for k in self.gpg.list_keys(secret=True)]
        if not secret:
            raise KeyProblem("private_key could not be read as a PGP private key")
        if fingerprint is None:
            if len(secret) != 1:
                raise KeyProblem("private_key must hold exactly one key")
            return secret[0]
        if fingerprint not in secret:
            raise KeyProblem("private_key does not match public_key")
        return fingerprint

    def export_public(self, fingerprint: str) -> str:
        return str(self.gpg.export_keys(fingerprint))

    def export_private(self, fingerprint: str) -> str:
        return str(self.gpg.export_keys(fingerprint, secret=True, expect_passphrase=False))

    # -- signing ------------------------------------------------------------------------------
    def sign(self, fingerprint: str, data: BinaryIO, passphrase: str | None) -> bytes:
        """A detached, armored signature of the stream ``data``."""
        if passphrase is not None and not self.gpg.is_valid_passphrase(passphrase):
            raise KeyProblem("The passphrase may not contain line breaks")
        # gpg reads --passphrase-fd at start-up, before the data; a key without passphrase ignores it.
        supplied = passphrase if passphrase else secrets.token_hex(8)
        result = self.gpg.sign_file(data, keyid=fingerprint, passphrase=supplied, detach=True, binary=False,
                                    extra_args=["--digest-algo", "SHA256"])
        signature = bytes(result.data or b"")
        if not signature or "-----BEGIN PGP SIGNATURE-----" not in signature.decode("ascii", "replace"):
            status = (result.status or "").lower()
            stderr = (result.stderr or "").upper()
            marks = ("BAD_PASSPHRASE", "BAD PASSPHRASE", "MISSING_PASSPHRASE", "NO PASSPHRASE")
            if any(mark in stderr for mark in marks) or "bad passphrase" in status:
                raise BadPassphrase("The passphrase is wrong" if passphrase else
                                    "The key is protected by a passphrase: send it in X-GPG-PASSPHRASE "
                                    "or the body's passphrase")
            if "KEYEXPIRED" in stderr or "EXPKEYSIG" in stderr:
                raise KeyProblem("The key has expired")
            if "KEYREVOKED" in stderr:
                raise KeyProblem("The key has been revoked")
            raise KeyProblem("gpg could not sign with this key")
        return signature

    def protected(self, fingerprint: str) -> bool:
        """Whether the secret key needs a passphrase: sign a few bytes with none."""
        import io

        try:
            self.sign(fingerprint, io.BytesIO(b"packyard"), None)
        except BadPassphrase:
            return True
        return False

    def close(self) -> None:
        subprocess.run(["gpgconf", "--homedir", self.home, "--kill", "gpg-agent"], check=False,
                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, timeout=10)
        shutil.rmtree(self.home, ignore_errors=True)


@contextmanager
def keyring(root: str | None = None, binary: str = "gpg") -> Iterator[Keyring]:
    """A fresh GnuPG home under ``root`` (private to this process, mode 0700), removed on exit."""
    if root:
        os.makedirs(root, mode=0o700, exist_ok=True)
    home = tempfile.mkdtemp(prefix="pg", dir=root or None)
    ring = Keyring(home, binary)
    try:
        yield ring
    finally:
        ring.close()


def _info(key: dict, *, has_private_key: bool = False, protected: bool = False) -> KeyInfo:
    return KeyInfo(fingerprint=key["fingerprint"], key_id=key["keyid"], user_ids=list(key.get("uids") or []),
                   algorithm=_ALGORITHMS.get(str(key.get("algo")), f"algorithm {key.get('algo')}")
                   + (f" {key['length']}" if key.get("length") and str(key.get("algo")) in ("1", "2", "3", "17")
                      else ""),
                   created=_when(key.get("date")) or datetime.now(UTC), expires=_when(key.get("expires")),
                   has_private_key=has_private_key, passphrase_protected=protected)


def _check_usable(key: dict, now: datetime) -> None:
    trust = key.get("trust") or ""
    if trust == "r":
        raise KeyProblem("The key has been revoked")
    expires = _when(key.get("expires"))
    if trust == "e" or (expires is not None and expires <= now):
        raise KeyProblem("The key has expired")
    if "S" not in (key.get("cap") or ""):
        raise KeyProblem("The key cannot sign: it has no usable signing capability")


def inspect_key(public_key: str, private_key: str | None, *, now: datetime, root: str | None = None,
                binary: str = "gpg") -> tuple[KeyInfo, str]:
    """Validate a key (pair) for signing; its facts and the public key as exported by gpg."""
    with keyring(root, binary) as ring:
        key = ring.import_public(public_key)
        _check_usable(key, now)
        public = ring.export_public(key["fingerprint"])
        protected = False
        if private_key:
            ring.import_private(private_key, key["fingerprint"])
            protected = ring.protected(key["fingerprint"])
        return _info(key, has_private_key=bool(private_key), protected=protected), public


def inspect_private_key(private_key: str, *, now: datetime, root: str | None = None,
                        binary: str = "gpg") -> KeyInfo:
    """Validate a private key sent for one signing (its public part is inside it)."""
    with keyring(root, binary) as ring:
        fingerprint = ring.import_private(private_key, None)
        key = next((k for k in ring.gpg.list_keys() if k["fingerprint"] == fingerprint), None)
        if key is None:
            raise KeyProblem("private_key holds no usable key")
        _check_usable(key, now)
        return _info(key, has_private_key=True)


def generate_key(name: str, email: str, *, root: str | None = None, binary: str = "gpg") -> tuple[KeyInfo, str, str]:
    """A new Ed25519 signing key without passphrase: its facts, public and private armor."""
    with keyring(root, binary) as ring:
        spec = ring.gpg.gen_key_input(key_type="EDDSA", key_curve="ed25519", key_usage="sign", name_real=name,
                                      name_email=email, expire_date=0, no_protection=True)
        result = ring.gpg.gen_key(spec)
        fingerprint = str(result.fingerprint or "")
        if not fingerprint:
            raise KeyProblem("gpg could not generate a key")
        key = ring.gpg.list_keys()[0]
        return _info(key, has_private_key=True), ring.export_public(fingerprint), ring.export_private(fingerprint)
