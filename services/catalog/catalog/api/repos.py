"""Repositories: ``/repos/...``, ``/search/repos`` and team permissions."""

from __future__ import annotations

from typing import Any

import flask
from flask.views import MethodView
from flask_smorest import Blueprint

from catalog import queries, schemas
from catalog.api import catalog, change, paged
from catalog.use_cases import repos
from packyard.errors import Invalid
from packyard.paging import RANGE_HEADERS
from packyard.web import current_principal, require_principal, success

blp = Blueprint("repos", __name__, description="Repositories (Bintray API)")


@blp.route("/repos/<subject>")
class SubjectRepos(MethodView):
    @blp.alt_response(200, schema=schemas.RepoRefSchema(many=True), success=True)
    def get(self, subject: str) -> Any:
        """The repositories of a user or organization the caller may see."""
        with catalog().reader() as session:
            return flask.jsonify(queries.list_repos(session, current_principal(), subject))


@blp.route("/repos/<subject>/<repo>")
class RepoResource(MethodView):
    @blp.alt_response(200, schema=schemas.RepoSchema, success=True)
    def get(self, subject: str, repo: str) -> Any:
        """A repository (HEAD answers 200 or 404)."""
        with catalog().reader() as session:
            return queries.get_repo(session, current_principal(), subject, repo)

    @blp.arguments(schemas.RepoCreateSchema)
    @blp.alt_response(201, schema=schemas.RepoSchema, success=True)
    def post(self, body: dict[str, Any], subject: str, repo: str) -> Any:
        """Create a repository (the caller's own, or an organization's they may create in)."""
        actor = require_principal()
        name = body.pop("name", None) or repo
        if name != repo:
            raise Invalid(f"The repository name in the body ('{name}') differs from the URL ('{repo}')")
        cat = catalog()
        new = repos.NewRepo(name=repo, type=body["type"], private=body["private"], desc=body["desc"],
                            labels=body["labels"] or [], gpg_sign_metadata=body["gpg_sign_metadata"],
                            gpg_sign_files=body["gpg_sign_files"], gpg_use_owner_key=body["gpg_use_owner_key"])
        return change(lambda uow: queries.repo_json(uow.session, repos.create_repo(uow, actor, subject, new,
                                                                                  cat.clock()), 0)), 201

    @blp.arguments(schemas.RepoUpdateSchema)
    @blp.alt_response(200, schema=schemas.RepoSchema, success=True)
    def patch(self, body: dict[str, Any], subject: str, repo: str) -> Any:
        """Update a repository's description, labels or signing flags."""
        actor = require_principal()
        cat = catalog()
        return change(lambda uow: queries.repo_json(uow.session, repos.update_repo(uow, actor, subject, repo, body,
                                                                                  cat.clock())))

    @blp.response(200, schemas.MessageSchema)
    def delete(self, subject: str, repo: str) -> Any:
        """Delete a repository with everything in it."""
        actor = require_principal()
        change(lambda uow: repos.delete_repo(uow, actor, subject, repo))
        return success()


@blp.route("/repos/<subject>/<repo>/packages")
class RepoPackages(MethodView):
    @blp.arguments(schemas.PackagesQuery, location="query")
    @blp.alt_response(200, schema=schemas.PackageRefSchema(many=True), success=True, headers=RANGE_HEADERS)
    def get(self, query: dict[str, Any], subject: str, repo: str) -> Any:
        """The packages of a repository, 50 a page (``start_pos``, ``start_name`` prefix)."""
        with catalog().reader() as session:
            return paged(queries.list_packages(session, current_principal(), subject, repo,
                                               query["start_pos"], query["start_name"]))


@blp.route("/repos/<subject>/<repo>/permissions")
class RepoPermissions(MethodView):
    @blp.response(200, schemas.TeamPermissionSchema(many=True))
    def get(self, subject: str, repo: str) -> Any:
        """The teams' permissions on a repository (repository admins)."""
        actor = require_principal()
        with catalog().reader() as session:
            return queries.list_permissions(session, actor, subject, repo)

    @blp.arguments(schemas.PermissionSchema)
    @blp.response(200, schemas.MessageSchema)
    def put(self, body: dict[str, Any], subject: str, repo: str) -> Any:
        """Grant a team of the repository's owner ``read``, ``publish`` or ``admin``."""
        actor = require_principal()
        change(lambda uow: repos.set_team_permission(uow, actor, subject, repo, body["team"], body["permission"]))
        return success()


@blp.route("/repos/<subject>/<repo>/permissions/<team>")
class RepoTeamPermission(MethodView):
    @blp.response(200, schemas.TeamPermissionSchema)
    def get(self, subject: str, repo: str, team: str) -> Any:
        """One team's permission on a repository."""
        actor = require_principal()
        with catalog().reader() as session:
            return queries.get_permission(session, actor, subject, repo, team)

    @blp.response(200, schemas.MessageSchema)
    def delete(self, subject: str, repo: str, team: str) -> Any:
        """Take a team's permission away."""
        actor = require_principal()
        change(lambda uow: repos.delete_team_permission(uow, actor, subject, repo, team))
        return success()


@blp.route("/search/repos")
class SearchRepos(MethodView):
    @blp.arguments(schemas.SearchReposQuery, location="query")
    @blp.alt_response(200, schema=schemas.RepoSchema(many=True), success=True, headers=RANGE_HEADERS)
    def get(self, query: dict[str, Any]) -> Any:
        """Public repositories whose name or description contains the words given."""
        with catalog().reader() as session:
            return paged(queries.search_repos(session, query["name"], query["desc"], query["start_pos"]))
