"""Packages: ``/packages/...``, their files, attributes, readme and release notes, ``/search/packages``."""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

import flask
from flask.views import MethodView
from flask_smorest import Blueprint

from catalog import queries, schemas
from catalog.api import ATTRIBUTE_VALUES, catalog, change, paged, query_args
from catalog.use_cases import metadata, packages
from packyard.db import UnitOfWork
from packyard.errors import NotFound
from packyard.paging import RANGE_HEADERS
from packyard.web import current_principal, require_principal, success

blp = Blueprint("packages", __name__, description="Packages (Bintray API)")


@blp.route("/packages/<subject>/<repo>")
class Packages(MethodView):
    @blp.arguments(schemas.PackageCreateSchema)
    @blp.alt_response(201, schema=schemas.PackageSchema, success=True)
    def post(self, body: dict[str, Any], subject: str, repo: str) -> Any:
        """Create a package (``publish`` on the repository; licenses and VCS URL mandatory in public ones)."""
        actor = require_principal()
        cat = catalog()

        def create(uow: UnitOfWork) -> dict[str, Any]:
            found_repo, package = packages.create_package(uow, actor, subject, repo, body, cat.clock())
            return queries.package_json(found_repo.owner, found_repo.name, package, [], None, publisher=True)
        return change(create), 201


@blp.route("/packages/<subject>/<repo>/<package>")
class PackageResource(MethodView):
    @blp.doc(parameters=[ATTRIBUTE_VALUES],
             responses={"301": {"description": "the package moved to another owner: it is at Location now"}})
    @blp.alt_response(200, schema=schemas.PackageSchema, success=True)
    def get(self, subject: str, repo: str, package: str) -> Any:
        """A package (HEAD answers 200 or 404; a package that moved to another owner answers 301 to where it is)."""
        # The most requested endpoint: its query is read only when there is one.
        query = query_args(schemas.AttributeValuesQuery)
        viewer = current_principal()
        with catalog().read_connection() as conn:
            try:
                return queries.get_package(conn, viewer, subject, repo, package,
                                           with_attributes=query["attribute_values"])
            except NotFound:
                moved_to = queries.moved_package(conn, viewer, subject, repo, package)
                if moved_to is None:
                    raise
        location = f"/packages/{moved_to}/{quote(package)}"
        query_string = flask.request.query_string.decode("latin-1")
        return flask.redirect(location + (f"?{query_string}" if query_string else ""), code=301)

    @blp.arguments(schemas.PackageUpdateSchema)
    @blp.alt_response(200, schema=schemas.PackageSchema, success=True)
    def patch(self, body: dict[str, Any], subject: str, repo: str, package: str) -> Any:
        """Update a package's information."""
        actor = require_principal()
        cat = catalog()

        def update(uow: UnitOfWork) -> Any:
            packages.update_package(uow, actor, subject, repo, package, body, cat.clock())
            return queries.get_package(uow.session.connection(), actor, subject, repo, package)
        return change(update)

    @blp.response(200, schemas.MessageSchema)
    def delete(self, subject: str, repo: str, package: str) -> Any:
        """Delete a package with its versions and files."""
        actor = require_principal()
        change(lambda uow: packages.delete_package(uow, actor, subject, repo, package))
        return success()


@blp.route("/packages/<subject>/<repo>/<package>/files")
class PackageFiles(MethodView):
    @blp.arguments(schemas.FilesQuery, location="query")
    @blp.alt_response(200, schema=schemas.FileSchema(many=True), success=True)
    def get(self, query: dict[str, Any], subject: str, repo: str, package: str) -> Any:
        """The package's published files (publishers may ask for unpublished ones too)."""
        with catalog().reader() as session:
            return flask.jsonify(queries.list_files(session, current_principal(), subject, repo, package, None,
                                                    query["include_unpublished"]))


class AttributesView(MethodView):
    """Attributes of a package (or, below ``versions/<version>``, of a version)."""

    def _get(self, query: dict[str, Any], subject: str, repo: str, package: str, version: str | None) -> Any:
        names = [n.strip() for n in (query["names"] or "").split(",") if n.strip()]
        with catalog().reader() as session:
            return flask.jsonify(queries.get_attributes(session, current_principal(), subject, repo, package,
                                                        version, names or None))

    def _set(self, attributes: list[dict[str, Any]], subject: str, repo: str, package: str, version: str | None,
             *, replace: bool) -> Any:
        actor = require_principal()
        cat = catalog()
        return flask.jsonify(change(lambda uow: metadata.set_attributes(
            uow, actor, subject, repo, package, version, attributes, replace=replace, now=cat.clock())))

    def _delete(self, query: dict[str, Any], subject: str, repo: str, package: str, version: str | None) -> Any:
        actor = require_principal()
        names = [n.strip() for n in (query["names"] or "").split(",") if n.strip()]
        cat = catalog()
        change(lambda uow: metadata.delete_attributes(uow, actor, subject, repo, package, version, names,
                                                      cat.clock()))
        return success()


@blp.route("/packages/<subject>/<repo>/<package>/attributes")
class PackageAttributes(AttributesView):
    @blp.arguments(schemas.AttributeNamesQuery, location="query")
    @blp.alt_response(200, schema=schemas.AttributeOutSchema(many=True), success=True)
    def get(self, query: dict[str, Any], subject: str, repo: str, package: str) -> Any:
        """The package's attributes (``names=a,b`` to choose; ``_``-prefixed ones only to publishers)."""
        return self._get(query, subject, repo, package, None)

    @blp.arguments(schemas.AttributeSchema(many=True))
    @blp.alt_response(200, schema=schemas.AttributeOutSchema(many=True), success=True)
    def post(self, attributes: list[dict[str, Any]], subject: str, repo: str, package: str) -> Any:
        """Replace all attributes."""
        return self._set(attributes, subject, repo, package, None, replace=True)

    @blp.arguments(schemas.AttributeSchema(many=True))
    @blp.alt_response(200, schema=schemas.AttributeOutSchema(many=True), success=True)
    def patch(self, attributes: list[dict[str, Any]], subject: str, repo: str, package: str) -> Any:
        """Add or change the attributes given."""
        return self._set(attributes, subject, repo, package, None, replace=False)

    @blp.arguments(schemas.AttributeNamesQuery, location="query")
    @blp.response(200, schemas.MessageSchema)
    def delete(self, query: dict[str, Any], subject: str, repo: str, package: str) -> Any:
        """Remove the attributes named (all without ``names``)."""
        return self._delete(query, subject, repo, package, None)


class DocumentView(MethodView):
    """A readme or release notes of a package or version."""

    field = ""
    missing = ""

    def _get(self, subject: str, repo: str, package: str, version: str | None) -> Any:
        with catalog().reader() as session:
            return queries.get_document(session, current_principal(), subject, repo, package, version,
                                        self.field, self.missing.format(package=package, version=version))

    def _set(self, body: dict[str, Any], subject: str, repo: str, package: str, version: str | None) -> Any:
        actor = require_principal()
        cat = catalog()
        return change(lambda uow: queries.document_json(*metadata.set_document(
            uow, actor, subject, repo, package, version, self.field, body, cat.clock())))

    def _delete(self, subject: str, repo: str, package: str, version: str | None) -> Any:
        actor = require_principal()
        cat = catalog()
        change(lambda uow: metadata.delete_document(uow, actor, subject, repo, package, version, self.field,
                                                    cat.clock()))
        return success()


@blp.route("/packages/<subject>/<repo>/<package>/readme")
class PackageReadme(DocumentView):
    field = "readme"
    missing = "Package '{package}' has no readme"

    @blp.alt_response(200, schema=schemas.DocumentOutSchema, success=True)
    def get(self, subject: str, repo: str, package: str) -> Any:
        """The package's readme."""
        return self._get(subject, repo, package, None)

    @blp.arguments(schemas.DocumentSchema)
    @blp.alt_response(200, schema=schemas.DocumentOutSchema, success=True)
    def post(self, body: dict[str, Any], subject: str, repo: str, package: str) -> Any:
        """Set the readme: ``{"bintray": {"syntax", "content"}}`` or ``{"github": {"github_repo"}}``."""
        return self._set(body, subject, repo, package, None)

    @blp.response(200, schemas.MessageSchema)
    def delete(self, subject: str, repo: str, package: str) -> Any:
        """Remove the readme."""
        return self._delete(subject, repo, package, None)


@blp.route("/packages/<subject>/<repo>/<package>/release_notes")
class PackageReleaseNotes(DocumentView):
    field = "release_notes"
    missing = "Package '{package}' has no release notes"

    @blp.alt_response(200, schema=schemas.DocumentOutSchema, success=True)
    def get(self, subject: str, repo: str, package: str) -> Any:
        """The package's release notes."""
        return self._get(subject, repo, package, None)

    @blp.arguments(schemas.DocumentSchema)
    @blp.alt_response(200, schema=schemas.DocumentOutSchema, success=True)
    def post(self, body: dict[str, Any], subject: str, repo: str, package: str) -> Any:
        """Set the release notes."""
        return self._set(body, subject, repo, package, None)

    @blp.response(200, schemas.MessageSchema)
    def delete(self, subject: str, repo: str, package: str) -> Any:
        """Remove the release notes."""
        return self._delete(subject, repo, package, None)


@blp.route("/search/packages")
class SearchPackages(MethodView):
    @blp.arguments(schemas.SearchPackagesQuery, location="query")
    @blp.alt_response(200, schema=schemas.PackageSchema(many=True), success=True, headers=RANGE_HEADERS)
    def get(self, query: dict[str, Any]) -> Any:
        """Packages of public repositories by name or description (contains), subject or repository."""
        with catalog().reader() as session:
            return paged(queries.search_packages(session, query["name"], query["desc"], query["subject"],
                                                 query["repo"], query["start_pos"]))
