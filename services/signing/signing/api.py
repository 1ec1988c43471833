"""Signing's HTTP API: GPG keys of users and organizations, the platform key, and Bintray's
signing calls. Views parse, call one use case, and shape the answer."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

import flask
import sqlalchemy as sa
from flask.views import MethodView
from flask_smorest import Blueprint

from packyard import transactions
from packyard.auth import Principal
from packyard.db import UnitOfWork
from packyard.errors import NotFound, Unauthorized
from packyard.web import current_principal, require_principal
from signing import schemas, use_cases
from signing.models import ORG, USER, GpgKey, Subject
from signing.signatures import SignRequest

T = TypeVar("T")

keys = Blueprint("keys", __name__, description="GPG keys of users and organizations")
gpg = Blueprint("gpg", __name__, description="Signing content (Bintray API) and the platform key")
internal = Blueprint("internal_signing", __name__, description="For catalog only: signing on upload")

PGP_KEYS = "application/pgp-keys"
PUBLIC_KEY_DOC = {"responses": {"200": {"description": "the ASCII-armored public key",
                                        "content": {PGP_KEYS: {"schema": {"type": "string"}}}}}}


def signing() -> Any:
    return flask.current_app.extensions["signing"]


def change(action: Callable[[UnitOfWork], T]) -> T:
    """Run a changing use case in one unit of work and commit it (state and events together)."""
    return transactions.change(signing().uow, action)


def read(query: Callable[[Any], T]) -> T:
    """Run a query on a session that is never committed."""
    return transactions.read(signing().uow, query)


def _key_json(subject: Subject, key: GpgKey) -> dict[str, Any]:
    return {"subject": subject.name, "fingerprint": key.fingerprint, "key_id": key.key_id, "user_ids": key.user_ids,
            "algorithm": key.algorithm, "created": key.created, "expires": key.expires,
            "has_private_key": key.private_key_ciphertext is not None,
            "passphrase_protected": key.passphrase_protected, "uploaded": key.uploaded}


def _armored(text: str) -> flask.Response:
    response = flask.Response(text, content_type=PGP_KEYS)
    response.headers["Cache-Control"] = "no-cache"
    return response


# --- keys ---------------------------------------------------------------------------------------

def _own(uow: UnitOfWork, caller: Principal, org: str | None) -> Subject:
    if org is None:
        return use_cases.caller_subject(uow, caller)
    return use_cases.org_for_admin(uow.session, caller, org)


class _KeyView(MethodView):
    org: str | None = None

    def _get(self, org: str | None) -> Any:
        caller = require_principal()

        def show(uow: UnitOfWork) -> dict[str, Any]:
            subject = _own(uow, caller, org)
            return _key_json(subject, use_cases.key_of(uow.session, subject))
        # a change: the caller's own user may be recorded from the token on the way
        return change(show)

    def _put(self, body: dict[str, Any], org: str | None) -> Any:
        caller = require_principal()
        s = signing()

        def store(uow: UnitOfWork) -> dict[str, Any]:
            subject = _own(uow, caller, org)
            return _key_json(subject, s.store_key(uow, subject, body["public_key"], body["private_key"]))
        return change(store)

    def _delete(self, body: dict[str, Any], org: str | None) -> Any:
        caller = require_principal()
        confirmation = (body or {}).get("fingerprint") or flask.request.args.get("fingerprint")
        change(lambda uow: use_cases.clear_key(uow, _own(uow, caller, org), confirmation))
        return {"message": "success"}


@keys.route("/me/keys/gpg")
class MyKey(_KeyView):
    @keys.response(200, schemas.KeySchema)
    def get(self) -> Any:
        """My GPG key: fingerprint, key id, user ids, algorithm, dates, whether a private key is stored
        (never the private key itself)."""
        return self._get(None)

    @keys.arguments(schemas.KeyUploadSchema)
    @keys.response(200, schemas.KeySchema)
    def put(self, body: dict[str, Any]) -> Any:
        """Store my GPG key (replacing any earlier one); the private key is optional and kept encrypted."""
        return self._put(body, None)

    @keys.arguments(schemas.KeyClearSchema, required=False)
    @keys.response(200, schemas.MessageSchema)
    def delete(self, body: dict[str, Any]) -> Any:
        """Clear my GPG key; confirm with its fingerprint (``{"fingerprint": ...}`` or ``?fingerprint=``)."""
        return self._delete(body, None)


@keys.route("/orgs/<org>/keys/gpg")
class OrgKey(_KeyView):
    @keys.response(200, schemas.KeySchema)
    def get(self, org: str) -> Any:
        """The organization's GPG key (its owners and admins)."""
        return self._get(org)

    @keys.arguments(schemas.KeyUploadSchema)
    @keys.response(200, schemas.KeySchema)
    def put(self, body: dict[str, Any], org: str) -> Any:
        """Store the organization's GPG key (its owners and admins)."""
        return self._put(body, org)

    @keys.arguments(schemas.KeyClearSchema, required=False)
    @keys.response(200, schemas.MessageSchema)
    def delete(self, body: dict[str, Any], org: str) -> Any:
        """Clear the organization's GPG key; confirm with its fingerprint."""
        return self._delete(body, org)


def _public_key(name: str, kind: str) -> flask.Response:
    def find(session: Any) -> str:
        subject = session.scalars(sa.select(Subject).where(Subject.name == name)).first()
        if subject is None or subject.kind != kind:
            raise NotFound(f"{'User' if kind == USER else 'Organization'} '{name}' was not found")
        return use_cases.key_of(session, subject).public_key
    return _armored(read(find))


@keys.route("/users/<user>/keys/gpg/public.key")
class UserPublicKey(MethodView):
    @keys.doc(**PUBLIC_KEY_DOC)
    def get(self, user: str) -> Any:
        """The user's public key (``application/pgp-keys``), to verify their signatures."""
        return _public_key(user, USER)


@keys.route("/orgs/<org>/keys/gpg/public.key")
class OrgPublicKey(MethodView):
    @keys.doc(**PUBLIC_KEY_DOC)
    def get(self, org: str) -> Any:
        """The organization's public key (``application/pgp-keys``)."""
        return _public_key(org, ORG)


@gpg.route("/gpg/platform/public.key")
class PlatformPublicKey(MethodView):
    @gpg.doc(**PUBLIC_KEY_DOC)
    def get(self) -> Any:
        """Packyard's own public keys (every key in use; the newest signs), for files signed automatically
        in repositories with ``gpg_sign_files``."""
        found = read(lambda session: [key.public_key.strip() for key in use_cases.platform_keys(session)])
        if not found:
            raise NotFound("Packyard has no platform key yet")
        return _armored("\n".join(found) + "\n")


# --- signing --------------------------------------------------------------------------------------

def _sign(body: dict[str, Any] | None, **target: str) -> Any:
    caller = require_principal()
    body = body or {}
    passphrase = flask.request.headers.get("X-GPG-PASSPHRASE") or body.get("passphrase")
    request = SignRequest(passphrase=passphrase, private_key=body.get("private_key"), subject=body.get("subject"),
                          bearer=flask.request.headers.get("Authorization"), **target)
    signed = signing().signer.sign_request(caller, request)
    return {"message": "success", "files": signed}


@gpg.route("/gpg/<subject>/<repo>/<package>/versions/<version>")
class SignVersion(MethodView):
    @gpg.arguments(schemas.SignSchema, required=False)
    @gpg.response(200, schemas.SignedSchema)
    @gpg.doc(parameters=[{"in": "header", "name": "X-GPG-PASSPHRASE", "schema": {"type": "string"},
                          "description": "the key's passphrase"}])
    def post(self, body: dict[str, Any], subject: str, repo: str, package: str, version: str) -> Any:
        """Sign every file of the version: each gets a detached armored signature ``<file>.asc``
        (publishers of the repository only)."""
        return _sign(body, owner=subject, repo=repo, package=package, version=version)


@gpg.route("/gpg/<subject>/<repo>/<path:file_path>")
class SignFile(MethodView):
    @gpg.arguments(schemas.SignSchema, required=False)
    @gpg.response(200, schemas.SignedSchema)
    @gpg.doc(parameters=[{"in": "header", "name": "X-GPG-PASSPHRASE", "schema": {"type": "string"},
                          "description": "the key's passphrase"}])
    def post(self, body: dict[str, Any], subject: str, repo: str, file_path: str) -> Any:
        """Sign one file: it gets a detached armored signature ``<file>.asc`` (publishers of the repository only)."""
        return _sign(body, owner=subject, repo=repo, path=file_path)


# --- for catalog ------------------------------------------------------------------------------------

@internal.route("/internal/signing/uploads/<subject>/<repo>/<path:file_path>")
class SignUpload(MethodView):
    @internal.response(200, schemas.SignedSchema)
    def post(self, subject: str, repo: str, file_path: str) -> Any:
        """Sign a file just uploaded with ``X-GPG-PASSPHRASE``, with the repository owner's stored key.

        Catalog calls this synchronously with the uploader in ``X-Signing-Actor`` and the passphrase in
        ``X-GPG-PASSPHRASE``, so the passphrase never touches a database, an event or a log."""
        principal = current_principal()
        if principal is None:
            actor = flask.request.headers.get("X-Signing-Actor", "")
            if not actor:
                raise Unauthorized("Send the uploader's access token or X-Signing-Actor")
            principal = Principal(username=actor, user_id="")
        passphrase = flask.request.headers.get("X-GPG-PASSPHRASE") or None
        path = signing().signer.sign_uploaded(principal, subject, repo, file_path, passphrase,
                                              flask.request.headers.get("Authorization"))
        return {"message": "success", "files": [path]}


BLUEPRINTS: list[Blueprint] = [keys, gpg, internal]
