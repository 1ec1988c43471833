"""Authenticated reads on the lean path: the token's claims decide the caller's level on a repository
without catalog's replica where they can (``access.level_for``), and decide it as the replica would."""

from __future__ import annotations

import pytest

from packyard.testing import statements


@pytest.fixture
def acme(api):
    """Organization 'acme' (owner olga, admin adam, members mia and max) with a private repository, and
    olga's own private repository; a package in each."""
    for name in ("olga", "adam", "mia", "max", "outsider"):
        api.user(name)
    api.org("acme", "olga", members=["mia", "max"], admins=["adam"])
    api.team("acme", "readers", ["mia", "outsider"])
    for owner in ("acme", "olga"):
        api.create_repo(owner, "internal", api.headers("olga"), private=True)
        api.create_package(owner, "internal", "lib", api.headers("olga"))
    response = api.client.put("/repos/acme/internal/permissions", json={"team": "readers", "permission": "read"},
                              headers=api.headers("olga"))
    assert response.status_code == 200, response.json
    return api


def claims(username, orgs=None, teams=()):
    return {"orgs": orgs or {}, "teams": list(teams), "managed_teams": []}


def read(api, owner, headers):
    with statements() as seen:
        response = api.client.get(f"/packages/{owner}/internal/lib", headers=headers)
    return response, seen


def test_an_owner_or_an_organization_admin_reads_in_one_statement_as_anonymous_callers_do(acme, client):
    # an anonymous read of a public package is one statement on PostgreSQL (queries.get_package)
    for owner, username, orgs in (("olga", "olga", {"acme": "owner"}), ("acme", "olga", {"acme": "owner"}),
                                  ("acme", "adam", {"acme": "admin"})):
        response, seen = read(acme, owner, acme.headers(username, **claims(username, orgs)))
        assert response.status_code == 200, response.json
        assert response.json["name"] == "lib"
        assert len(seen) == 1, seen


def test_a_team_grant_read_from_the_claims_costs_one_statement_more(acme, client):
    response, seen = read(acme, "acme", acme.headers("mia", **claims("mia", {"acme": "member"}, ["acme/readers"])))
    assert response.status_code == 200, response.json
    assert len(seen) == 2, seen  # the package, the repository's grants


@pytest.mark.parametrize(("username", "token_claims", "status"), [
    ("mia", claims("mia", {"acme": "member"}, ["acme/readers"]), 200),  # a member in a granted team
    ("mia", None, 200),  # no claims: the replica decides, the same way
    ("max", claims("max", {"acme": "member"}), 404),  # a member in no granted team
    ("max", claims("max", {"acme": "member"}, ["acme/readers"]), 200),  # in the team a moment ago
    ("mia", claims("mia", {"acme": "member"}), 404),  # out of the team a moment ago
    ("outsider", claims("outsider", {}, ["acme/readers"]), 404),  # in the team, not in the organization
    ("outsider", None, 404),
    ("mia", claims("mia", {}, ["acme/readers"]), 404),  # left the organization a moment ago
    ("adam", claims("adam", {"acme": "member"}), 404),  # demoted a moment ago
    ("adam", None, 200),
    ("olga", claims("olga", {}), 404),  # left her organization a moment ago
])
def test_claims_decide_a_read_as_the_replica_would(acme, client, username, token_claims, status):
    headers = acme.headers(username, **(token_claims or {}))
    response = client.get("/packages/acme/internal/lib", headers=headers)
    assert response.status_code == status, response.json


def test_a_users_own_team_granted_on_their_repository_reads_it(acme, client):
    acme.team("olga", "friends", ["max"], subject_type="user")
    response = client.put("/repos/olga/internal/permissions", json={"team": "friends", "permission": "read"},
                          headers=acme.headers("olga"))
    assert response.status_code == 200, response.json
    max_ = acme.headers("max", **claims("max", {"acme": "member"}, ["olga/friends"]))
    assert client.get("/packages/olga/internal/lib", headers=max_).status_code == 200
    assert client.get("/packages/olga/internal/lib", headers=acme.headers("max", **claims("max"))).status_code == 404
