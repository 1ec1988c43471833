"""Files by path or checksum: ``/file_package``, ``/file_version``, ``/search/file``."""

from __future__ import annotations

from typing import Any

from flask.views import MethodView
from flask_smorest import Blueprint

from catalog import queries, schemas
from catalog.api import catalog, paged
from packyard.paging import RANGE_HEADERS
from packyard.web import current_principal

blp = Blueprint("files", __name__, description="Finding files (Bintray API)")


@blp.route("/file_package/<subject>/<repo>/<path:file_path>")
class FilePackage(MethodView):
    @blp.alt_response(200, schema=schemas.PackageSchema, success=True)
    def get(self, subject: str, repo: str, file_path: str) -> Any:
        """The package a file belongs to."""
        with catalog().reader() as session:
            return queries.file_owner(session, current_principal(), subject, repo, file_path, version=False)


@blp.route("/file_version/<subject>/<repo>/<path:file_path>")
class FileVersion(MethodView):
    @blp.alt_response(200, schema=schemas.VersionSchema, success=True)
    def get(self, subject: str, repo: str, file_path: str) -> Any:
        """The version a file belongs to."""
        with catalog().reader() as session:
            return queries.file_owner(session, current_principal(), subject, repo, file_path, version=True)


@blp.route("/search/file")
class SearchFile(MethodView):
    @blp.arguments(schemas.SearchFileQuery, location="query")
    @blp.alt_response(200, schema=schemas.FileSchema(many=True), success=True, headers=RANGE_HEADERS)
    def get(self, query: dict[str, Any]) -> Any:
        """Published files of public repositories by name (wildcards ``*`` ``?``) or by ``sha1``."""
        with catalog().reader() as session:
            return paged(queries.search_files(session, name=query["name"], sha1=query["sha1"],
                                              subject=query["subject"], repo=query["repo"],
                                              created_after=query["created_after"], start=query["start_pos"]))
