"""Read your own writes: the access token identity mints per request carries the caller's memberships."""


def principal_of(api, login_token):
    headers = api.as_gateway(f"Bearer {login_token}")
    return api.identity.platform.verifier.verify(headers["Authorization"].split(" ", 1)[1])


def test_access_tokens_carry_orgs_teams_and_managed_teams_as_of_the_request(api):
    alice = api.user("alice")
    api.user("bob")
    api.user("carol")
    bob_login = api.login("bob")
    assert principal_of(api, bob_login).orgs == {} and principal_of(api, bob_login).teams == frozenset()

    assert api.client.post("/orgs", headers=alice, json={"name": "wonderland"}).status_code == 201
    assert api.client.post("/orgs/wonderland/members", headers=alice,
                           json={"username": "bob", "role": "admin"}).status_code == 201
    assert api.client.post("/orgs/wonderland/members", headers=alice, json={"username": "carol"}).status_code == 201
    assert api.client.post("/orgs/wonderland/teams", headers=alice,
                           json={"name": "devs", "members": ["carol"]}).status_code == 201
    assert api.client.post("/users/alice/teams", headers=alice,
                           json={"name": "friends", "members": ["bob"]}).status_code == 201

    # the same login token, the next request: the token minted for it knows at once
    bob_now = principal_of(api, bob_login)
    assert dict(bob_now.orgs) == {"wonderland": "admin"}
    assert bob_now.teams == {"alice/friends"} and bob_now.in_team("alice", "friends")
    assert bob_now.managed_teams == {"wonderland/devs"}
    carol = principal_of(api, api.login("carol"))
    assert dict(carol.orgs) == {"wonderland": "member"} and carol.teams == {"wonderland/devs"}
    assert carol.managed_teams == frozenset()
    alice_now = principal_of(api, api.login("alice"))
    assert alice_now.org_role("wonderland") == "owner"
    assert alice_now.managed_teams == {"wonderland/devs", "alice/friends"}

    # API keys carry them too, and a removal shows in the very next token
    _, key = api.api_key_headers(alice, "alice")
    assert api.client.delete("/orgs/wonderland/members/carol", headers=alice).status_code == 200
    carol_after = principal_of(api, api.login("carol"))
    assert dict(carol_after.orgs) == {} and carol_after.org_role("wonderland") is None
    by_key = api.identity.platform.verifier.verify(
        api.as_gateway(api.basic("alice", key))["Authorization"].split(" ", 1)[1])
    assert by_key.org_role("wonderland") == "owner"


def test_a_token_without_the_claims_means_unknown_not_none():
    from packyard.auth import Principal

    old = Principal.from_claims({"sub": "bob", "uid": "1"})
    assert old.orgs is None and old.teams is None and old.in_team("acme", "devs") is None
    assert old.org_role("acme") is None
