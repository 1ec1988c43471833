"""Organizations and their members: Bintray's org JSON, roles, and the events catalog builds on."""

import pytest


@pytest.fixture
def org(api):
    """wonderland, owned by alice, with bob as a member; returns everyone's gateway headers."""
    people = {name: api.user(name) for name in ("alice", "bob", "carol")}
    assert api.client.post("/orgs", headers=people["alice"], json={
        "name": "wonderland", "full_name": "Wonderland", "desc": "Curiouser", "website": "https://w.example.org"},
    ).status_code == 201
    assert api.client.post("/orgs/wonderland/members", headers=people["alice"],
                           json={"username": "bob"}).status_code == 201
    return people


def revisions(api):
    return [e["revision"] for e in api.event_data() if "revision" in e and e.get("org_id", e.get("subject"))]


def test_creating_an_organization_makes_me_its_owner(api):
    me = api.user("alice")
    response = api.client.post("/orgs", headers=me, json={"name": "wonderland", "full_name": "Wonderland",
                                                          "desc": "Curiouser", "website": "https://w.example.org"})
    assert response.status_code == 201, response.json
    body = response.json
    assert list(body)[:9] == ["name", "full_name", "owner", "repos", "followers_count", "registered", "members",
                              "teams", "quota_used_bytes"]
    assert body["owner"] == "alice" and body["members"] == [{"name": "alice", "type": "owner"}]
    assert body["teams"] == [] and body["repos"] == [] and body["desc"] == "Curiouser"
    created, added = api.events()[-2:]
    assert created["type"] == "identity.org.created" and created["subject"] == "wonderland"
    assert created["data"] == {"org_id": created["data"]["org_id"], "name": "wonderland", "full_name": "Wonderland",
                               "owner": "alice", "owner_id": added["data"]["user_id"], "revision": 1}
    assert added["type"] == "identity.member.added"
    assert added["data"]["role"] == "owner" and added["data"]["revision"] == 2 and added["data"]["org"] == "wonderland"
    assert api.client.get("/me/orgs", headers=me).json == [
        {"name": "wonderland", "full_name": "Wonderland", "role": "owner"}]


def test_users_and_organizations_share_one_namespace(api):
    me = api.user("alice")
    api.signup("bob")
    assert api.client.post("/orgs", headers=me, json={"name": "BOB"}).status_code == 409
    assert api.client.post("/orgs", headers=me, json={"name": "wonderland"}).status_code == 201
    assert api.client.post("/orgs", headers=me, json={"name": "Wonderland"}).status_code == 409
    signup = api.client.post("/auth/signup", json={"username": "WONDERLAND", "email": "w@example.com",
                                                   "password": api.PASSWORD})
    assert signup.status_code == 409 and signup.json == {"message": "The name 'WONDERLAND' is already taken"}
    assert api.client.get("/users/wonderland").status_code == 404


@pytest.mark.parametrize("body", [{}, {"name": "x"}, {"name": "bad name"}, {"name": "admin"},
                                  {"name": "ok-name", "website": "javascript:x"}, {"name": "ok-name", "desc": 5}])
def test_bad_organization_input_answers_400_and_creates_nothing(api, body):
    me = api.user("alice")
    before = api.count_events()
    response = api.client.post("/orgs", headers=me, json=body)
    assert response.status_code == 400 and response.json["message"].startswith("Invalid request")
    assert api.count_events() == before and api.rows("orgs") == []


def test_organization_endpoints_need_authentication(api, org):
    for method, path in (("post", "/orgs"), ("patch", "/orgs/wonderland"), ("delete", "/orgs/wonderland"),
                         ("post", "/orgs/wonderland/members"), ("patch", "/orgs/wonderland/members/bob"),
                         ("delete", "/orgs/wonderland/members/bob"), ("get", "/orgs/wonderland/teams"),
                         ("post", "/orgs/wonderland/teams"), ("get", "/orgs/wonderland/teams/x")):
        response = getattr(api.client, method)(path, json={"name": "x", "role": "admin", "username": "carol"})
        assert response.status_code == 401, path
        assert response.json == {"message": "This resource requires authentication"}


def test_only_admins_see_member_roles_teams_and_quota(api, org):
    api.client.post("/orgs/wonderland/teams", headers=org["alice"], json={"name": "devs"})
    for viewer in (None, org["bob"], org["carol"]):
        seen = api.client.get("/orgs/wonderland", headers=viewer).json
        assert seen["members"] == [{"name": "alice"}, {"name": "bob"}]
        assert "teams" not in seen and "quota_used_bytes" not in seen
        assert seen["owner"] == "alice" and seen["full_name"] == "Wonderland"
    api.client.patch("/orgs/wonderland/members/bob", headers=org["alice"], json={"role": "admin"})
    seen = api.client.get("/orgs/wonderland", headers=org["bob"]).json
    assert seen["members"] == [{"name": "alice", "type": "owner"}, {"name": "bob", "type": "admin"}]
    assert seen["teams"] == ["devs"]
    assert api.client.get("/orgs/nowhere").json == {"message": "Organization 'nowhere' was not found"}
    assert api.client.get("/users/bob").json["organizations"] == ["wonderland"]


def test_admins_update_the_organization_and_others_may_not(api, org):
    for outsider in (org["bob"], org["carol"]):
        refused = api.client.patch("/orgs/wonderland", headers=outsider, json={"full_name": "Mine"})
        assert refused.status_code == 403
        assert refused.json == {"message": "Only admins of organization 'wonderland' can do this"}
    before = api.count_events()
    assert api.client.patch("/orgs/wonderland", headers=org["alice"], json={"full_name": "Wonderland"}).json[
        "full_name"] == "Wonderland"
    assert api.count_events() == before  # nothing changed, nothing announced
    response = api.client.patch("/orgs/wonderland", headers=org["alice"],
                                json={"full_name": "Wonderland Ltd", "desc": "", "website": ""})
    assert response.status_code == 200 and response.json["full_name"] == "Wonderland Ltd"
    [event] = api.event_data("identity.org.updated")
    assert event["name"] == "wonderland" and event["full_name"] == "Wonderland Ltd" and event["revision"] == 4
    bad = api.client.patch("/orgs/wonderland", headers=org["alice"], json={"website": "not a url"})
    assert bad.status_code == 400
    assert api.client.get("/orgs/wonderland").json["website"] == ""


def test_members_are_added_by_admins_only(api, org):
    refused = api.client.post("/orgs/wonderland/members", headers=org["bob"], json={"username": "carol"})
    assert refused.status_code == 403
    response = api.client.post("/orgs/wonderland/members", headers=org["alice"],
                               json={"username": "carol", "role": "admin"})
    assert response.status_code == 201 and response.json == {"name": "carol", "type": "admin"}
    event = api.event_data("identity.member.added")[-1]
    assert event["username"] == "carol" and event["role"] == "admin" and event["org"] == "wonderland"
    assert api.client.post("/orgs/wonderland/members", headers=org["carol"],
                           json={"username": "bob"}).status_code == 409
    assert api.client.post("/orgs/wonderland/members", headers=org["carol"],
                           json={"username": "ghost"}).json == {"message": "User 'ghost' was not found"}
    owner = api.client.post("/orgs/wonderland/members", headers=org["alice"],
                            json={"username": "dave", "role": "owner"})
    assert owner.status_code == 400 and "must be admin or member" in owner.json["message"]


def test_only_owners_make_and_unmake_owners_and_one_always_remains(api, org):
    alice, bob = org["alice"], org["bob"]
    assert api.client.patch("/orgs/wonderland/members/bob", headers=bob, json={"role": "admin"}).status_code == 403
    assert api.client.patch("/orgs/wonderland/members/bob", headers=alice,
                            json={"role": "admin"}).json == {"name": "bob", "type": "admin"}
    assert api.client.patch("/orgs/wonderland/members/bob", headers=bob, json={"role": "owner"}).status_code == 403
    assert api.client.patch("/orgs/wonderland/members/alice", headers=bob,
                            json={"role": "member"}).status_code == 403
    last = api.client.patch("/orgs/wonderland/members/alice", headers=alice, json={"role": "admin"})
    assert last.status_code == 409 and "last owner" in last.json["message"]
    assert api.client.patch("/orgs/wonderland/members/bob", headers=alice, json={"role": "owner"}).status_code == 200
    assert api.client.patch("/orgs/wonderland/members/alice", headers=bob, json={"role": "member"}).status_code == 200
    roles = [(e["username"], e["role"]) for e in api.event_data("identity.member.role_changed")]
    assert roles == [("bob", "admin"), ("bob", "owner"), ("alice", "member")]
    assert api.client.get("/orgs/wonderland").json["owner"] == "bob"
    assert api.client.patch("/orgs/wonderland/members/carol", headers=bob,
                            json={"role": "admin"}).json["message"] == \
        "User 'carol' is not a member of organization 'wonderland'"
    assert api.client.patch("/orgs/wonderland/members/alice", headers=bob,
                            json={"role": "king"}).status_code == 400


def test_removing_members_and_leaving(api, org):
    alice, bob, carol = org["alice"], org["bob"], org["carol"]
    api.client.post("/orgs/wonderland/members", headers=alice, json={"username": "carol"})
    assert api.client.delete("/orgs/wonderland/members/carol", headers=bob).status_code == 403
    assert api.client.delete("/orgs/wonderland/members/alice", headers=bob).status_code == 403
    api.client.patch("/orgs/wonderland/members/bob", headers=alice, json={"role": "admin"})
    refused = api.client.delete("/orgs/wonderland/members/alice", headers=bob)
    assert refused.status_code == 403 and refused.json["message"] == \
        "Only owners of organization 'wonderland' can remove an owner"
    assert api.client.delete("/orgs/wonderland/members/carol", headers=bob).json == {"message": "success"}
    assert api.client.delete("/orgs/wonderland/members/bob", headers=bob).json == {"message": "success"}  # leaves
    alone = api.client.delete("/orgs/wonderland/members/alice", headers=alice)
    assert alone.status_code == 409 and "last owner" in alone.json["message"]
    removed = [e["username"] for e in api.event_data("identity.member.removed")]
    assert removed == ["carol", "bob"]
    assert api.client.get("/me/orgs", headers=bob).json == []
    assert api.client.delete("/orgs/wonderland/members/carol", headers=carol).status_code == 404


def test_a_removed_member_leaves_the_organizations_teams(api, org):
    alice = org["alice"]
    api.client.post("/orgs/wonderland/teams", headers=alice, json={"name": "devs", "members": ["alice", "bob"]})
    api.client.delete("/orgs/wonderland/members/bob", headers=alice)
    update, removal = api.events()[-2:]
    assert update["type"] == "identity.team.updated" and update["data"]["members"] == ["alice"]
    assert removal["type"] == "identity.member.removed"
    assert update["data"]["revision"] < removal["data"]["revision"]
    assert api.client.get("/orgs/wonderland/teams/devs", headers=alice).json["members"] == ["alice"]


def test_revisions_keep_growing_across_removal_and_re_adding(api, org):
    alice = org["alice"]
    api.client.delete("/orgs/wonderland/members/bob", headers=alice)
    api.client.post("/orgs/wonderland/members", headers=alice, json={"username": "bob"})
    bob_events = [e for e in api.event_data() if e.get("username") == "bob" and "org_id" in e]
    assert [e["revision"] for e in bob_events] == sorted({e["revision"] for e in bob_events})
    org_revisions = [e["revision"] for e in api.event_data() if e.get("org") == "wonderland"
                     or e.get("name") == "wonderland" or e.get("subject") == "wonderland"]
    assert org_revisions == list(range(1, len(org_revisions) + 1))


def test_owners_delete_an_organization_and_its_name_is_retired(api, org):
    alice = org["alice"]
    api.client.post("/orgs/wonderland/teams", headers=alice, json={"name": "devs", "members": ["bob"]})
    api.client.patch("/orgs/wonderland/members/bob", headers=alice, json={"role": "admin"})
    assert api.client.delete("/orgs/wonderland", headers=org["bob"]).status_code == 403
    assert api.client.delete("/orgs/wonderland", headers=org["carol"]).status_code == 403
    response = api.client.delete("/orgs/wonderland", headers=alice)
    assert response.status_code == 200 and response.json == {"message": "success"}
    tail = [(e["type"], e["data"].get("team") or e["data"].get("username") or e["data"]["name"])
            for e in api.events()[-4:]]
    assert tail == [("identity.team.deleted", "devs"), ("identity.member.removed", "alice"),
                    ("identity.member.removed", "bob"), ("identity.org.deleted", "wonderland")]
    assert api.client.get("/orgs/wonderland").status_code == 404
    assert api.client.get("/me/orgs", headers=org["bob"]).json == []
    assert api.client.post("/orgs", headers=alice, json={"name": "wonderland"}).status_code == 409


def test_an_organization_with_repositories_is_not_deleted(api, org, identity):
    from identity.models import SubjectRepo
    with identity.uow() as uow:
        uow.session.add(SubjectRepo(subject="wonderland", repo="maven", private=False))
        uow.commit()
    response = api.client.delete("/orgs/wonderland", headers=org["alice"])
    assert response.status_code == 409 and "repositories" in response.json["message"]
    assert api.client.get("/orgs/wonderland").json["repos"] == ["maven"]
