import pytest

from social.filters import UnsafePattern, check_pattern, release_matches


@pytest.fixture
def acme(world):
    world.user("alice")
    world.org("acme", owner="alice")
    world.repo("acme", "maven")
    world.package("acme", "maven", "widget")
    world.repo("acme", "secret", private=True)
    world.package("acme", "secret", "gizmo", private=True)
    return world


def test_watching_a_package_with_a_filter_lists_it_and_publishes_the_watch(acme, client):
    bob = acme.user("bob")
    body = {"filter": {"kind": "regex", "pattern": r"^2\.\d+\.\d+$"}}
    response = client.put("/me/watches/acme/maven/widget", json=body, headers=bob)
    assert response.status_code == 200, response.json
    assert response.json["filter"] == {"kind": "regex", "pattern": r"^2\.\d+\.\d+$"}
    assert client.put("/me/watches/acme/maven/widget", json=body, headers=bob).status_code == 200
    [mine] = client.get("/me/watches", headers=bob).json
    assert (mine["owner"], mine["repo"], mine["package"]) == ("acme", "maven", "widget")
    assert [w["name"] for w in client.get("/packages/acme/maven/widget/watchers").json] == ["bob"]
    [started] = acme.published("social.watch.started")
    assert started == {"username": "bob", "owner": "acme", "repo": "maven", "package": "widget", "private": False,
                       "filter": {"kind": "regex", "pattern": r"^2\.\d+\.\d+$"}, "watchers_count": 1,
                       "revision": 1, "count_revision": 1}
    # changing the filter re-publishes watch.started with a higher revision, the count unchanged
    client.put("/me/watches/acme/maven/widget", json={"filter": {"kind": "stable"}}, headers=bob)
    again = acme.published("social.watch.started")[-1]
    assert again["revision"] == 2 and again["watchers_count"] == 1 and again["filter"]["kind"] == "stable"
    assert client.delete("/me/watches/acme/maven/widget", headers=bob).status_code == 204
    assert client.delete("/me/watches/acme/maven/widget", headers=bob).status_code == 204
    [stopped] = acme.published("social.watch.stopped")
    assert stopped["reason"] == "unwatched" and stopped["watchers_count"] == 0 and stopped["revision"] == 3
    assert client.get("/me/watches", headers=bob).json == []


def test_a_watch_without_a_body_watches_every_release(acme, client):
    bob = acme.user("bob")
    assert client.put("/me/watches/acme/maven/widget", headers=bob).json["filter"] == {"kind": "all",
                                                                                       "pattern": None}


@pytest.mark.parametrize("pattern, reason", [
    ("(a+)+$", "repetition"), ("(1|1.0)*x", "alternation"), (r"(\d)\1", "backreferences"),
    ("(?=1)", "lookahead"), ("x" * 201, "longer than 200"), ("[", "not a valid"), (".*.*.*.*", "at most 3"),
    ("", "needs a pattern")])
def test_unsafe_or_invalid_regexes_are_refused(acme, client, pattern, reason):
    bob = acme.user("bob")
    response = client.put("/me/watches/acme/maven/widget", json={"filter": {"kind": "regex", "pattern": pattern}},
                          headers=bob)
    assert response.status_code == 422 or response.status_code == 400
    assert reason in response.json["message"], response.json
    assert acme.published() == []


def test_bad_watch_requests(acme, client):
    bob = acme.user("bob")
    assert client.put("/me/watches/acme/maven/widget").status_code == 401
    assert client.put("/me/watches/acme/maven/nothing", headers=bob).status_code == 404
    assert client.put("/me/watches/acme/nothing/widget", headers=bob).status_code == 404
    assert client.put("/me/watches/acme/maven/widget", json={"filter": {"kind": "weekly"}},
                      headers=bob).status_code in (400, 422)
    # a private package does not exist for a stranger
    response = client.put("/me/watches/acme/secret/gizmo", headers=bob)
    assert response.status_code == 404 and response.json == {"message": "Package 'gizmo' was not found"}
    assert client.get("/packages/acme/secret/gizmo/watchers").status_code == 404
    assert client.get("/packages/acme/secret/gizmo/watchers", headers=bob).status_code == 404
    assert acme.published() == []


def test_a_watcher_who_loses_read_access_stops_watching(acme, client):
    bob = acme.user("bob")
    acme.member("acme", "bob")
    acme.team("acme", "readers", ["bob"])
    acme.permission("acme", "secret", "readers", "read")
    assert client.put("/me/watches/acme/secret/gizmo", headers=bob).status_code == 200
    assert acme.published("social.watch.started")[0]["private"] is True
    assert [w["name"] for w in client.get("/packages/acme/secret/gizmo/watchers", headers=bob).json] == ["bob"]

    acme.team("acme", "readers", [])  # bob leaves the team
    [stopped] = acme.published("social.watch.stopped")
    assert stopped["reason"] == "access_lost" and stopped["username"] == "bob" and stopped["watchers_count"] == 0
    assert client.get("/me/watches", headers=bob).json == []
    assert client.get("/packages/acme/secret/gizmo/watchers", headers=acme.headers("alice")).json == []


@pytest.mark.parametrize("take_away", ["permission", "member", "private"])
def test_every_way_of_losing_access_ends_the_watch(acme, client, take_away):
    bob = acme.user("bob")
    acme.member("acme", "bob")
    acme.team("acme", "readers", ["bob"])
    acme.repo("acme", "maven", private=False, kind="updated")
    acme.permission("acme", "maven", "readers", "read")
    client.put("/me/watches/acme/maven/widget", headers=bob)
    if take_away == "permission":
        acme.repo("acme", "maven", private=True, kind="updated")
        assert acme.published("social.watch.stopped") == []  # still a reader through the team
        acme.permission("acme", "maven", "readers")
    elif take_away == "member":
        acme.repo("acme", "maven", private=True, kind="updated")
        acme.member("acme", "bob", removed=True)
    else:
        acme.permission("acme", "maven", "readers")
        assert acme.published("social.watch.stopped") == []  # public: anyone reads it
        acme.repo("acme", "maven", private=True, kind="updated")
    [stopped] = acme.published("social.watch.stopped")
    assert stopped["reason"] == "access_lost"


def test_deleting_the_package_ends_its_watches(acme, client):
    bob = acme.user("bob")
    client.put("/me/watches/acme/maven/widget", headers=bob)
    acme.package("acme", "maven", "widget", kind="deleted")
    [stopped] = acme.published("social.watch.stopped")
    assert stopped["reason"] == "package_deleted"
    assert client.get("/packages/acme/maven/widget/watchers").status_code == 404


@pytest.mark.parametrize("kind, pattern, wanted, unwanted", [
    ("all", None, ["1.0.0", "2.0.0-rc1"], []),
    ("stable", None, ["1.0.0", "1.2.3", "2.0"], ["2.0.0-rc1", "1.0rc1", "1.0.dev3", "3.0-beta", "1.0a1",
                                                "4.0.0-alpha.1", "1.0-SNAPSHOT"]),
    ("major", None, ["1.0.0", "2.0", "3"], ["1.1.0", "1.0.1", "2.0.0-rc1"]),
    ("regex", r"^2\.", ["2.0.0", "2.9"], ["1.2.0", "12.0"]),
])
def test_release_filters(kind, pattern, wanted, unwanted):
    assert all(release_matches(kind, pattern, v) for v in wanted)
    assert not any(release_matches(kind, pattern, v) for v in unwanted)


def test_the_patterns_allowed_stay_fast_on_hostile_version_names():
    import time
    hostile = "1" * 128 + "!"
    for pattern in (r"^(\d+\.)*\d+$".replace("*", "{0,16}"), r"^\d+\.\d+.*x$", r"[0-9]+[0-9]+[0-9]+$"):
        try:
            check_pattern(pattern)
        except UnsafePattern:
            continue
        started = time.perf_counter()
        release_matches("regex", pattern, hostile)
        assert time.perf_counter() - started < 0.1, pattern


def test_the_callers_token_counts_where_the_replica_lags(acme, client):
    """Read your own writes: identity's token says bob is an admin of acme before social heard of it."""
    bob = acme.user("bob")
    assert client.put("/me/watches/acme/secret/gizmo", headers=bob).status_code == 404
    as_admin = acme.minter.headers("bob", user_id=__import__("uuid").uuid5(
        __import__("uuid").NAMESPACE_URL, "bob").__str__(), orgs={"acme": "admin"})
    assert client.get("/packages/acme/secret/gizmo/watchers", headers=as_admin).status_code == 200
    as_member = acme.minter.headers("bob", orgs={"acme": "member"}, teams=["acme/readers"])
    acme.permission("acme", "secret", "readers", "read")
    assert client.get("/packages/acme/secret/gizmo/reviews", headers=as_member).status_code == 200
