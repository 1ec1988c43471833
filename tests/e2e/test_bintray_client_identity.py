"""The real bintray-python client against Packyard's gateway: users, organizations, teams."""

from __future__ import annotations

import pytest

pytestmark = pytest.mark.e2e


def without_status(body):
    """bintray-python appends {"statusCode", "error"} to every answer; keep the API's own part."""
    if isinstance(body, list):
        return [item for item in body if not (isinstance(item, dict) and "statusCode" in item)]
    return {k: v for k, v in body.items() if k not in ("statusCode", "error")}


def test_bintray_python_reads_users_and_searches_them(gw, bintray):
    alice = gw.signup(gw.unique_name("alice"))
    client = bintray(*gw.api_key(alice))
    me = client.get_user(alice["username"])
    assert me["statusCode"] == 200 and me["error"] is False
    assert me["name"] == alice["username"]
    assert set(me) >= {"full_name", "gravatar_id", "repos", "organizations", "followers_count", "registered"}
    found = without_status(client.search_user(alice["username"][:12]))
    assert alice["username"] in [u["name"] for u in found]
    with pytest.raises(Exception, match="Subject 'nobody-here' was not found"):
        client.get_user("nobody-here")


def test_bintray_python_manages_an_organizations_teams(gw, bintray):
    owner, member = gw.signup(gw.unique_name("owner")), gw.signup(gw.unique_name("member"))
    org = gw.unique_name("org")
    headers = gw.login(owner)
    assert gw.post("/orgs", json={"name": org, "full_name": "Org Inc."}, headers=headers).status_code == 201
    assert gw.post(f"/orgs/{org}/members", json={"username": member["username"], "role": "member"},
                   headers=headers).status_code in (200, 201)
    client = bintray(*gw.api_key(owner))

    info = client.get_organization(org)
    assert info["name"] == org and info["owner"] == owner["username"]
    assert {m["name"] for m in info["members"]} == {owner["username"], member["username"]}

    created = client.create_org_team(org, "release-team", [member["username"]], allow_repo_creation=True)
    assert created["statusCode"] == 201 and created["name"] == "release-team"
    assert without_status(client.get_org_teams(org))["teams"] == ["release-team"]
    team = client.get_org_team(org, "release-team")
    assert team["name"] == "release-team" and team["members"] == [member["username"]]

    updated = client.update_org_team(org, "release-team", members=[owner["username"], member["username"]],
                                     allow_repo_creation=False)
    assert updated["statusCode"] == 200
    assert sorted(client.get_org_team(org, "release-team")["members"]) == sorted(
        [owner["username"], member["username"]])

    assert client.delete_org_team(org, "release-team")["message"] == "success"
    assert without_status(client.get_org_teams(org))["teams"] == []


def test_bintray_python_sees_a_refusal_for_another_users_org(gw, bintray):
    owner, stranger = gw.signup(gw.unique_name("owner")), gw.signup(gw.unique_name("stranger"))
    org = gw.unique_name("org")
    assert gw.post("/orgs", json={"name": org}, headers=gw.login(owner)).status_code == 201
    with pytest.raises(Exception, match=r"\((403|404)\)"):
        bintray(*gw.api_key(stranger)).create_org_team(org, "sneaky", [stranger["username"]])
