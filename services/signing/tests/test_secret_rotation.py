"""SIGNING_SECRET_KEY rotates: keys sealed under the old secret keep working while both are configured,
`reseal-keys` moves them to the new one, and then the old secret can go."""

import argparse

import pytest
import sqlalchemy as sa

from packyard.config import ConfigError
from packyard.testing import SERVICE_TOKEN
from packyard.testing.service import containers
from signing import commands
from signing.bootstrap import bootstrap
from signing.config import Settings, check
from signing.models import GpgKey, PlatformKey
from signing.vault import KeyVault, SecretMismatch

OLD = "an-old-signing-secret-of-at-least-32-chars"
NEW = "a-new-signing-secret-of-at-least-32-chars!"


@pytest.fixture
def with_secret(database_url, minter):
    """``with_secret(value)`` → a signing container on this test's database with SIGNING_SECRET_KEY=value."""
    yield from containers(lambda value: bootstrap(
        Settings(database_url=database_url, amqp_url="amqp://guest:guest@127.0.0.1:5672/%2F",
                 jwks_url="http://identity.invalid/jwks", service_token=SERVICE_TOKEN, secret_key=value),
        jwks_source=minter.jwks))


def _ciphertexts(container) -> list[str]:
    with container.uow() as uow:
        return [*uow.session.scalars(sa.select(GpgKey.private_key_ciphertext)),
                *uow.session.scalars(sa.select(PlatformKey.private_key_ciphertext))]


def test_keys_sealed_under_the_old_secret_are_resealed_under_the_new_one(with_secret, minter, keys):
    from signing.app import create_app

    old = with_secret(OLD)
    old.after_migrate()  # the platform key, sealed under OLD
    public, private, _fp, _ = keys.get("alice_pair")
    headers = minter.headers("alice", user_id="uid-alice")
    assert create_app(old).test_client().put("/me/keys/gpg", json={"public_key": public, "private_key": private},
                                             headers=headers).status_code == 200
    sealed = _ciphertexts(old)
    assert len(sealed) == 2

    rotating = with_secret(f"{NEW},{OLD}")
    assert [rotating.vault.open(c) for c in sealed][0]  # both still open while both secrets are configured
    assert commands.reseal_keys(rotating, argparse.Namespace()) == 0
    resealed = _ciphertexts(rotating)
    assert len(resealed) == 2 and set(resealed).isdisjoint(sealed)
    assert commands.reseal_keys(rotating, argparse.Namespace()) == 0  # again: nothing left to do
    assert _ciphertexts(rotating) == resealed

    rotated = KeyVault(NEW)
    assert private in [rotated.open(c) for c in resealed]
    with pytest.raises(SecretMismatch):
        KeyVault(OLD).open(resealed[0])


def test_every_secret_of_a_rotation_must_be_long_enough(database_url):
    base = {"database_url": database_url, "amqp_url": "amqp://x", "jwks_url": "http://x/jwks",
            "service_token": "t" * 32}
    assert check(Settings(secret_key=f"{NEW},{OLD}", **base))
    with pytest.raises(ConfigError, match="SIGNING_SECRET_KEY must be at least 32 characters"):
        check(Settings(secret_key=f"{NEW},short", **base))
    with pytest.raises(ConfigError, match="SIGNING_SECRET_KEY"):
        check(Settings(secret_key=" , ", **base))
