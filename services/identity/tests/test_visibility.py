"""What identity's user and organization JSON shows: private repositories only to those who can read
them, no gravatar_id for hidden addresses, storage usage from catalog's events."""

import pytest


def deliver(api, type_, data):
    """Hand a catalog event to identity's consumer exactly as the worker does (inbox included)."""
    from identity.consumers import QUEUES
    from packyard.events import CloudEvent

    event = CloudEvent(type=type_, source="/catalog", data=data)
    api.identity.platform.consumer(QUEUES).process("identity.subject-counters", event.to_json().encode())


@pytest.fixture
def org(api):
    people = {name: api.user(name) for name in ("olga", "adam", "mia", "max", "eve")}
    api.client.post("/orgs", headers=people["olga"], json={"name": "acme"})
    api.client.post("/orgs/acme/members", headers=people["olga"], json={"username": "adam", "role": "admin"})
    for name in ("mia", "max"):
        api.client.post("/orgs/acme/members", headers=people["olga"], json={"username": name})
    api.client.post("/orgs/acme/teams", headers=people["olga"], json={"name": "readers", "members": ["mia"]})
    api.client.post("/users/eve/teams", headers=people["eve"], json={"name": "readers", "members": ["max"]})
    for repo, private in (("public", False), ("secret", True), ("hidden", True)):
        deliver(api, "catalog.repo.created", {"owner": "acme", "repo": repo, "private": private, "revision": 1})
    deliver(api, "catalog.permission.set", {"owner": "acme", "repo": "secret", "team": "readers",
                                            "permission": "read", "revision": 1})
    return people


def test_an_organizations_private_repositories_are_listed_only_to_who_can_read_them(api, org):
    def repos(viewer):
        return api.client.get("/orgs/acme", headers=org[viewer] if viewer else None).json["repos"]

    assert repos("olga") == repos("adam") == ["hidden", "public", "secret"]
    assert repos("mia") == ["public", "secret"]  # her team was granted read on "secret"
    assert repos("max") == ["public"]  # a plain member; another subject's team of the same name counts for nothing
    assert repos("eve") == repos(None) == ["public"]


def test_gravatar_id_is_absent_when_the_email_address_is_hidden(api):
    alice, _bob = api.user("alice"), api.user("bob")
    assert "gravatar_id" not in api.client.get("/users/alice", headers=_bob).json
    assert "gravatar_id" not in api.client.get("/users/alice").json
    assert "gravatar_id" in api.client.get("/users/alice", headers=alice).json
    api.client.patch("/me/profile", headers=alice, json={"show_email": True})
    shown = api.client.get("/users/alice", headers=_bob).json
    assert shown["gravatar_id"] == "c160f8cc69a4f0bf2b0362752353d060" and shown["email"] == "alice@example.com"


def test_quota_used_bytes_follows_catalogs_usage_events(api, org):
    deliver(api, "catalog.usage.changed", {"owner": "olga", "used_bytes": 2048, "revision": 2})
    deliver(api, "catalog.usage.changed", {"owner": "olga", "used_bytes": 1024, "revision": 1})  # late: ignored
    deliver(api, "catalog.usage.changed", {"owner": "acme", "used_bytes": 5_000_000_000, "revision": 7})
    assert api.client.get("/users/olga", headers=org["olga"]).json["quota_used_bytes"] == 2048
    assert "quota_used_bytes" not in api.client.get("/users/olga", headers=org["mia"]).json
    assert api.client.get("/orgs/acme", headers=org["adam"]).json["quota_used_bytes"] == 5_000_000_000
    assert "quota_used_bytes" not in api.client.get("/orgs/acme", headers=org["mia"]).json
