"""Fixtures for fuzzing and the authorization matrix: real users with data to act on, on the session's platform."""

from __future__ import annotations

import json
from dataclasses import dataclass, field

from packyard.testing import wait_for

SERVICES = ("identity", "social", "catalog", "notifier", "signing")


@dataclass
class World:
    """An owner with an organization, a team, repositories, a package with a published version and
    the social things around it, plus the other people of the authorization matrix."""

    owner: dict
    owner_headers: dict
    api_key: tuple[str, str]
    org: str
    team: str
    repo: str
    org_repo: str
    package: str
    version: str
    file_path: str
    people: dict[str, dict] = field(default_factory=dict)  # role → {"user":..., "headers":...}

    def dictionaries(self) -> dict[str, list[str]]:
        name = self.owner["username"]
        return {"subjects": [name, self.org], "repos": [self.repo, self.org_repo], "packages": [self.package],
                "versions": [self.version], "files": [self.file_path], "teams": [self.team],
                "users": [name] + [p["user"]["username"] for p in self.people.values()]}


def make_world(gw) -> World:
    owner = gw.signup(gw.unique_name("owner"))
    headers = gw.login(owner)
    name = owner["username"]
    people = {role: gw.signup(gw.unique_name(role)) for role in ("stranger", "member", "reader")}
    org, team = gw.unique_name("org"), "devs"
    assert gw.post("/orgs", json={"name": org}, headers=headers).status_code == 201
    for role in ("member", "reader"):
        answer = gw.post(f"/orgs/{org}/members", json={"username": people[role]["username"]}, headers=headers)
        assert answer.status_code in (200, 201), answer.text
    answer = gw.post(f"/orgs/{org}/teams", json={"name": team, "members": [people["reader"]["username"]]},
                     headers=gw.login(owner))
    assert answer.status_code in (200, 201), answer.text
    headers = gw.login(owner)  # a token that carries the organization and the team
    repo, org_repo, package, version = "main", "shared", "tool", "1.0.0"
    for subject, repo_name in ((name, repo), (org, org_repo)):
        created = gw.post(f"/repos/{subject}/{repo_name}", json={"type": "generic"}, headers=headers)
        assert created.status_code == 201, created.text
        answer = gw.post(f"/packages/{subject}/{repo_name}", headers=headers,
                         json={"name": package, "licenses": ["MIT"], "vcs_url": "https://example.com/x.git"})
        assert answer.status_code == 201, answer.text
    wait_for(lambda: gw.request("PUT", f"/repos/{org}/{org_repo}/permissions", headers=headers,
                                json={"team": team, "permission": "read"}).status_code in (200, 201, 204),
             timeout=20, message="catalog knowing the team")
    file_path = f"{package}/{version}/{package}-{version}.txt"
    for subject, repo_name in ((name, repo), (org, org_repo)):
        answer = gw.request("PUT", f"/content/{subject}/{repo_name}/{package}/{version}/{file_path}?publish=1",
                            headers=headers, data=b"fuzz me")
        assert answer.status_code == 201, answer.text
    world = World(owner, headers, gw.api_key(owner), org, team, repo, org_repo, package, version, file_path)
    for role, user in people.items():
        world.people[role] = {"user": user, "headers": gw.login(user)}
    return world


def world_summary(world: World) -> str:
    return json.dumps({"owner": world.owner["username"], "org": world.org, "repo": world.repo})
