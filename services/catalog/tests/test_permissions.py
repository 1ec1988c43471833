"""Who may do what on an organization's repositories, decided from the replica of identity's events."""

from __future__ import annotations

import pytest


@pytest.fixture
def acme(api):
    """Organization 'acme': owner olga, admin adam, members mia and max; a private repository 'internal'."""
    for name in ("olga", "adam", "mia", "max", "outsider"):
        api.user(name)
    api.org("acme", "olga", members=["mia", "max"], admins=["adam"])
    api.create_repo("acme", "internal", api.headers("olga"), private=True)
    api.create_package("acme", "internal", "lib", api.headers("olga"))
    return api


def read(client, api, user):
    return client.get("/packages/acme/internal/lib", headers=api.headers(user)).status_code


def upload(api, user, path="lib-1.0.jar"):
    return api.upload("acme", "internal", "lib", "1.0", path, b"bytes", api.headers(user)).status_code


def test_organization_owners_and_admins_administer_every_repository(acme, client):
    for user in ("olga", "adam"):
        assert read(client, acme, user) == 200
        response = client.patch("/repos/acme/internal", json={"desc": f"by {user}"}, headers=acme.headers(user))
        assert response.status_code == 200
    assert client.post("/repos/acme/more", json={}, headers=acme.headers("adam")).status_code == 201


def test_plain_members_and_outsiders_cannot_see_a_private_repository(acme, client):
    for user in ("mia", "outsider"):
        assert read(client, acme, user) == 404
        assert upload(acme, user) == 404
    assert client.post("/repos/acme/mine", json={}, headers=acme.headers("mia")).status_code == 403


def test_team_grants_give_read_publish_or_admin(acme, client):
    acme.team("acme", "readers", ["mia"])
    acme.team("acme", "publishers", ["max"])
    olga = acme.headers("olga")
    assert client.put("/repos/acme/internal/permissions", json={"team": "readers", "permission": "read"},
                      headers=olga).json == {"message": "success"}
    assert client.put("/repos/acme/internal/permissions", json={"team": "publishers", "permission": "publish"},
                      headers=olga).status_code == 200
    assert read(client, acme, "mia") == 200
    assert upload(acme, "mia") == 403
    assert upload(acme, "max") == 201
    assert client.delete("/repos/acme/internal", headers=acme.headers("max")).status_code == 403
    assert client.get("/repos/acme/internal/permissions", headers=acme.headers("max")).status_code == 403
    client.put("/repos/acme/internal/permissions", json={"team": "publishers", "permission": "admin"}, headers=olga)
    assert client.get("/repos/acme/internal/permissions", headers=acme.headers("max")).json == [
        {"team": "publishers", "permission": "admin"}, {"team": "readers", "permission": "read"}]
    assert client.get("/repos/acme/internal/permissions/readers", headers=olga).json == \
        {"team": "readers", "permission": "read"}


def test_a_removed_member_loses_access_as_soon_as_the_event_arrives(acme, client):
    acme.team("acme", "publishers", ["max"])
    client.put("/repos/acme/internal/permissions", json={"team": "publishers", "permission": "publish"},
               headers=acme.headers("olga"))
    assert upload(acme, "max", "a.jar") == 201
    acme.member("acme", "max", revision=2, event="identity.member.removed")
    assert read(client, acme, "max") == 404
    assert upload(acme, "max", "b.jar") == 404


def test_a_demoted_admin_loses_admin_rights(acme, client):
    acme.member("acme", "adam", "member", revision=2, event="identity.member.role_changed")
    assert read(client, acme, "adam") == 404
    acme.member("acme", "adam", "admin", revision=1, event="identity.member.role_changed")  # older: ignored
    assert read(client, acme, "adam") == 404


def test_leaving_a_team_takes_its_grant_away(acme, client):
    acme.team("acme", "readers", ["mia"])
    client.put("/repos/acme/internal/permissions", json={"team": "readers", "permission": "read"},
               headers=acme.headers("olga"))
    assert read(client, acme, "mia") == 200
    acme.team("acme", "readers", [], revision=2, event="identity.team.updated")
    assert read(client, acme, "mia") == 404


def test_a_deleted_team_loses_its_grants_even_if_created_again(acme, client):
    acme.team("acme", "readers", ["mia"])
    olga = acme.headers("olga")
    client.put("/repos/acme/internal/permissions", json={"team": "readers", "permission": "read"}, headers=olga)
    acme.bus.deliver("identity.team.deleted", {"subject": "acme", "subject_type": "org", "team": "readers",
                                               "revision": 2})
    assert read(client, acme, "mia") == 404
    assert client.get("/repos/acme/internal/permissions", headers=olga).json == []
    acme.team("acme", "readers", ["mia"], revision=1)  # a new team: its revisions start again
    assert read(client, acme, "mia") == 404


def test_teams_allowed_to_create_repositories_may_create_them(acme, client):
    acme.team("acme", "builders", ["mia"], allow_repo_creation=True)
    assert client.post("/repos/acme/mias", json={}, headers=acme.headers("mia")).status_code == 201
    acme.team("acme", "builders", ["mia"], revision=2, allow_repo_creation=False, event="identity.team.updated")
    assert client.post("/repos/acme/more", json={}, headers=acme.headers("mia")).status_code == 403


def test_permission_endpoints_refuse_bad_input_unknown_teams_and_non_admins(acme, client):
    olga, mia = acme.headers("olga"), acme.headers("mia")
    acme.team("acme", "readers", ["mia"])
    assert client.put("/repos/acme/internal/permissions", json={"team": "readers", "permission": "write"},
                      headers=olga).status_code == 400
    assert client.put("/repos/acme/internal/permissions", json={"permission": "read"}, headers=olga).status_code == 400
    response = client.put("/repos/acme/internal/permissions", json={"team": "ghosts", "permission": "read"},
                          headers=olga)
    assert response.status_code == 404 and response.json == {"message": "Team 'ghosts' was not found"}
    assert client.put("/repos/acme/internal/permissions", json={"team": "readers", "permission": "read"},
                      headers=mia).status_code == 404  # mia cannot see the repository
    assert client.put("/repos/acme/internal/permissions", json={"team": "readers", "permission": "read"}
                      ).status_code == 401
    assert client.get("/repos/acme/internal/permissions", headers=olga).json == []
    assert client.delete("/repos/acme/internal/permissions/readers", headers=olga).status_code == 404


def test_a_team_grant_is_taken_away(acme, client):
    olga = acme.headers("olga")
    acme.team("acme", "readers", ["mia"])
    client.put("/repos/acme/internal/permissions", json={"team": "readers", "permission": "read"}, headers=olga)
    assert client.delete("/repos/acme/internal/permissions/readers", headers=olga).json == {"message": "success"}
    assert read(client, acme, "mia") == 404
    assert client.get("/repos/acme/internal/permissions/readers", headers=olga).status_code == 404


def test_a_users_own_teams_can_be_granted_on_their_repositories(api, client):
    alice, bob = api.user("alice"), api.user("bob")
    api.create_repo("alice", "private", alice, private=True)
    api.team("alice", "friends", ["bob"], subject_type="user")
    client.put("/repos/alice/private/permissions", json={"team": "friends", "permission": "read"}, headers=alice)
    assert client.get("/repos/alice/private", headers=bob).status_code == 200


def test_platform_administrators_may_administer_any_repository(acme, client, minter):
    root = minter.headers("root", admin=True)
    assert client.get("/repos/acme/internal", headers=root).status_code == 200
    assert client.delete("/repos/acme/internal", headers=root).status_code == 200


def test_an_invalid_token_is_refused(acme, client):
    response = client.get("/repos/acme/internal", headers={"Authorization": "Bearer not-a-token"})
    assert response.status_code == 401


def test_organizations_unknown_to_catalog_cannot_receive_repositories(api, client):
    alice = api.user("alice")
    response = client.post("/repos/nowhere/main", json={}, headers=alice)
    assert response.status_code == 404 and response.json == {"message": "Subject 'nowhere' was not found"}


def test_the_creator_of_an_organization_administers_it_until_told_otherwise(api, client):
    api.user("olga")
    api.bus.deliver("identity.org.created", {"org_id": "oid-newco", "name": "newco", "full_name": "NewCo",
                                             "owner": "olga", "owner_id": "uid-olga", "revision": 1})
    assert client.post("/repos/newco/first", json={}, headers=api.headers("olga")).status_code == 201
    api.member("newco", "olga", revision=2, event="identity.member.removed")
    assert client.post("/repos/newco/second", json={}, headers=api.headers("olga")).status_code == 403


# --- permission events (identity shows permitted_repos on team JSON from them) --------------------

def grant_events(api):
    return [(e["type"].rsplit(".", 1)[1], e["data"]["repo"], e["data"]["team"], e["data"].get("permission"),
             e["data"]["revision"])
            for e in api.events() if e["type"].startswith("catalog.permission.")]


def test_every_change_of_a_grant_is_announced_with_a_growing_revision(acme, client):
    acme.team("acme", "devs", ["mia"])
    olga = acme.headers("olga")

    def put(permission):
        return client.put("/repos/acme/internal/permissions", json={"team": "devs", "permission": permission},
                          headers=olga).status_code

    assert put("read") == 200 and put("publish") == 200 and put("publish") == 200  # the last one changes nothing
    assert client.delete("/repos/acme/internal/permissions/devs", headers=olga).status_code == 200
    assert put("admin") == 200
    assert grant_events(acme) == [("set", "internal", "devs", "read", 1), ("set", "internal", "devs", "publish", 2),
                                  ("removed", "internal", "devs", None, 3), ("set", "internal", "devs", "admin", 4)]
    [first] = acme.events("catalog.permission.set")[:1]
    assert first["subject"] == "acme/internal"
    assert first["data"] == {"owner": "acme", "repo": "internal", "team": "devs", "permission": "read", "revision": 1}


def test_deleting_a_repository_or_a_team_removes_its_grants_with_events(acme, client):
    acme.team("acme", "devs", ["mia"])
    acme.team("acme", "ops", ["max"])
    olga = acme.headers("olga")
    for team in ("devs", "ops"):
        client.put("/repos/acme/internal/permissions", json={"team": team, "permission": "read"}, headers=olga)
    assert client.delete("/repos/acme/internal", headers=olga).status_code == 200
    assert grant_events(acme)[-2:] == [("removed", "internal", "devs", None, 2),
                                       ("removed", "internal", "ops", None, 2)]
    # a repository of the same name later: revisions carry on, so identity's tombstones do not hide the new grant
    acme.create_repo("acme", "internal", olga)
    client.put("/repos/acme/internal/permissions", json={"team": "devs", "permission": "publish"}, headers=olga)
    assert grant_events(acme)[-1] == ("set", "internal", "devs", "publish", 3)
    acme.team("acme", "devs", [], revision=2, event="identity.team.deleted")
    assert grant_events(acme)[-1] == ("removed", "internal", "devs", None, 4)
    assert client.get("/repos/acme/internal/permissions", headers=olga).json == []


def test_a_refused_grant_announces_nothing(acme, client):
    acme.team("acme", "devs", ["mia"])
    assert client.put("/repos/acme/internal/permissions", json={"team": "devs", "permission": "read"},
                      headers=acme.headers("mia")).status_code == 404
    assert client.put("/repos/acme/internal/permissions", json={"team": "ghosts", "permission": "read"},
                      headers=acme.headers("olga")).status_code == 404
    assert grant_events(acme) == []
