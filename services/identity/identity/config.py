"""Identity's settings (environment variables; see the README for the full list)."""

from __future__ import annotations

from dataclasses import dataclass

from packyard.config import ConfigError, env, load_settings
from packyard.sealing import fernet_keys
from packyard.service import BaseSettings


@dataclass(frozen=True, kw_only=True)
class Settings(BaseSettings):
    secret_key: str = env("SECRET_KEY", secret=True,
                          help="at least 32 random characters; encrypts API keys and signing keys at rest")
    mail_token_key: str = env("MAIL_TOKEN_KEY", secret=True,
                              help="a Fernet key (32 url-safe base64 bytes) shared with the notifier only; "
                                   "encrypts the password-reset tokens that travel in events (with the "
                                   "first key); several comma-separated (newest first) while rotating")
    access_token_ttl: int = env("ACCESS_TOKEN_TTL", default=300,
                                help="seconds an access token forwarded by the gateway stays valid")
    login_token_ttl: int = env("LOGIN_TOKEN_TTL", default=3600, help="seconds a login bearer token stays valid")
    password_reset_ttl: int = env("PASSWORD_RESET_TTL", default=3600,
                                  help="seconds a password-reset link stays valid")
    login_max_failures_per_user: int = env("LOGIN_MAX_FAILURES_PER_USER", default=5,
                                           help="failed logins for one username from one client address (an IPv6 "
                                                "/64) or one known device before that source waits; the "
                                                "owner elsewhere is never kept out")
    login_max_failures_per_address: int = env("LOGIN_MAX_FAILURES_PER_ADDRESS", default=20,
                                              help="failed logins from one client address before it is throttled")
    login_max_lockout: int = env("LOGIN_MAX_LOCKOUT", default=900,
                                 help="longest wait, in seconds, imposed after repeated login failures")
    signups_per_address_per_hour: int = env("SIGNUPS_PER_ADDRESS_PER_HOUR", default=10,
                                             help="accounts one client address (an IPv6 /64) may create in an hour")
    password_hash_memory_kib: int = env("PASSWORD_HASH_MEMORY_KIB", default=65536,
                                        help="argon2id memory per password hash, in KiB; the API's memory limit "
                                             "must hold WEB_CONCURRENCY x PASSWORD_HASH_CONCURRENCY of them")
    password_hash_concurrency: int = env("PASSWORD_HASH_CONCURRENCY", default=2,
                                         help="password hashes one API process computes at once; more wait "
                                              "briefly, then answer 503 with Retry-After")
    avatar_max_bytes: int = env("AVATAR_MAX_BYTES", default=1024 * 1024, help="largest avatar upload accepted")
    avatar_size: int = env("AVATAR_SIZE", default=256, help="width and height, in pixels, avatars are stored at")
    trusted_proxies: int = env("TRUSTED_PROXIES", default=1,
                               help="proxies (the gateway) in front of the API that append to X-Forwarded-For; "
                                    "the client address used for login throttling is read accordingly")
    gateway_control_urls: str = env("GATEWAY_CONTROL_URLS", default="",
                                    help="the gateways' control listeners (GATEWAY_CONTROL_PORT), comma-separated, "
                                         "e.g. http://gateway-control:8081; a host name is told at every address "
                                         "it resolves to (a headless Service). Identity tells them of each new "
                                         "authentication epoch before a revoking call returns; empty: the "
                                         "gateway asks identity about every request with credentials")
    authn_cache_seconds: int = env("AUTHN_CACHE_SECONDS", default=60,
                                   help="longest the gateway keeps identity's answer about credentials (under "
                                        "the authentication epoch; 0: never)")
    authn_epoch_recheck_seconds: int = env("AUTHN_EPOCH_RECHECK_SECONDS", default=5,
                                           help="how often a gateway fetches the authentication epoch on its own, "
                                                "the longest a gateway identity could not tell keeps answers "
                                                "that a revocation outdated")


def check(settings: Settings) -> Settings:
    """Refuse settings that would start a weak or broken identity service."""
    if len(settings.secret_key) < 32:
        raise ConfigError("SECRET_KEY must be at least 32 characters long")
    fernet_keys(settings.mail_token_key, name="MAIL_TOKEN_KEY")
    if settings.password_hash_concurrency < 1 or settings.password_hash_memory_kib < 8:
        raise ConfigError("PASSWORD_HASH_CONCURRENCY must be at least 1 and PASSWORD_HASH_MEMORY_KIB at least 8")
    if settings.trusted_proxies < 0:
        raise ConfigError("TRUSTED_PROXIES must be 0 or more")
    if settings.authn_cache_seconds < 0 or settings.authn_epoch_recheck_seconds < 1:
        raise ConfigError("AUTHN_CACHE_SECONDS must be 0 or more and AUTHN_EPOCH_RECHECK_SECONDS at least 1")
    return settings


def load() -> Settings:
    return check(load_settings(Settings))
