"""For signing only (never routed by the gateway; the service credential is required by the web layer):
what to sign, the bytes, and the signatures coming back. See ``catalog.use_cases.signatures``."""

from __future__ import annotations

from typing import Any

import flask
from flask.views import MethodView
from flask_smorest import Blueprint

from catalog import schemas
from catalog.api import catalog, change
from catalog.use_cases import signatures
from packyard.web import current_principal

blp = Blueprint("internal_signing", __name__, description="For the signing service only")

ACTOR = {"name": "actor", "in": "query", "schema": {"type": "string"},
         "description": "the user asking (must be able to publish); omitted for automatic signing"}


def _actor(session: Any) -> Any:
    return signatures.actor_principal(session, flask.request.args.get("actor") or
                                      flask.request.headers.get("X-Signing-Actor"), current_principal())


@blp.route("/internal/signing/versions/<subject>/<repo>/<package>/<version>")
class VersionToSign(MethodView):
    @blp.doc(parameters=[ACTOR])
    @blp.response(200, schemas.VersionToSignSchema)
    def get(self, subject: str, repo: str, package: str, version: str) -> Any:
        """A version's files (path, size, checksums, published) and whether its repository is private."""
        with catalog().uow() as uow:
            return signatures.version_to_sign(uow.session, _actor(uow.session), subject, repo, package, version)


@blp.route("/internal/signing/files/<subject>/<repo>/<path:file_path>")
class FileToSign(MethodView):
    @blp.doc(parameters=[ACTOR])
    @blp.response(200, schemas.FileOfVersionToSignSchema)
    def get(self, subject: str, repo: str, file_path: str) -> Any:
        """One file's metadata, with its package and version."""
        with catalog().uow() as uow:
            return signatures.file_to_sign(uow.session, _actor(uow.session), subject, repo, file_path)


@blp.route("/internal/signing/content/<subject>/<repo>/<path:file_path>")
class ContentToSign(MethodView):
    @blp.doc(responses={"200": {"description": "the file's bytes (X-Checksum-Sha2: their SHA-256)",
                                "content": {"application/octet-stream": {"schema": {"type": "string",
                                                                                     "format": "binary"}}}}})
    def get(self, subject: str, repo: str, file_path: str) -> Any:
        """The file's bytes, streamed from the blob store."""
        cat = catalog()
        with cat.uow() as uow:
            file = signatures.content_of(uow.session, subject, repo, file_path)
            sha256 = file.sha256
        response = flask.send_file(cat.storage.local_path(sha256), mimetype="application/octet-stream",
                                   conditional=False, etag=False, max_age=0)
        response.headers["X-Checksum-Sha2"] = sha256
        return response


@blp.route("/internal/signing/signatures/<subject>/<repo>/<path:file_path>")
class Signature(MethodView):
    @blp.response(200, schemas.StoredSignatureSchema)
    def put(self, subject: str, repo: str, file_path: str) -> Any:
        """Store the armored detached signature (the body) as ``<file_path>.asc`` of the same version,
        replacing an older one; record the key (``X-Signing-Fingerprint``) and time on the file."""
        cat = catalog()
        return change(lambda uow: signatures.store_signature(
            uow, cat.storage, owner=subject, repo=repo, path=file_path, body=flask.request.stream,
            fingerprint=flask.request.headers.get("X-Signing-Fingerprint", ""),
            actor=flask.request.headers.get("X-Signing-Actor"), token=current_principal(), now=cat.clock(),
            base_url=cat.settings.public_base_url))
