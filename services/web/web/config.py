"""The web app's settings (environment variables)."""

from __future__ import annotations

import base64
import binascii
from dataclasses import dataclass

from packyard.config import ConfigError, env, load_settings


@dataclass(frozen=True, kw_only=True)
class Settings:
    api_url: str = env("API_URL", help="base URL of the gateway the pages call, e.g. http://gateway:8080")
    public_base_url: str = env("PUBLIC_BASE_URL", default="http://127.0.0.1:8080",
                               help="the address people use; https:// makes session cookies Secure")
    session_key: str = env("WEB_SESSION_KEY", secret=True,
                           help="a Fernet key (32 url-safe base64 bytes) that encrypts session cookies")
    api_timeout: float = env("API_TIMEOUT", default=5.0, help="seconds a call to the API may take")
    section_timeout: float = env("SECTION_TIMEOUT", default=2.0,
                                 help="seconds a page waits for the services it reads before showing a "
                                      "section as unavailable")
    log_level: str = env("LOG_LEVEL", default="INFO")


def check(settings: Settings) -> Settings:
    if not settings.api_url.startswith(("http://", "https://")):
        raise ConfigError(f"API_URL must be an http(s) URL, got {settings.api_url!r}")
    if not settings.public_base_url.startswith(("http://", "https://")):
        raise ConfigError(f"PUBLIC_BASE_URL must be an http(s) URL, got {settings.public_base_url!r}")
    try:
        decoded = base64.urlsafe_b64decode(settings.session_key.encode())
    except (binascii.Error, ValueError):
        decoded = b""
    if len(decoded) != 32:
        raise ConfigError("WEB_SESSION_KEY must be a Fernet key: 32 bytes in url-safe base64 "
                          "(python -c 'from cryptography.fernet import Fernet; print(Fernet.generate_key().decode())')")
    if settings.api_timeout <= 0 or settings.section_timeout <= 0:
        raise ConfigError("API_TIMEOUT and SECTION_TIMEOUT must be positive")
    return settings


def load() -> Settings:
    return check(load_settings(Settings))
