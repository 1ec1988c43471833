"""Teams of organizations and of users (Bintray's /orgs/:org/teams and /users/:user/teams)."""

import pytest


@pytest.fixture
def org(api):
    people = {name: api.user(name) for name in ("alice", "bob", "carol", "dave")}
    api.client.post("/orgs", headers=people["alice"], json={"name": "wonderland"})
    for name in ("bob", "carol"):
        api.client.post("/orgs/wonderland/members", headers=people["alice"], json={"username": name})
    return people


def test_team_lifecycle_as_bintray_clients_call_it(api, org):
    alice = org["alice"]
    # create_org_team(org, name, members, allow_repo_creation=True)
    created = api.client.post("/orgs/wonderland/teams", headers=alice,
                              json={"name": "devs", "members": ["bob", "carol"], "allow_repo_creation": True})
    assert created.status_code == 201, created.json
    assert created.json == {"name": "devs", "members": ["bob", "carol"], "permitted_repos": {},
                            "allow_repo_creation": True}
    event = api.events()[-1]
    assert event["type"] == "identity.team.created" and event["subject"] == "wonderland/devs"
    assert event["data"] == {"subject": "wonderland", "subject_type": "org", "team": "devs",
                             "members": ["bob", "carol"], "allow_repo_creation": True,
                             "revision": event["data"]["revision"]}
    # get_org_teams / get_org_team
    assert api.client.get("/orgs/wonderland/teams", headers=alice).json == {"teams": ["devs"]}
    assert api.client.get("/orgs/wonderland/teams/devs", headers=alice).json["members"] == ["bob", "carol"]
    # update_org_team(org, team, members=[...]) then (allow_repo_creation=False)
    updated = api.client.patch("/orgs/wonderland/teams/devs", headers=alice, json={"members": ["carol"]})
    assert updated.status_code == 200 and updated.json["members"] == ["carol"]
    flag = api.client.patch("/orgs/wonderland/teams/devs", headers=alice, json={"allow_repo_creation": False})
    assert flag.json == {"name": "devs", "members": ["carol"], "permitted_repos": {}, "allow_repo_creation": False}
    updates = api.event_data("identity.team.updated")
    assert [(u["members"], u["allow_repo_creation"]) for u in updates] == [(["carol"], True), (["carol"], False)]
    # delete_org_team
    deleted = api.client.delete("/orgs/wonderland/teams/devs", headers=alice)
    assert deleted.status_code == 200 and deleted.json == {"message": "success"}
    assert api.event_data("identity.team.deleted")[-1]["team"] == "devs"
    assert api.client.get("/orgs/wonderland/teams", headers=alice).json == {"teams": []}
    team_revisions = [e["revision"] for e in api.event_data() if e.get("team") == "devs"]
    assert team_revisions == sorted(set(team_revisions))


def test_a_recreated_team_carries_higher_revisions_than_the_deleted_one(api, org):
    alice = org["alice"]
    api.client.post("/orgs/wonderland/teams", headers=alice, json={"name": "devs"})
    api.client.delete("/orgs/wonderland/teams/devs", headers=alice)
    api.client.post("/orgs/wonderland/teams", headers=alice, json={"name": "devs"})
    revs = [e["revision"] for e in api.event_data() if e.get("team") == "devs"]
    assert len(revs) == 3 and revs == sorted(revs)


def test_an_unchanged_team_announces_nothing(api, org):
    alice = org["alice"]
    api.client.post("/orgs/wonderland/teams", headers=alice, json={"name": "devs", "members": ["bob"]})
    before = api.count_events()
    assert api.client.patch("/orgs/wonderland/teams/devs", headers=alice,
                            json={"members": ["bob", "bob"], "allow_repo_creation": False}).status_code == 200
    assert api.count_events() == before


@pytest.mark.parametrize("body, status, message", [
    ({"name": "devs", "members": ["dave"]}, 400, "Not members of organization 'wonderland': dave"),
    ({"name": "devs", "members": ["ghost", "bob"]}, 400, "No such user: ghost"),
    ({"name": "bad name"}, 400, None),
    ({"name": ""}, 400, None),
    ({"members": ["bob"]}, 400, None),
    ({"name": "devs", "members": "bob"}, 400, None),
    ({"name": "devs", "allow_repo_creation": "yes please"}, 400, None),
    ({"name": "DEVS"}, 409, "Team 'DEVS' already exists"),
])
def test_bad_team_input_is_refused_and_changes_nothing(api, org, body, status, message):
    api.client.post("/orgs/wonderland/teams", headers=org["alice"], json={"name": "devs"})
    before = api.count_events()
    response = api.client.post("/orgs/wonderland/teams", headers=org["alice"], json=body)
    assert response.status_code == status
    assert response.json["message"] == message if message else response.json["message"].startswith("Invalid")
    assert api.count_events() == before
    assert api.client.get("/orgs/wonderland/teams", headers=org["alice"]).json == {"teams": ["devs"]}


def test_updating_with_an_outsider_is_refused(api, org):
    alice = org["alice"]
    api.client.post("/orgs/wonderland/teams", headers=alice, json={"name": "devs", "members": ["bob"]})
    response = api.client.patch("/orgs/wonderland/teams/devs", headers=alice, json={"members": ["bob", "dave"]})
    assert response.status_code == 400
    assert api.client.get("/orgs/wonderland/teams/devs", headers=alice).json["members"] == ["bob"]
    assert api.client.patch("/orgs/wonderland/teams/nope", headers=alice, json={"members": []}).status_code == 404


def test_non_admins_cannot_tell_which_teams_exist(api, org):
    api.client.post("/orgs/wonderland/teams", headers=org["alice"], json={"name": "devs"})
    for who in ("bob", "dave"):
        for method, path in (("get", "/orgs/wonderland/teams"), ("get", "/orgs/wonderland/teams/devs"),
                             ("get", "/orgs/wonderland/teams/nope"), ("patch", "/orgs/wonderland/teams/devs"),
                             ("delete", "/orgs/wonderland/teams/nope"), ("post", "/orgs/wonderland/teams")):
            response = getattr(api.client, method)(path, headers=org[who], json={"name": "x"})
            assert response.status_code == 403, (who, method, path)
            assert response.json == {"message": "Only admins of organization 'wonderland' can do this"}
    assert api.client.get("/orgs/wonderland/teams/nope", headers=org["alice"]).json == \
        {"message": "Team 'nope' was not found"}


def test_team_members_see_their_teams(api, org):
    api.client.post("/orgs/wonderland/teams", headers=org["alice"], json={"name": "devs", "members": ["bob"]})
    api.client.post("/users/carol/teams", headers=org["carol"], json={"name": "pals", "members": ["bob", "dave"],
                                                                      "allow_repo_creation": True})
    assert api.client.get("/me/teams", headers=org["bob"]).json == [
        {"subject": "carol", "subject_type": "user", "name": "pals", "members": ["bob", "dave"],
         "permitted_repos": {}, "allow_repo_creation": True},
        {"subject": "wonderland", "subject_type": "org", "name": "devs", "members": ["bob"],
         "permitted_repos": {}, "allow_repo_creation": False},
    ]
    assert api.client.get("/me/teams", headers=org["alice"]).json == []


def test_user_teams_belong_to_that_user_alone(api, org):
    carol, bob = org["carol"], org["bob"]
    created = api.client.post("/users/carol/teams", headers=carol, json={"name": "pals", "members": ["dave"]})
    assert created.status_code == 201
    event = api.event_data("identity.team.created")[-1]
    assert event["subject"] == "carol" and event["subject_type"] == "user" and event["members"] == ["dave"]
    assert api.client.get("/users/carol/teams", headers=carol).json == {"teams": ["pals"]}
    assert api.client.patch("/users/carol/teams/pals", headers=carol, json={"members": []}).json["members"] == []
    for method, path in (("get", "/users/carol/teams"), ("get", "/users/carol/teams/pals"),
                         ("post", "/users/carol/teams"), ("patch", "/users/carol/teams/pals"),
                         ("delete", "/users/carol/teams/pals")):
        response = getattr(api.client, method)(path, headers=bob, json={"name": "mine"})
        assert response.status_code == 403, path
        assert response.json == {"message": "Only 'carol' can manage the teams of 'carol'"}
        assert getattr(api.client, method)(path, json={"name": "mine"}).status_code == 401
    assert api.client.delete("/users/carol/teams/pals", headers=carol).json == {"message": "success"}
    assert api.client.get("/users/ghost/teams", headers=carol).status_code == 404


def test_platform_administrators_read_teams_but_do_not_change_them(api, org, identity):
    from identity.models import User
    api.client.post("/orgs/wonderland/teams", headers=org["alice"], json={"name": "devs"})
    with identity.uow() as uow:
        uow.session.query(User).filter(User.username == "dave").update({"is_admin": True})
        uow.commit()
    admin = api.as_gateway(f"Bearer {api.login('dave')}")
    assert api.client.get("/orgs/wonderland/teams", headers=admin).json == {"teams": ["devs"]}
    assert api.client.get("/orgs/wonderland", headers=admin).json["teams"] == ["devs"]
    assert api.client.delete("/orgs/wonderland/teams/devs", headers=admin).status_code == 403
