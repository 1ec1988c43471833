"""Links (``/repository/:s/:r/links/...``, Bintray's API) and inclusion requests (Bintray's "Add to
JCenter" button, as JSON endpoints)."""

from __future__ import annotations

from typing import Any

from flask.views import MethodView
from flask_smorest import Blueprint

from catalog import schemas
from catalog.api import catalog, change, paged
from catalog.queries import inclusion as inclusion_queries
from catalog.use_cases import inclusion, links
from packyard.db import UnitOfWork
from packyard.paging import RANGE_HEADERS
from packyard.web import require_principal, success

blp = Blueprint("links", __name__, description="Links of packages into other repositories, and inclusion requests")


@blp.route("/repository/<subject>/<repo>/links/<source_subject>/<source_repo>/<source_package>")
class PackageLink(MethodView):
    @blp.arguments(schemas.LinkSchema(), required=False)
    @blp.response(201, schemas.MessageSchema)
    def put(self, body: dict[str, Any], subject: str, repo: str, source_subject: str, source_repo: str,
            source_package: str) -> Any:
        """Show a package in this repository (``admin`` on it); its published files download through it too."""
        actor = require_principal()
        cat = catalog()
        change(lambda uow: links.link_package(uow, actor, subject, repo, source_subject, source_repo, source_package,
                                              (body or {}).get("path_prefix"), cat.clock()))
        return success(), 201

    @blp.response(200, schemas.MessageSchema)
    def delete(self, subject: str, repo: str, source_subject: str, source_repo: str, source_package: str) -> Any:
        """Stop showing a linked package in this repository."""
        actor = require_principal()
        change(lambda uow: links.unlink_package(uow, actor, subject, repo, source_subject, source_repo,
                                                source_package))
        return success()


@blp.route("/packages/<subject>/<repo>/<package>/inclusion_requests")
class PackageInclusionRequests(MethodView):
    @blp.arguments(schemas.InclusionRequestSchema)
    @blp.response(201, schemas.InclusionRequestOutSchema)
    def post(self, body: dict[str, Any], subject: str, repo: str, package: str) -> Any:
        """Ask the administrators of ``target`` (``<subject>/<repository>``) to include this package."""
        actor = require_principal()
        cat = catalog()

        def ask(uow: UnitOfWork) -> dict[str, Any]:
            request = inclusion.request_inclusion(uow, actor, subject, repo, package, body["target"], body["message"],
                                                  body["path_prefix"], cat.clock())
            return inclusion_queries.get_request(uow.session, actor, request.id)
        return change(ask), 201


@blp.route("/me/inclusion_requests")
class MyInclusionRequests(MethodView):
    @blp.arguments(schemas.InclusionListQuery, location="query")
    @blp.response(200, schemas.InclusionRequestOutSchema(many=True), headers=RANGE_HEADERS)
    def get(self, query: dict[str, Any]) -> Any:
        """The inclusion requests the caller made, newest first."""
        actor = require_principal()
        with catalog().reader() as session:
            return paged(inclusion_queries.list_my_requests(session, actor, query["status"], query["start_pos"]))


@blp.route("/repos/<subject>/<repo>/inclusion_requests")
class RepoInclusionRequests(MethodView):
    @blp.arguments(schemas.InclusionListQuery, location="query")
    @blp.response(200, schemas.InclusionRequestOutSchema(many=True), headers=RANGE_HEADERS)
    def get(self, query: dict[str, Any], subject: str, repo: str) -> Any:
        """Requests to include packages in this repository (its administrators), newest first."""
        actor = require_principal()
        with catalog().reader() as session:
            return paged(inclusion_queries.list_repo_requests(session, actor, subject, repo, query["status"],
                                                              query["start_pos"]))


@blp.route("/inclusion_requests/<int(max=2147483647):request_id>")
class InclusionRequestResource(MethodView):
    @blp.response(200, schemas.InclusionRequestOutSchema)
    def get(self, request_id: int) -> Any:
        """One request (its requester, the package's publishers and the repository's administrators)."""
        actor = require_principal()
        with catalog().reader() as session:
            return inclusion_queries.get_request(session, actor, request_id)


class _Decide(MethodView):
    approve = True

    def _decide(self, body: dict[str, Any] | None, request_id: int) -> Any:
        actor = require_principal()
        cat = catalog()

        def decide(uow: UnitOfWork) -> dict[str, Any]:
            inclusion.decide_inclusion(uow, actor, request_id, approve=self.approve,
                                       reason=(body or {}).get("reason"), now=cat.clock())
            return inclusion_queries.get_request(uow.session, actor, request_id)
        return change(decide)


@blp.route("/inclusion_requests/<int(max=2147483647):request_id>/approve")
class ApproveInclusion(_Decide):
    approve = True

    @blp.arguments(schemas.ReasonSchema(), required=False)
    @blp.response(200, schemas.InclusionRequestOutSchema)
    def post(self, body: dict[str, Any], request_id: int) -> Any:
        """Approve a pending request: the package is linked into the repository."""
        return self._decide(body, request_id)


@blp.route("/inclusion_requests/<int(max=2147483647):request_id>/reject")
class RejectInclusion(_Decide):
    approve = False

    @blp.arguments(schemas.ReasonSchema(), required=False)
    @blp.response(200, schemas.InclusionRequestOutSchema)
    def post(self, body: dict[str, Any], request_id: int) -> Any:
        """Reject a pending request, optionally saying why."""
        return self._decide(body, request_id)
