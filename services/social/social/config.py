"""Social's settings (environment variables; see the README for the full list)."""

from __future__ import annotations

from dataclasses import dataclass

from packyard.config import env, load_settings
from packyard.service import BaseSettings


@dataclass(frozen=True, kw_only=True)
class Settings(BaseSettings):
    jwks_url: str = env("JWKS_URL", help="identity's JWKS document, the keys that verify access tokens")
    message_max_chars: int = env("MESSAGE_MAX_CHARS", default=10000,
                                 help="longest direct message body accepted (characters)")
    new_conversations_per_hour: int = env("NEW_CONVERSATIONS_PER_HOUR", default=10,
                                          help="conversations one user may start in an hour (then 429 + Retry-After)")
    messages_per_hour: int = env("MESSAGES_PER_HOUR", default=120,
                                 help="direct messages one user may send in an hour (then 429 + Retry-After)")


def load() -> Settings:
    return load_settings(Settings)
