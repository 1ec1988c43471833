"""Organizations, their members, and the teams of organizations and users (Bintray ``/orgs``, ``/users/:u/teams``)."""

from __future__ import annotations

from typing import Any

from flask.views import MethodView
from flask_smorest import Blueprint

from identity import queries, schemas, use_cases
from identity.api.users import users
from identity.api.web import authenticated, change, ident, read
from identity.use_cases import TeamOwner
from packyard.web import current_principal, require_principal, success

orgs = Blueprint("orgs", __name__, url_prefix="/orgs", description="Organizations, members and teams (Bintray API)")


@orgs.route("")
class Orgs(MethodView):
    @authenticated
    @orgs.arguments(schemas.OrgCreateSchema)
    @orgs.response(201, schemas.OrgSchema)
    def post(self, body: dict[str, Any]) -> Any:
        """Create an organization; I become its owner. Its name may not be any user's or organization's."""
        caller = require_principal()
        org = change(lambda uow: ident().create_org(uow, caller.user_id, use_cases.NewOrg(**body)))
        return read(lambda session: queries.get_org(session, org.name, caller))


@orgs.route("/<string:org>")
class OrgResource(MethodView):
    @orgs.response(200, schemas.OrgSchema)
    def get(self, org: str) -> Any:
        """An organization (Bintray); member roles, teams and quota only to its admins."""
        viewer = current_principal()
        return read(lambda session: queries.get_org(session, org, viewer))

    @authenticated
    @orgs.arguments(schemas.OrgUpdateSchema)
    @orgs.response(200, schemas.OrgSchema)
    def patch(self, body: dict[str, Any], org: str) -> Any:
        """Change an organization's full name, description or website (its admins)."""
        caller = require_principal()
        change(lambda uow: use_cases.update_org(uow, caller.user_id, org, body))
        return read(lambda session: queries.get_org(session, org, caller))

    @orgs.response(200, schemas.MessageSchema)
    def delete(self, org: str) -> Any:
        """Delete an organization (its owners), once it has no repositories."""
        caller = require_principal()
        change(lambda uow: use_cases.delete_org(uow, caller.user_id, org))
        return success()


@orgs.route("/<string:org>/members")
class OrgMembers(MethodView):
    @authenticated
    @orgs.arguments(schemas.MemberAddSchema)
    @orgs.response(201, schemas.OrgMemberSchema)
    def post(self, body: dict[str, Any], org: str) -> Any:
        """Add a member or admin (the org's admins)."""
        caller = require_principal()
        change(lambda uow: ident().add_member(uow, caller.user_id, org, body["username"], body["role"]))
        return {"name": body["username"], "type": body["role"]}


@orgs.route("/<string:org>/members/<string:username>")
class OrgMember(MethodView):
    @authenticated
    @orgs.arguments(schemas.MemberRoleSchema)
    @orgs.response(200, schemas.OrgMemberSchema)
    def patch(self, body: dict[str, Any], org: str, username: str) -> Any:
        """Change a member's role (the org's admins; owners are made and unmade by owners)."""
        caller = require_principal()
        change(lambda uow: use_cases.change_member_role(uow, caller.user_id, org, username, body["role"]))
        return {"name": username, "type": body["role"]}

    @orgs.response(200, schemas.MessageSchema)
    def delete(self, org: str, username: str) -> Any:
        """Remove a member (the org's admins), or leave (any member). The last owner stays."""
        caller = require_principal()
        change(lambda uow: use_cases.remove_member(uow, caller.user_id, org, username))
        return success()


def _list_teams(owner: TeamOwner) -> Any:
    viewer = require_principal()
    return read(lambda session: queries.list_teams(session, owner, viewer))


def _create_team(owner: TeamOwner, body: dict[str, Any]) -> Any:
    caller = require_principal()
    cmd = use_cases.NewTeam(name=body["name"], members=body["members"], allow_repo_creation=body["allow_repo_creation"])
    team = change(lambda uow: ident().create_team(uow, caller.user_id, owner, cmd))
    return read(lambda session: queries.get_team(session, owner, team.name, caller))


def _get_team(owner: TeamOwner, name: str) -> Any:
    viewer = require_principal()
    return read(lambda session: queries.get_team(session, owner, name, viewer))


def _update_team(owner: TeamOwner, name: str, body: dict[str, Any]) -> Any:
    caller = require_principal()
    change(lambda uow: use_cases.update_team(uow, caller.user_id, owner, name, body.get("members"),
                                             body.get("allow_repo_creation")))
    return read(lambda session: queries.get_team(session, owner, name, caller))


def _delete_team(owner: TeamOwner, name: str) -> Any:
    caller = require_principal()
    change(lambda uow: use_cases.delete_team(uow, caller.user_id, owner, name))
    return success()


@orgs.route("/<string:org>/teams")
class OrgTeams(MethodView):
    @orgs.response(200, schemas.TeamListSchema)
    def get(self, org: str) -> Any:
        """The organization's teams (its admins)."""
        return _list_teams(TeamOwner("org", org))

    @authenticated
    @orgs.arguments(schemas.TeamCreateSchema)
    @orgs.response(201, schemas.TeamSchema)
    def post(self, body: dict[str, Any], org: str) -> Any:
        """Create a team of members of the organization (its admins)."""
        return _create_team(TeamOwner("org", org), body)


@orgs.route("/<string:org>/teams/<string:team>")
class OrgTeam(MethodView):
    @orgs.response(200, schemas.TeamSchema)
    def get(self, org: str, team: str) -> Any:
        """A team of the organization (its admins)."""
        return _get_team(TeamOwner("org", org), team)

    @authenticated
    @orgs.arguments(schemas.TeamUpdateSchema)
    @orgs.response(200, schemas.TeamSchema)
    def patch(self, body: dict[str, Any], org: str, team: str) -> Any:
        """Replace a team's members and/or its right to create repositories (the org's admins)."""
        return _update_team(TeamOwner("org", org), team, body)

    @orgs.response(200, schemas.MessageSchema)
    def delete(self, org: str, team: str) -> Any:
        """Delete a team (the org's admins)."""
        return _delete_team(TeamOwner("org", org), team)


@users.route("/<string:username>/teams")
class UserTeams(MethodView):
    @users.response(200, schemas.TeamListSchema)
    def get(self, username: str) -> Any:
        """The user's own teams (that user only)."""
        return _list_teams(TeamOwner("user", username))

    @authenticated
    @users.arguments(schemas.TeamCreateSchema)
    @users.response(201, schemas.TeamSchema)
    def post(self, body: dict[str, Any], username: str) -> Any:
        """Create a team of the user's (that user only)."""
        return _create_team(TeamOwner("user", username), body)


@users.route("/<string:username>/teams/<string:team>")
class UserTeam(MethodView):
    @users.response(200, schemas.TeamSchema)
    def get(self, username: str, team: str) -> Any:
        """A team of the user's (that user only)."""
        return _get_team(TeamOwner("user", username), team)

    @authenticated
    @users.arguments(schemas.TeamUpdateSchema)
    @users.response(200, schemas.TeamSchema)
    def patch(self, body: dict[str, Any], username: str, team: str) -> Any:
        """Replace a team's members and/or its right to create repositories (that user only)."""
        return _update_team(TeamOwner("user", username), team, body)

    @users.response(200, schemas.MessageSchema)
    def delete(self, username: str, team: str) -> Any:
        """Delete a team of the user's (that user only)."""
        return _delete_team(TeamOwner("user", username), team)
