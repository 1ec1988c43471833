"""Two calls in a row through the gateway never need a sleep between them: what identity knows at the
moment of the second call (the caller's organizations, roles and teams, carried in the access token it
mints for that call) counts in catalog even before catalog's replica has heard of it."""

from __future__ import annotations

import pytest

pytestmark = pytest.mark.e2e

PACKAGE = {"name": "lib", "licenses": ["MIT"], "vcs_url": "https://github.com/acme/lib.git"}


def test_org_then_repo_role_then_action_team_then_upload_back_to_back(gw):
    alice, bob, carol = (gw.signup(gw.unique_name(n)) for n in ("alice", "bob", "carol"))
    as_alice, as_bob, as_carol = gw.login(alice), gw.login(bob), gw.login(carol)
    org = gw.unique_name("org")
    # With the broker out of reach, catalog cannot hear of anything identity does in the meantime:
    # only the caller's token can tell it, as it does when its replica merely lags.
    gw.proxy.cut()
    try:
        # create an organization, then at once a repository in it
        assert gw.post("/orgs", json={"name": org}, headers=as_alice).status_code == 201
        created = gw.post(f"/repos/{org}/main", json={"private": True}, headers=as_alice)
        assert created.status_code == 201, created.text
        assert gw.post(f"/packages/{org}/main", json=PACKAGE, headers=as_alice).status_code == 201

        # make bob an admin, then at once he acts as one
        assert gw.post(f"/orgs/{org}/members", json={"username": bob["username"], "role": "admin"},
                       headers=as_alice).status_code == 201
        updated = gw.request("PATCH", f"/repos/{org}/main", json={"desc": "by bob"}, headers=as_bob)
        assert updated.status_code == 200, updated.text
        assert gw.post(f"/repos/{org}/bobs", json={}, headers=as_bob).status_code == 201

        # form a team with carol, grant it publish, then at once carol uploads
        assert gw.post(f"/orgs/{org}/members", json={"username": carol["username"]},
                       headers=as_alice).status_code == 201
        assert gw.post(f"/orgs/{org}/teams", json={"name": "devs", "members": [carol["username"]]},
                       headers=as_alice).status_code == 201
        granted = gw.request("PUT", f"/repos/{org}/main/permissions",
                             json={"team": "devs", "permission": "publish"}, headers=as_alice)
        assert granted.status_code == 200, granted.text
        uploaded = gw.request("PUT", f"/content/{org}/main/lib/1.0/lib-1.0.jar", data=b"jar bytes",
                              headers=as_carol)
        assert uploaded.status_code == 201, uploaded.text
        # catalog's replica never heard of the organization, its members or its team
        assert gw.query("catalog", "SELECT count(*) FROM subjects WHERE name = :n", n=org)[0][0] == 0
        assert gw.query("catalog", "SELECT count(*) FROM teams WHERE subject = :n", n=org)[0][0] == 0
    finally:
        gw.proxy.restore()
