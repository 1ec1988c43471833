"""Identity's settings (environment variables; see the README for the full list)."""

from __future__ import annotations

from dataclasses import dataclass

from packyard.config import ConfigError, env, load_settings
from packyard.service import BaseSettings


@dataclass(frozen=True, kw_only=True)
class Settings(BaseSettings):
    secret_key: str = env("SECRET_KEY", secret=True,
                          help="at least 32 random characters; encrypts API keys and signing keys at rest")
    access_token_ttl: int = env("ACCESS_TOKEN_TTL", default=300,
                                help="seconds an access token forwarded by the gateway stays valid")
    login_token_ttl: int = env("LOGIN_TOKEN_TTL", default=3600, help="seconds a login bearer token stays valid")


def load() -> Settings:
    settings = load_settings(Settings)
    if len(settings.secret_key) < 32:
        raise ConfigError("SECRET_KEY must be at least 32 characters long")
    return settings
