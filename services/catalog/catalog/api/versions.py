"""Versions: ``/packages/:s/:r/:p/versions/...`` with their files, attributes and release notes."""

from __future__ import annotations

from typing import Any

import flask
from flask.views import MethodView
from flask_smorest import Blueprint

from catalog import queries, schemas
from catalog.api import catalog, change
from catalog.api.packages import AttributesView, DocumentView
from catalog.use_cases import versions
from packyard.web import current_principal, require_principal, success

blp = Blueprint("versions", __name__, description="Versions (Bintray API)")


@blp.route("/packages/<subject>/<repo>/<package>/versions")
class Versions(MethodView):
    @blp.arguments(schemas.VersionCreateSchema)
    @blp.alt_response(201, schema=schemas.VersionSchema, success=True)
    def post(self, body: dict[str, Any], subject: str, repo: str, package: str) -> Any:
        """Create a version (names ending with -SNAPSHOT are refused)."""
        actor = require_principal()
        cat = catalog()
        return change(lambda uow: queries.version_json(versions.create_version(uow, actor, subject, repo, package,
                                                                              body, cat.clock()))), 201


@blp.route("/packages/<subject>/<repo>/<package>/versions/<version>")
class VersionResource(MethodView):
    @blp.arguments(schemas.AttributeValuesQuery, location="query")
    @blp.alt_response(200, schema=schemas.VersionSchema, success=True)
    def get(self, query: dict[str, Any], subject: str, repo: str, package: str, version: str) -> Any:
        """A version; ``_latest`` is the latest published one (HEAD answers 200 or 404)."""
        cat = catalog()
        with cat.reader() as session:
            return queries.get_version(session, current_principal(), subject, repo, package, version,
                                       with_attributes=query["attribute_values"],
                                       base_url=cat.settings.public_base_url)

    @blp.arguments(schemas.VersionUpdateSchema)
    @blp.alt_response(200, schema=schemas.VersionSchema, success=True)
    def patch(self, body: dict[str, Any], subject: str, repo: str, package: str, version: str) -> Any:
        """Update a version's information."""
        actor = require_principal()
        cat = catalog()
        return change(lambda uow: queries.version_json(versions.update_version(uow, actor, subject, repo, package,
                                                                              version, body, cat.clock())))

    @blp.response(200, schemas.MessageSchema)
    def delete(self, subject: str, repo: str, package: str, version: str) -> Any:
        """Delete a version with its files."""
        actor = require_principal()
        change(lambda uow: versions.delete_version(uow, actor, subject, repo, package, version))
        return success()


@blp.route("/packages/<subject>/<repo>/<package>/versions/<version>/files")
class VersionFiles(MethodView):
    @blp.arguments(schemas.FilesQuery, location="query")
    @blp.alt_response(200, schema=schemas.FileSchema(many=True), success=True)
    def get(self, query: dict[str, Any], subject: str, repo: str, package: str, version: str) -> Any:
        """The version's published files (publishers may ask for unpublished ones too)."""
        with catalog().reader() as session:
            return flask.jsonify(queries.list_files(session, current_principal(), subject, repo, package,
                                                    version, query["include_unpublished"]))


@blp.route("/packages/<subject>/<repo>/<package>/versions/<version>/attributes")
class VersionAttributes(AttributesView):
    @blp.arguments(schemas.AttributeNamesQuery, location="query")
    @blp.alt_response(200, schema=schemas.AttributeOutSchema(many=True), success=True)
    def get(self, query: dict[str, Any], subject: str, repo: str, package: str, version: str) -> Any:
        """The version's attributes."""
        return self._get(query, subject, repo, package, version)

    @blp.arguments(schemas.AttributeSchema(many=True))
    @blp.alt_response(200, schema=schemas.AttributeOutSchema(many=True), success=True)
    def post(self, attributes: list[dict[str, Any]], subject: str, repo: str, package: str, version: str) -> Any:
        """Replace all attributes."""
        return self._set(attributes, subject, repo, package, version, replace=True)

    @blp.arguments(schemas.AttributeSchema(many=True))
    @blp.alt_response(200, schema=schemas.AttributeOutSchema(many=True), success=True)
    def patch(self, attributes: list[dict[str, Any]], subject: str, repo: str, package: str, version: str) -> Any:
        """Add or change the attributes given."""
        return self._set(attributes, subject, repo, package, version, replace=False)

    @blp.arguments(schemas.AttributeNamesQuery, location="query")
    @blp.response(200, schemas.MessageSchema)
    def delete(self, query: dict[str, Any], subject: str, repo: str, package: str, version: str) -> Any:
        """Remove the attributes named (all without ``names``)."""
        return self._delete(query, subject, repo, package, version)


@blp.route("/packages/<subject>/<repo>/<package>/versions/<version>/release_notes")
class VersionReleaseNotes(DocumentView):
    field = "release_notes"
    missing = "Version '{version}' has no release notes"

    @blp.alt_response(200, schema=schemas.DocumentOutSchema, success=True)
    def get(self, subject: str, repo: str, package: str, version: str) -> Any:
        """The version's release notes."""
        return self._get(subject, repo, package, version)

    @blp.arguments(schemas.DocumentSchema)
    @blp.alt_response(200, schema=schemas.DocumentOutSchema, success=True)
    def post(self, body: dict[str, Any], subject: str, repo: str, package: str, version: str) -> Any:
        """Set the release notes (carried by ``catalog.version.released``)."""
        return self._set(body, subject, repo, package, version)

    @blp.response(200, schemas.MessageSchema)
    def delete(self, subject: str, repo: str, package: str, version: str) -> Any:
        """Remove the release notes."""
        return self._delete(subject, repo, package, version)
