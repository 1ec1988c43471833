"""Read your own writes: what the caller's access token says of their memberships counts before the
replica of identity's events has caught up (claims ``orgs``, ``teams``, ``managed_teams``)."""

from __future__ import annotations


def test_an_organization_too_new_for_the_replica_gets_repositories_from_its_owner(api, client):
    api.user("olga")
    # no identity.org.created has arrived yet: without the claim this is a 404
    assert client.post("/repos/acme/main", json={}, headers=api.headers("olga")).status_code == 404
    olga = api.headers("olga", orgs={"acme": "owner"}, teams=[], managed_teams=[])
    assert client.post("/repos/acme/main", json={"private": True}, headers=olga).status_code == 201
    assert client.get("/repos/acme/main", headers=olga).status_code == 200
    api.create_package("acme", "main", "lib", olga)
    # a plain member is told no; somebody the token does not know as a member does not see it
    mia = api.headers("mia", orgs={"acme": "member"}, teams=[])
    assert client.post("/repos/acme/other", json={}, headers=mia).status_code == 403
    assert client.get("/repos/acme/main", headers=api.headers("eve", orgs={}, teams=[])).status_code == 404


def test_a_role_given_a_moment_ago_counts_and_a_role_taken_away_too(api, client):
    for name in ("olga", "adam"):
        api.user(name)
    api.org("acme", "olga", members=["adam"])  # the replica: adam is a plain member
    api.create_repo("acme", "main", api.headers("olga"), private=True)
    assert client.patch("/repos/acme/main", json={"desc": "x"}, headers=api.headers("adam")).status_code == 404
    adam_admin = api.headers("adam", orgs={"acme": "admin"}, teams=[])
    assert client.patch("/repos/acme/main", json={"desc": "by adam"}, headers=adam_admin).status_code == 200
    assert client.post("/repos/acme/more", json={}, headers=adam_admin).status_code == 201
    # olga left: the replica still says owner, her token says nothing
    assert client.get("/repos/acme/main", headers=api.headers("olga", orgs={}, teams=[])).status_code == 404


def test_a_team_formed_a_moment_ago_is_granted_and_its_member_publishes(api, client):
    for name in ("olga", "max"):
        api.user(name)
    api.org("acme", "olga", members=["max"])
    api.create_repo("acme", "main", api.headers("olga"), private=True)
    api.create_package("acme", "main", "lib", api.headers("olga"))
    grant = {"team": "devs", "permission": "publish"}
    # the team is unknown to the replica: a token without claims gets 404, as before
    assert client.put("/repos/acme/main/permissions", json=grant, headers=api.headers("olga")).status_code == 404
    olga = api.headers("olga", orgs={"acme": "owner"}, teams=[], managed_teams=["acme/devs"])
    assert client.put("/repos/acme/main/permissions", json=grant, headers=olga).status_code == 200
    max_ = api.headers("max", orgs={"acme": "member"}, teams=["acme/devs"])
    assert api.upload("acme", "main", "lib", "1.0", "lib-1.0.jar", b"bytes", max_).status_code == 201
    # the token of a non-member of the team does not carry it
    other = api.headers("max", orgs={"acme": "member"}, teams=[])
    assert api.upload("acme", "main", "lib", "1.0", "lib-1.1.jar", b"bytes", other).status_code == 404
    # another organization's admin cannot vouch for acme's teams
    assert client.put("/repos/acme/main/permissions", json={"team": "ops", "permission": "read"},
                      headers=olga).status_code == 404
