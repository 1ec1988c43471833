"""Content: uploads in Bintray's three forms, publish/discard, and deletes (``/content/...``)."""

from __future__ import annotations

from typing import Any

import flask
from flask.views import MethodView
from flask_smorest import Blueprint
from prometheus_client import Counter

from catalog import schemas
from catalog.api import catalog, change
from catalog.use_cases import content
from packyard.errors import Invalid
from packyard.web import require_principal, success

blp = Blueprint("content", __name__, description="Uploading and publishing content (Bintray API)")

UPLOADS = Counter("packyard_catalog_uploads_total", "Files uploaded")
UPLOADED_BYTES = Counter("packyard_catalog_uploaded_bytes_total", "Bytes of the files uploaded")

_TRUE, _FALSE = ("1", "true", "yes", "on"), ("0", "false", "no", "off", "")

UPLOAD_DOC = {
    "description": (
        "The body is the raw file. Three forms, as on Bintray:\n\n"
        "* `PUT /content/:subject/:repo/:package/:version/:file_path[?publish=1][&override=1]`\n"
        "* `PUT /content/:subject/:repo/:file_path` with headers `X-Bintray-Package`, `X-Bintray-Version`, "
        "`X-Bintray-Publish`, `X-Bintray-Override`\n"
        "* `PUT /content/:subject/:repo/:file_path;bt_package=:package;bt_version=:version;publish=1;override=1`\n\n"
        "The version is created when needed. `X-Checksum-Sha2`, when given, must match the content (409 "
        "otherwise). An existing path answers 409 unless `override=1`; a path of another version never "
        "changes hands. Beyond the owner's storage quota the upload answers 413, beyond the caller's upload "
        "rate 429 (with Retry-After)."),
    "requestBody": {"required": True, "content": {"application/octet-stream": {
        "schema": {"type": "string", "format": "binary"}}}},
}


def _flag(value: str | None, name: str) -> bool | None:
    if value is None:
        return None
    lowered = value.strip().lower()
    if lowered in _TRUE:
        return True
    if lowered in _FALSE:
        return False
    raise Invalid(f"{name} must be 0 or 1")


def _split_matrix(rest: str) -> tuple[list[str], dict[str, str]]:
    """Path segments without their ``;key=value`` matrix parameters, and those parameters."""
    segments, params = [], {}
    for segment in rest.split("/"):
        name, *pairs = segment.split(";")
        for pair in pairs:
            key, _, value = pair.partition("=")
            if key:
                params[key] = value
        segments.append(name)
    return segments, params


def parse_upload(query: dict[str, Any], subject: str, repo: str, rest: str, headers: Any) -> content.Upload:
    segments, matrix = _split_matrix(rest)
    package = headers.get("X-Bintray-Package") or matrix.get("bt_package")
    version = headers.get("X-Bintray-Version") or matrix.get("bt_version")
    if package or version:
        if not (package and version):
            raise Invalid("Give both the package and the version: X-Bintray-Package and X-Bintray-Version "
                          "headers, or bt_package and bt_version matrix parameters")
        path = "/".join(segments)
    else:
        if len(segments) < 3 or not all(segments[:2]):
            raise Invalid("Upload to /content/:subject/:repo/:package/:version/:file_path, or name the package "
                          "and version with X-Bintray-* headers or matrix parameters")
        package, version, path = segments[0], segments[1], "/".join(segments[2:])

    def choose(name: str, header: str) -> bool:
        for value in (query.get(name), _flag(headers.get(header), header), _flag(matrix.get(name), name)):
            if value is not None:
                return bool(value)
        return False

    checksum = headers.get("X-Checksum-Sha2")
    return content.Upload(owner=subject, repo=repo, package=package, version=version, path=path,
                          publish=choose("publish", "X-Bintray-Publish"),
                          override=choose("override", "X-Bintray-Override"),
                          sha256=checksum.strip().lower() if checksum else None)


@blp.route("/content/<subject>/<repo>/<path:rest>")
class Content(MethodView):
    @blp.arguments(schemas.UploadQuery, location="query")
    @blp.response(201, schemas.UploadedSchema)
    @blp.doc(**UPLOAD_DOC)
    def put(self, query: dict[str, Any], subject: str, repo: str, rest: str) -> Any:
        """Upload a file."""
        actor = require_principal()
        if query["explode"]:
            raise Invalid("Exploding archives on upload is not supported")
        cmd = parse_upload(query, subject, repo, rest, flask.request.headers)
        cat = catalog()
        # The body streams to the blob store; only this view lifts the API's request size limit.
        flask.request.max_content_length = cat.settings.max_upload_bytes
        uploaded = content.upload(cat.uow, cat.storage, actor, cmd, flask.request.stream,
                                  limit=cat.settings.max_upload_bytes, base_url=cat.settings.public_base_url,
                                  clock=cat.clock, limits=cat.upload_limits(),
                                  announced_size=flask.request.content_length)
        UPLOADS.inc()
        UPLOADED_BYTES.inc(uploaded.size)
        passphrase = flask.request.headers.get("X-GPG-PASSPHRASE")
        if passphrase:  # Bintray's signing on upload: see catalog.signing_client
            outcome = cat.signing.sign_upload(cmd.owner, cmd.repo, uploaded.path, passphrase=passphrase,
                                              uploader=actor.username,
                                              bearer=flask.request.headers.get("Authorization"))
            answer: dict[str, Any] = {**success(), "signed": outcome.signed}
            if outcome.message:
                answer["signing_error"] = outcome.message
            return answer, 201
        return success(), 201

    @blp.response(200, schemas.MessageSchema)
    def delete(self, subject: str, repo: str, rest: str) -> Any:
        """Delete a file (``publish`` on the repository)."""
        actor = require_principal()
        change(lambda uow: content.delete_content(uow, actor, subject, repo, rest))
        return success()


@blp.route("/content/<subject>/<repo>/<package>/<version>/publish")
class Publish(MethodView):
    @blp.arguments(schemas.PublishSchema(), required=False)
    @blp.response(200, schemas.PublishedSchema)
    def post(self, body: dict[str, Any], subject: str, repo: str, package: str, version: str) -> Any:
        """Publish every unpublished file of the version (or discard them: ``{"discard": true}``)."""
        actor = require_principal()
        cat = catalog()
        count = change(lambda uow: content.publish_version(uow, actor, subject, repo, package, version,
                                                           discard=bool((body or {}).get("discard")),
                                                           now=cat.clock(), base_url=cat.settings.public_base_url))
        return {"files": count}
