"""Kinds of notification, their default channels, and the version filters of watches.

A recipient's choice per kind and channel lives in ``notification_settings``; a kind without a
row there uses the defaults below. Two defaults come from the seed's checkboxes, which identity
keeps ("release alerts by email for my watched packages", "Bintray news by email"), so they
follow the recipient's ``release_alerts_email`` and ``news_email``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache

import regex

OFF, IMMEDIATE, HOURLY, DAILY, WEEKLY = "off", "immediate", "hourly", "daily", "weekly"
EMAIL_MODES = (OFF, IMMEDIATE, HOURLY, DAILY, WEEKLY)
DIGEST_MODES = (HOURLY, DAILY, WEEKLY)

RELEASE = "release"
MESSAGE = "message"
REVIEW = "review"
COMMENT = "comment"
REVIEW_REPLY = "review_reply"
FOLLOWER = "follower"
CLAIM = "claim"
INCLUSION = "inclusion"
WEBHOOK_DEACTIVATED = "webhook_deactivated"
SIGNING_FAILED = "signing_failed"
KEY_EXPIRING = "key_expiring"
NEWS = "news"


@dataclass(frozen=True)
class Kind:
    name: str
    description: str
    in_app: bool
    email: str  # the default email mode


KINDS: dict[str, Kind] = {k.name: k for k in (
    Kind(RELEASE, "a new release of a package I watch or of a publisher I follow", True, IMMEDIATE),
    Kind(MESSAGE, "a message sent to me", True, IMMEDIATE),
    Kind(REVIEW, "a review of my package", True, OFF),
    Kind(COMMENT, "a comment on my package", True, OFF),
    Kind(REVIEW_REPLY, "a reply to my review", True, OFF),
    Kind(FOLLOWER, "a new follower", True, OFF),
    Kind(CLAIM, "an ownership claim on my package, and its outcome", True, IMMEDIATE),
    Kind(INCLUSION, "an inclusion request for my repository, and its outcome", True, IMMEDIATE),
    Kind(WEBHOOK_DEACTIVATED, "my webhook was deactivated after failing", True, IMMEDIATE),
    Kind(SIGNING_FAILED, "signing of a version failed", True, IMMEDIATE),
    Kind(KEY_EXPIRING, "my GPG key expires within 30 days", True, IMMEDIATE),
    Kind(NEWS, "Packyard news from the administrators", True, OFF),
)}


def default_email(kind: str, *, release_alerts_email: bool, news_email: bool) -> str:
    if kind == RELEASE:
        return IMMEDIATE if release_alerts_email else OFF
    if kind == NEWS:
        return IMMEDIATE if news_email else OFF
    return KINDS[kind].email


# -- version filters ------------------------------------------------------------------------

FILTER_KINDS = ("all", "stable", "major", "regex")
MAX_PATTERN = 500

# A pre-release: a SemVer pre-release part (a hyphen after the numeric core, e.g. 1.0.0-1),
# or a marker word anywhere (1.0-rc1, 2.0.0.beta2, 1.0a1, 3.1.dev4, 1.0-SNAPSHOT, 1.0.M2).
_SEMVER_PRE = re.compile(r"^v?\d+(\.\d+)*-")
_MARKER = re.compile(
    r"(?i)(?:^|[^a-z])(alpha|beta|rc|cr|dev|pre|preview|snapshot|milestone|nightly|ea|m\d+)(?=$|[^a-z])"
    r"|\d(a|b|c)\d+(?=$|[^a-z0-9])")
_MAJOR = re.compile(r"^v?(\d+)((\.0)*)(\+[0-9A-Za-z.\-]*)?$")


def is_stable(version: str) -> bool:
    return not (_SEMVER_PRE.search(version) or _MARKER.search(version))


def is_major(version: str) -> bool:
    """The first release of a major version: X.0.0, X.0 or X (stable)."""
    return bool(_MAJOR.match(version)) and is_stable(version)


MATCH_TIMEOUT = 0.05  # seconds one version name may take to match a watch's pattern


@lru_cache(maxsize=1024)
def _compiled(pattern: str) -> regex.Pattern[str] | None:
    try:
        return regex.compile(pattern)
    except (regex.error, RecursionError, OverflowError):
        return None


def matches(filter_kind: str, pattern: str | None, version: str) -> bool:
    """Whether a watch with this filter is told about ``version`` (an unusable regex matches nothing)."""
    if filter_kind == "stable":
        return is_stable(version)
    if filter_kind == "major":
        return is_major(version)
    if filter_kind == "regex":
        # social only accepts patterns that cannot backtrack catastrophically; the time limit keeps a
        # pattern that slipped through (an older rule, another publisher) from stalling a fan-out
        compiled = _compiled(pattern or "") if pattern and len(pattern) <= MAX_PATTERN else None
        if compiled is None:
            return False
        try:
            return compiled.search(version[:200], timeout=MATCH_TIMEOUT) is not None
        except TimeoutError:
            return False
    return True
