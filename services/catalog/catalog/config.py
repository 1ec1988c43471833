"""Catalog's settings (environment variables; see the README for the full list)."""

from __future__ import annotations

import ipaddress
import re
from dataclasses import dataclass

from packyard.config import ConfigError, env, load_settings
from packyard.sealing import fernet_keys
from packyard.service import BaseSettings

DOWNLOAD_MODES = ("accel", "sendfile")


@dataclass(frozen=True, kw_only=True)
class Settings(BaseSettings):
    jwks_url: str = env("JWKS_URL", help="identity's JWKS document, e.g. http://identity:8101/.well-known/jwks.json")
    blob_storage_path: str = env("BLOB_STORAGE_PATH", default="var/blobs",
                                 help="directory of uploaded files (content-addressed); the gateway serves "
                                      "downloads from the same directory")
    max_upload_bytes: int = env("MAX_UPLOAD_BYTES", default=2 * 1024**3, help="largest file accepted by an upload")
    public_base_url: str = env("PUBLIC_BASE_URL", default="http://127.0.0.1:8080",
                               help="the gateway's public URL, used in download links carried by events")
    download_mode: str = env("DOWNLOAD_MODE", default="accel",
                             help="accel: answer X-Accel-Redirect for the gateway to send the file; "
                                  "sendfile: send it from the API process (no gateway)")
    accel_prefix: str = env("ACCEL_PREFIX", default="/_blobs",
                            help="internal gateway location mapped to BLOB_STORAGE_PATH")
    country_header: str = env("COUNTRY_HEADER", default="X-Country-Code",
                              help="request header carrying the downloader's country (set by a CDN or the gateway)")
    download_flush_interval: float = env("DOWNLOAD_FLUSH_INTERVAL", default=5.0,
                                         help="seconds between writes of the in-memory download counters")
    blob_gc_grace: int = env("BLOB_GC_GRACE", default=3600,
                             help="seconds an unreferenced blob is kept before gc-blobs removes it")
    download_decision_ttl: int = env("DOWNLOAD_DECISION_TTL", default=2,
                                     help="seconds the gateway may reuse catalog's answer on whether a /dl/ path is "
                                          "a public file it can serve itself (accel mode)")
    download_log_dir: str = env("DOWNLOAD_LOG_DIR", default="var/download-logs",
                                help="directory of the gateway's download logs, shared with it; the worker counts "
                                     "downloads from them (accel mode)")
    download_log_interval: float = env("DOWNLOAD_LOG_INTERVAL", default=2.0,
                                       help="seconds between the worker's reads of the download logs")
    download_log_grace: int = env("DOWNLOAD_LOG_GRACE", default=3600,
                                  help="seconds a fully counted download log of a past day is kept before deletion")
    rollup_interval: float = env("ROLLUP_INTERVAL", default=300.0,
                                 help="seconds between the worker's passes announcing daily download roll-ups")
    rollup_delay: int = env("ROLLUP_DELAY", default=3600,
                            help="seconds after a day ends (UTC) before its downloads are rolled up, for late counts")
    claim_owner_response_days: int = env("CLAIM_OWNER_RESPONSE_DAYS", default=14,
                                         help="days a package's owner has to answer an ownership claim before a "
                                              "platform administrator may decide it alone")
    webhook_limit: int = env("WEBHOOK_LIMIT", default=10, help="webhooks a user may register")
    owner_quota_bytes: int = env("OWNER_QUOTA_BYTES", default=10 * 1024**3,
                                 help="bytes the files of one user's or organization's repositories may take "
                                      "(Bintray's storage quota); 0: no quota")
    upload_rate_limit: int = env("UPLOAD_RATE_LIMIT", default=300,
                                 help="uploads a user may start per UPLOAD_RATE_WINDOW (429 beyond); 0: no limit")
    upload_rate_window: int = env("UPLOAD_RATE_WINDOW", default=60, help="seconds of the upload rate limit's window")
    usage_reconcile_interval: float = env("USAGE_RECONCILE_INTERVAL", default=300.0,
                                          help="seconds between the worker's checks that every owner's recorded "
                                               "storage usage matches their files (announcing any difference)")
    webhook_allowed_targets: tuple[str, ...] = env(
        "WEBHOOK_ALLOWED_TARGETS", default=(),
        help="comma-separated webhook targets allowed although they are not public: host names (hooks.corp, or "
             ".corp for a domain), addresses (10.0.0.7) or networks (10.1.0.0/16); everything else that leads to "
             "a loopback, private, link-local or internal address is refused")
    mail_token_key: str = env("MAIL_TOKEN_KEY", secret=True,
                              help="a Fernet key (32 url-safe base64 bytes) shared with identity and the notifier; "
                                   "seals the webhook secrets that travel to the notifier in events (with the "
                                   "first key); several comma-separated (newest first) while rotating")
    signing_url: str = env("SIGNING_INTERNAL_URL", default="http://127.0.0.1:8105",
                           help="the signing service's API inside the cluster: uploads carrying X-GPG-PASSPHRASE "
                                "are signed through its internal endpoint, the passphrase never stored")


_HOST_NAME = re.compile(r"\.?[a-z0-9]([a-z0-9-]*[a-z0-9])?(\.[a-z0-9]([a-z0-9-]*[a-z0-9])?)*\.?", re.IGNORECASE)


def _check_allowed_target(entry: str) -> None:
    try:
        if "/" in entry:
            ipaddress.ip_network(entry, strict=False)
        else:
            ipaddress.ip_address(entry)
        return
    except ValueError:
        if "/" not in entry and _HOST_NAME.fullmatch(entry):
            return
    raise ConfigError(f"WEBHOOK_ALLOWED_TARGETS: {entry!r} is not a host name, address or CIDR network")


def validate(settings: Settings) -> Settings:
    fernet_keys(settings.mail_token_key, name="MAIL_TOKEN_KEY")
    for entry in settings.webhook_allowed_targets:
        _check_allowed_target(entry)
    if settings.download_mode not in DOWNLOAD_MODES:
        raise ConfigError(f"DOWNLOAD_MODE must be one of {', '.join(DOWNLOAD_MODES)}, got {settings.download_mode!r}")
    if settings.max_upload_bytes <= 0:
        raise ConfigError("MAX_UPLOAD_BYTES must be positive")
    if settings.download_flush_interval <= 0:
        raise ConfigError("DOWNLOAD_FLUSH_INTERVAL must be positive")
    if not settings.public_base_url.startswith(("http://", "https://")):
        raise ConfigError("PUBLIC_BASE_URL must be an http(s) URL")
    if not settings.accel_prefix.startswith("/"):
        raise ConfigError("ACCEL_PREFIX must start with '/'")
    value: float  # the settings checked below are ints and floats
    for name, value in (("OWNER_QUOTA_BYTES", settings.owner_quota_bytes),
                        ("UPLOAD_RATE_LIMIT", settings.upload_rate_limit),
                        ("DOWNLOAD_DECISION_TTL", settings.download_decision_ttl),
                        ("DOWNLOAD_LOG_GRACE", settings.download_log_grace), ("ROLLUP_DELAY", settings.rollup_delay)):
        if value < 0:
            raise ConfigError(f"{name} must not be negative")
    for name, value in (("DOWNLOAD_LOG_INTERVAL", settings.download_log_interval),
                        ("ROLLUP_INTERVAL", settings.rollup_interval),
                        ("CLAIM_OWNER_RESPONSE_DAYS", settings.claim_owner_response_days),
                        ("WEBHOOK_LIMIT", settings.webhook_limit),
                        ("UPLOAD_RATE_WINDOW", settings.upload_rate_window),
                        ("USAGE_RECONCILE_INTERVAL", settings.usage_reconcile_interval)):
        if value <= 0:
            raise ConfigError(f"{name} must be positive")
    return settings


def load() -> Settings:
    return validate(load_settings(Settings))
