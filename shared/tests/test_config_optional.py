"""Optional settings declared with ``X | None`` (PEP 604), as services write them."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Optional

from packyard.config import env, load_settings


@dataclass(frozen=True)
class Settings:
    smtp_password: str | None = env("SMTP_PASSWORD", secret=True, default=None)
    timeout: float | None = env("TIMEOUT", default=None)
    retries: Optional[int] = env("RETRIES", default=None)  # noqa: UP045 - the older spelling works too


def test_an_optional_value_is_none_when_unset_and_converted_when_set():
    assert load_settings(Settings, {}) == Settings(smtp_password=None, timeout=None, retries=None)
    s = load_settings(Settings, {"SMTP_PASSWORD": "s3cr3t-value", "TIMEOUT": "2.5", "RETRIES": "3"})
    assert (s.smtp_password, s.timeout, s.retries) == ("s3cr3t-value", 2.5, 3)
