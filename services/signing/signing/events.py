"""Events signing publishes on ``signing.events`` (routing key = type).

Consumers read them with their own tolerant schemas; these schemas validate what is published.
No event carries key material or a passphrase: only fingerprints and facts.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

import marshmallow as ma

from packyard.events import EventType, format_time

SUBJECT_TYPES = ("user", "org")


class Timestamp(ma.fields.DateTime):
    """ISO 8601 UTC with milliseconds and ``Z``, as every Packyard timestamp."""

    def _serialize(self, value: datetime | None, attr: str | None, obj: Any, **kwargs: Any) -> str | None:
        return None if value is None else format_time(value)


class KeyUploadedData(ma.Schema):
    subject = ma.fields.String(required=True)
    subject_type = ma.fields.String(required=True, validate=ma.validate.OneOf(SUBJECT_TYPES))
    fingerprint = ma.fields.String(required=True)
    key_id = ma.fields.String(required=True)
    has_private_key = ma.fields.Boolean(required=True)
    passphrase_protected = ma.fields.Boolean(
        required=True, metadata={"description": "whether signing with the stored private key needs a passphrase "
                                                "(false when no private key is stored)"})
    created = Timestamp(required=True, metadata={"description": "when the key was created (by its owner)"})
    expires = Timestamp(required=True, allow_none=True)


class KeyClearedData(ma.Schema):
    subject = ma.fields.String(required=True)
    subject_type = ma.fields.String(required=True, validate=ma.validate.OneOf(SUBJECT_TYPES))
    fingerprint = ma.fields.String(required=True)


class _Signed(ma.Schema):
    owner = ma.fields.String(required=True)
    repo = ma.fields.String(required=True)
    package = ma.fields.String(required=True)
    version = ma.fields.String(required=True)
    fingerprint = ma.fields.String(required=True)
    signed_by = ma.fields.String(required=True, allow_none=True,
                                 metadata={"description": "the user who asked; null for automatic signing"})
    platform_key = ma.fields.Boolean(required=True)
    automatic = ma.fields.Boolean(required=True)
    signed = Timestamp(required=True)


class FileSignedData(_Signed):
    path = ma.fields.String(required=True)
    signature_path = ma.fields.String(required=True)


class VersionSignedData(_Signed):
    private = ma.fields.Boolean(required=True)
    files = ma.fields.List(ma.fields.String(), required=True, metadata={"description": "paths of the files signed"})


class VersionSigningFailedData(ma.Schema):
    owner = ma.fields.String(required=True)
    repo = ma.fields.String(required=True)
    package = ma.fields.String(required=True)
    version = ma.fields.String(required=True)
    private = ma.fields.Boolean(required=True)
    reason = ma.fields.String(required=True, metadata={"description": "what went wrong, for people (no secrets)"})
    recipients = ma.fields.List(ma.fields.String(), required=True,
                                metadata={"description": "usernames to tell: the publisher and the owner "
                                                         "(an organization's admins)"})
    automatic = ma.fields.Boolean(required=True)
    failed = Timestamp(required=True)


KEY_UPLOADED = EventType("signing.key.uploaded", KeyUploadedData,
                         description="A user or organization stored a GPG key (replacing any earlier one).")
KEY_CLEARED = EventType("signing.key.cleared", KeyClearedData,
                        description="A user or organization cleared its GPG key (or was deleted).")
FILE_SIGNED = EventType("signing.file.signed", FileSignedData,
                        description="A file's detached signature <path>.asc was stored in catalog.")
VERSION_SIGNED = EventType("signing.version.signed", VersionSignedData,
                           description="Every file of a version was signed.")
VERSION_SIGNING_FAILED = EventType("signing.version.signing_failed", VersionSigningFailedData,
                                   description="A version could not be signed automatically (or on upload).")

ALL: list[EventType] = [KEY_UPLOADED, KEY_CLEARED, FILE_SIGNED, VERSION_SIGNED, VERSION_SIGNING_FAILED]
