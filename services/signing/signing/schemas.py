"""Request and response schemas of signing's HTTP API (marshmallow, documented in OpenAPI)."""

from __future__ import annotations

import marshmallow as ma

from signing.events import Timestamp

_ARMOR = ma.validate.Length(min=1, max=256 * 1024)


class _Tolerant(ma.Schema):
    class Meta:
        unknown = ma.EXCLUDE


class KeyUploadSchema(_Tolerant):
    public_key = ma.fields.String(required=True, validate=_ARMOR,
                                  metadata={"description": "ASCII-armored public key"})
    private_key = ma.fields.String(load_default=None, allow_none=True, validate=_ARMOR,
                                   metadata={"description": "ASCII-armored private key of the same key (optional; "
                                                            "stored encrypted, never shown again; its passphrase is "
                                                            "never stored)"})


class KeyClearSchema(_Tolerant):
    fingerprint = ma.fields.String(load_default=None, allow_none=True, validate=ma.validate.Length(max=80),
                                   metadata={"description": "the key's fingerprint (or key id), to confirm"})


class KeySchema(ma.Schema):
    subject = ma.fields.String()
    fingerprint = ma.fields.String()
    key_id = ma.fields.String()
    user_ids = ma.fields.List(ma.fields.String())
    algorithm = ma.fields.String()
    created = Timestamp()
    expires = Timestamp(allow_none=True)
    has_private_key = ma.fields.Boolean()
    passphrase_protected = ma.fields.Boolean()
    uploaded = Timestamp()


class SignSchema(_Tolerant):
    passphrase = ma.fields.String(load_default=None, allow_none=True, validate=ma.validate.Length(max=1024),
                                  metadata={"description": "the key's passphrase (or the X-GPG-PASSPHRASE header)"})
    private_key = ma.fields.String(load_default=None, allow_none=True, validate=_ARMOR,
                                   metadata={"description": "an ASCII-armored private key not stored on Packyard"})
    subject = ma.fields.String(load_default=None, allow_none=True, validate=ma.validate.Length(min=1, max=64),
                               metadata={"description": "whose stored key to use (yourself, or an organization "
                                                        "you administer); default: the repository's owner"})


class MessageSchema(ma.Schema):
    message = ma.fields.String(required=True)


class SignedSchema(MessageSchema):
    files = ma.fields.List(ma.fields.String(), metadata={"description": "paths signed (each got <path>.asc)"})
