"""The notifier's settings (environment variables; see the README for the full list)."""

from __future__ import annotations

import ipaddress
import re
from dataclasses import dataclass
from email.utils import parseaddr
from urllib.parse import urlsplit

from notifier.mail.tokens import MailTokenCipher
from packyard.config import ConfigError, env, load_settings
from packyard.service import BaseSettings


@dataclass(frozen=True, kw_only=True)
class Settings(BaseSettings):
    jwks_url: str = env("JWKS_URL", help="identity's JWKS document, the keys that verify access tokens")
    mail_token_key: str = env("MAIL_TOKEN_KEY", secret=True,
                              help="Fernet key shared with identity that decrypts password-reset tokens; "
                                   "several comma-separated (newest first) while rotating")
    public_base_url: str = env("PUBLIC_BASE_URL", default="http://127.0.0.1:8080",
                               help="the public URL of the gateway, used in links in emails")
    mail_from: str = env("MAIL_FROM", default="Packyard <noreply@packyard.localhost>")
    smtp_host: str = env("SMTP_HOST", default="127.0.0.1")
    smtp_port: int = env("SMTP_PORT", default=25)
    smtp_username: str | None = env("SMTP_USERNAME", secret=True, default=None)
    smtp_password: str | None = env("SMTP_PASSWORD", secret=True, default=None)
    smtp_starttls: bool = env("SMTP_STARTTLS", default=False)
    smtp_timeout: float = env("SMTP_TIMEOUT", default=10.0, help="seconds before an SMTP exchange is given up")
    mail_poll_interval: float = env("MAIL_POLL_INTERVAL", default=0.5,
                                    help="seconds between looks for due emails (PostgreSQL also wakes the "
                                         "sender as soon as an email is queued)")
    mail_batch_size: int = env("MAIL_BATCH_SIZE", default=20)
    mail_max_attempts: int = env("MAIL_MAX_ATTEMPTS", default=12,
                                 help="attempts before an email is marked failed (the default spans about five hours)")
    mail_retry_delay: float = env("MAIL_RETRY_DELAY", default=30.0,
                                  help="seconds before the first retry of an email; doubles with each attempt")
    mail_retry_max_delay: float = env("MAIL_RETRY_MAX_DELAY", default=3600.0)

    # Few messages in flight per worker: a release's batches then spread over every worker running
    # instead of waiting in the buffer of the first one.
    consumer_prefetch: int = env("CONSUMER_PREFETCH", default=2,
                                 help="messages a notifier worker takes ahead of the one it handles (small, so "
                                      "that a release's fan-out batches spread over all workers)")
    fanout_batch_size: int = env("FANOUT_BATCH_SIZE", default=500,
                                 help="recipients per fan-out batch: a release with more is split into batches "
                                      "that any worker takes from the notifier.fanout queue")
    webhook_allowed_targets: tuple[str, ...] = env(
        "WEBHOOK_ALLOWED_TARGETS", default=(),
        help="comma-separated targets webhook calls and Mastodon posts may reach although they are not public: "
             "host names (hooks.corp, or .corp for a domain), addresses (10.0.0.7) or networks (10.1.0.0/16); "
             "the same setting as catalog's, which checks webhooks at registration")
    webhook_timeout: float = env("WEBHOOK_TIMEOUT", default=10.0,
                                 help="seconds a webhook receiver has to answer one call")
    webhook_connect_timeout: float = env("WEBHOOK_CONNECT_TIMEOUT", default=5.0)
    webhook_max_attempts: int = env("WEBHOOK_MAX_ATTEMPTS", default=5,
                                    help="attempts of one call before the release counts as failed for the webhook")
    webhook_retry_delay: float = env("WEBHOOK_RETRY_DELAY", default=30.0,
                                     help="seconds before the first retry of a call; doubles with each attempt, "
                                          "jittered")
    webhook_retry_max_delay: float = env("WEBHOOK_RETRY_MAX_DELAY", default=3600.0)
    webhook_concurrency: int = env("WEBHOOK_CONCURRENCY", default=4,
                                   help="calls one worker makes at the same time")
    news_per_minute: int = env("NEWS_PER_MINUTE", default=600,
                               help="recipients of an admin's news handled per minute at most")
    digest_interval: float = env("DIGEST_INTERVAL", default=5.0,
                                 help="seconds between looks for due digests and news to send")

    @property
    def allow_list(self) -> tuple[str, ...]:
        return tuple(p.strip() for p in self.webhook_allowed_targets if p.strip())

    def __post_init__(self) -> None:
        super().__post_init__()
        MailTokenCipher.check_keys(self.mail_token_key)
        base = urlsplit(self.public_base_url)
        if base.scheme not in ("http", "https") or not base.netloc:
            raise ConfigError(f"PUBLIC_BASE_URL must be an http(s) URL, got {self.public_base_url!r}")
        if "@" not in parseaddr(self.mail_from)[1]:
            raise ConfigError(f"MAIL_FROM must be an email address, got {self.mail_from!r}")
        if self.fanout_batch_size < 1 or self.webhook_max_attempts < 1 or self.news_per_minute < 1:
            raise ConfigError("FANOUT_BATCH_SIZE, WEBHOOK_MAX_ATTEMPTS and NEWS_PER_MINUTE must be at least 1")
        for entry in self.allow_list:
            try:
                ipaddress.ip_network(entry.strip("[]"), strict=False)
            except ValueError:
                if not re.fullmatch(r"(\*?\.)?[A-Za-z0-9]([A-Za-z0-9.\-]*[A-Za-z0-9])?", entry):
                    raise ConfigError(f"WEBHOOK_ALLOWED_TARGETS: {entry!r} is not a host name, address or "
                                      "CIDR network") from None
        if self.mail_max_attempts < 1 or self.mail_batch_size < 1:
            raise ConfigError("MAIL_MAX_ATTEMPTS and MAIL_BATCH_SIZE must be at least 1")
        if (self.smtp_username is None) != (self.smtp_password is None):
            raise ConfigError("SMTP_USERNAME and SMTP_PASSWORD go together: set both or neither")


def load() -> Settings:
    return load_settings(Settings)
