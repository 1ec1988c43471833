"""Signing's settings (environment variables; see the README for the full list)."""

from __future__ import annotations

from dataclasses import dataclass

from packyard.config import ConfigError, env, load_settings
from packyard.service import BaseSettings
from signing import vault


@dataclass(frozen=True, kw_only=True)
class Settings(BaseSettings):
    jwks_url: str = env("JWKS_URL", help="identity's JWKS document, the keys that verify access tokens")
    secret_key: str = env("SIGNING_SECRET_KEY", secret=True,
                          help="at least 32 random characters; encrypts the stored private GPG keys at rest. "
                               "While rotating: several, comma-separated, the newest first (then run "
                               "`python -m signing reseal-keys`)")
    catalog_url: str = env("CATALOG_INTERNAL_URL", default="http://127.0.0.1:8103",
                           help="catalog's API inside the cluster (its /internal/signing endpoints), never the gateway")
    catalog_timeout: float = env("CATALOG_TIMEOUT", default=30.0,
                                 help="seconds signing waits for catalog on one internal call")
    gpg_binary: str = env("GPG_BINARY", default="gpg", help="the gpg executable")
    gnupghome_root: str | None = env("GNUPGHOME_ROOT", default=None,
                                     help="directory of the throwaway GnuPG homes, one per operation "
                                          "(default: the system's temporary directory)")
    platform_key: str | None = env("PLATFORM_GPG_KEY", secret=True, default=None,
                                   help="an ASCII-armored private key without passphrase to import as the platform "
                                        "key at migration (a Kubernetes secret); without it, migrate generates one")
    platform_key_name: str = env("PLATFORM_GPG_KEY_NAME", default="Packyard",
                                 help="user id name of a generated platform key")
    platform_key_email: str = env("PLATFORM_GPG_KEY_EMAIL", default="signing@packyard.localhost",
                                  help="user id email of a generated platform key")
    signing_retry_delay: float = env("SIGNING_RETRY_DELAY", default=5.0,
                                     help="seconds before retrying an automatic signing while catalog is away "
                                          "(doubles up to 5 minutes)")
    signing_concurrency: int = env("SIGNING_CONCURRENCY", default=8,
                                   help="files of one version signed side by side (each waits mostly on catalog)")
    signing_poll_interval: float = env("SIGNING_POLL_INTERVAL", default=1.0,
                                       help="seconds between the worker's looks for automatic signings to do")


def check(settings: Settings) -> Settings:
    secrets = vault.secrets_of(settings.secret_key)
    if not secrets or any(len(secret) < vault.MIN_SECRET_LENGTH for secret in secrets):
        raise ConfigError(f"SIGNING_SECRET_KEY must be at least {vault.MIN_SECRET_LENGTH} characters long "
                          "(while rotating: such secrets separated by commas, the newest first)")
    if not settings.catalog_url.startswith(("http://", "https://")):
        raise ConfigError("CATALOG_INTERNAL_URL must be an http(s) URL")
    if settings.signing_concurrency < 1:
        raise ConfigError("SIGNING_CONCURRENCY must be at least 1")
    return settings


def load() -> Settings:
    return check(load_settings(Settings))
