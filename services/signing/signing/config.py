"""Signing's settings (environment variables; see the README for the full list)."""

from __future__ import annotations

from dataclasses import dataclass

from packyard.config import env, load_settings
from packyard.service import BaseSettings


@dataclass(frozen=True, kw_only=True)
class Settings(BaseSettings):
    jwks_url: str = env("JWKS_URL", default="http://127.0.0.1:8101/.well-known/jwks.json",
                        help="identity's JWKS document, the keys that verify access tokens")


def load() -> Settings:
    return load_settings(Settings)
