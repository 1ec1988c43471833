"""Signing's settings (environment variables; see the README for the full list)."""

from __future__ import annotations

from dataclasses import dataclass

from packyard.config import env, load_settings
from packyard.service import BaseSettings


@dataclass(frozen=True, kw_only=True)
class Settings(BaseSettings):
    jwks_url: str = env("JWKS_URL", help="identity's JWKS document, the keys that verify access tokens")


def load() -> Settings:
    return load_settings(Settings)
