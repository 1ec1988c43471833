"""The pages where owners manage what they own: an organization's GPG key and teams, replies to reviews,
watch filters — against a stand-in API (the browser tests drive them through a whole platform)."""

from __future__ import annotations

import json

from .conftest import csrf_of


def _sent(stand_in, method: str, path: str) -> list[dict]:
    return [json.loads(r["body"] or b"null") for r in stand_in.requests if (r["method"], r["path"]) == (method, path)]


def test_an_organizations_gpg_key_page_calls_the_organizations_key_and_says_who_may(logged_in, stand_in):
    stand_in.on("GET", "/orgs/acme/keys/gpg", status=404, body={"message": "'acme' has no GPG key"})
    page = logged_in.get("/ui/settings/orgs/acme/gpg")
    html = page.data.decode()
    assert page.status_code == 200 and "acme has no GPG key" in html and 'action="/ui/settings/orgs/acme/gpg"' in html
    stand_in.on("PUT", "/orgs/acme/keys/gpg", status=400, body={"message": "Invalid request: public_key: not a key"})
    refused = logged_in.post("/ui/settings/orgs/acme/gpg", data={"public_key": "junk", "private_key": "",
                                                                 "csrf_token": csrf_of(page.data)})
    assert refused.status_code == 400 and 'id="e-public_key">Not a key.' in refused.data.decode()
    assert _sent(stand_in, "PUT", "/orgs/acme/keys/gpg") == [{"public_key": "junk"}], "no empty private key"
    assert not _sent(stand_in, "PUT", "/me/keys/gpg")
    stand_in.on("GET", "/orgs/acme/keys/gpg", status=403,
                body={"message": "Only the owners and admins of 'acme' may manage its GPG key"})
    other = logged_in.get("/ui/settings/orgs/acme/gpg")
    assert other.status_code == 403 and "Only the owners and admins of &#39;acme&#39;" in other.data.decode()


def _team(stand_in, grants: dict[str, list]) -> None:
    stand_in.on("GET", "/orgs/acme/teams/builders", body={"name": "builders", "members": ["bob"],
                                                          "permitted_repos": {}, "allow_repo_creation": False})
    stand_in.on("GET", "/repos/acme", body=[{"name": name, "owner": "acme"} for name in grants])
    for name, granted in grants.items():
        stand_in.on("GET", f"/repos/acme/{name}/permissions", body=granted)


def test_saving_a_team_sends_its_members_and_only_the_permissions_that_were_changed(logged_in, stand_in):
    _team(stand_in, {"tools": [{"team": "builders", "permission": "read"}],
                     "docs": [{"team": "others", "permission": "admin"}],
                     "site": [{"team": "builders", "permission": "publish"}]})
    page = logged_in.get("/ui/settings/orgs/acme/teams/builders")
    html = page.data.decode()
    assert page.status_code == 200 and ">bob</textarea>" in html
    assert '<option value="read" selected>' in html and '<option value="publish" selected>' in html
    stand_in.on("PATCH", "/orgs/acme/teams/builders", body={"name": "builders"})
    stand_in.on("PUT", "/repos/acme/tools/permissions", body={"message": "success"})
    stand_in.on("DELETE", "/repos/acme/site/permissions/builders", body={"message": "success"})
    saved = logged_in.post("/ui/settings/orgs/acme/teams/builders", data={
        "members": "bob, carol\ndave", "allow_repo_creation": "on", "csrf_token": csrf_of(page.data),
        "perm:tools": "admin", "was:tools": "read", "perm:docs": "", "was:docs": "",
        "perm:site": "", "was:site": "publish"})
    assert saved.status_code == 303 and saved.headers["Location"] == "/ui/settings/orgs/acme/teams/builders"
    assert _sent(stand_in, "PATCH", "/orgs/acme/teams/builders") == [
        {"members": ["bob", "carol", "dave"], "allow_repo_creation": True}]
    assert _sent(stand_in, "PUT", "/repos/acme/tools/permissions") == [{"team": "builders", "permission": "admin"}]
    deleted = [r["path"] for r in stand_in.requests if r["method"] == "DELETE"]
    assert deleted == ["/repos/acme/site/permissions/builders"]
    assert not [r for r in stand_in.requests if r["path"].startswith("/repos/acme/docs/permissions")
                and r["method"] != "GET"], "an unchanged permission is left alone"


def test_a_refused_team_change_shows_the_apis_message_and_keeps_what_was_typed(logged_in, stand_in):
    _team(stand_in, {"tools": []})
    page = logged_in.get("/ui/settings/orgs/acme/teams/builders")
    stand_in.on("PATCH", "/orgs/acme/teams/builders", status=400,
                body={"message": "Not members of organization 'acme': mallory"})
    refused = logged_in.post("/ui/settings/orgs/acme/teams/builders", data={
        "members": "bob mallory", "perm:tools": "publish", "was:tools": "", "csrf_token": csrf_of(page.data)})
    html = refused.data.decode()
    assert refused.status_code == 400 and 'id="e-members">Not members of organization &#39;acme&#39;: mallory.' in html
    assert ">bob mallory</textarea>" in html and '<option value="publish" selected>' in html
    assert not _sent(stand_in, "PUT", "/repos/acme/tools/permissions"), "nothing else is sent after a refusal"
    stand_in.on("PATCH", "/orgs/acme/teams/builders", body={"name": "builders"})
    stand_in.on("PUT", "/repos/acme/tools/permissions", status=404, body={"message": "Team 'builders' was not found"})
    partly = logged_in.post("/ui/settings/orgs/acme/teams/builders", data={
        "members": "bob", "perm:tools": "publish", "was:tools": "", "csrf_token": csrf_of(page.data)})
    assert partly.status_code == 400 and "tools: Team &#39;builders&#39; was not found" in partly.data.decode()


def test_deleting_a_team_asks_first(logged_in, stand_in):
    _team(stand_in, {})
    page = logged_in.get("/ui/settings/orgs/acme/teams/builders")
    stand_in.on("DELETE", "/orgs/acme/teams/builders", body={"message": "success"})
    asked = logged_in.post("/ui/settings/orgs/acme/teams/builders/delete", data={"csrf_token": csrf_of(page.data)})
    assert asked.status_code == 200 and 'id="team-delete-confirm"' in asked.data.decode()
    assert not [r for r in stand_in.requests if r["method"] == "DELETE"]
    done = logged_in.post("/ui/settings/orgs/acme/teams/builders/delete",
                          data={"confirm": "builders", "csrf_token": csrf_of(page.data)})
    assert done.status_code == 303 and done.headers["Location"] == "/ui/settings/orgs/acme/teams"
    assert [r["path"] for r in stand_in.requests if r["method"] == "DELETE"] == ["/orgs/acme/teams/builders"]


def test_a_refused_watch_filter_is_shown_on_its_row_of_the_watched_list(logged_in, stand_in):
    stand_in.on("GET", "/me/watches", body=[
        {"owner": "bob", "repo": "tools", "package": "saw", "filter": {"kind": "all", "pattern": None}},
        {"owner": "bob", "repo": "tools", "package": "drill", "filter": {"kind": "stable", "pattern": None}}])
    page = logged_in.get("/ui/watches")
    assert page.status_code == 200 and page.data.decode().count('name="back" value="watches"') == 2
    stand_in.on("PUT", "/me/watches/bob/tools/drill", status=400,
                body={"message": "Invalid request: filter.pattern: not a valid regular expression: missing )"})
    refused = logged_in.post("/ui/packages/bob/tools/drill/watch", data={
        "back": "watches", "action": "watch", "kind": "regex", "pattern": "(2", "csrf_token": csrf_of(page.data)})
    html = refused.data.decode()
    assert refused.status_code == 400
    assert 'id="pattern-error-2" role="alert">Not a valid regular expression: missing ).' in html
    assert 'id="pattern-2" name="pattern" value="(2"' in html and 'id="pattern-error-1"' not in html
    assert _sent(stand_in, "PUT", "/me/watches/bob/tools/drill") == [{"filter": {"kind": "regex", "pattern": "(2"}}]
    stand_in.on("PUT", "/me/watches/bob/tools/drill", body={"owner": "bob"})
    saved = logged_in.post("/ui/packages/bob/tools/drill/watch", data={
        "back": "watches", "action": "watch", "kind": "major", "pattern": "(2", "csrf_token": csrf_of(page.data)})
    assert saved.status_code == 303 and saved.headers["Location"] == "/ui/watches"
    assert _sent(stand_in, "PUT", "/me/watches/bob/tools/drill")[-1] == {"filter": {"kind": "major"}}


def _package(stand_in, reviews: list[dict]) -> None:
    stand_in.on("GET", "/packages/ann/tools/saw", body={"name": "saw", "owner": "ann", "repo": "tools",
                                                        "versions": [], "public_stats": True})
    stand_in.on("GET", "/packages/ann/tools/saw/reviews", body={"rating": 4.0, "rating_count": 1, "reviews": reviews})


def test_the_owner_replies_to_a_review_and_a_refusal_shows_beside_it(logged_in, stand_in):
    _package(stand_in, [{"id": 7, "username": "bob", "rating": 4, "title": "Fine", "body": "Cuts", "reply": None},
                        {"id": 8, "username": "cy", "rating": 5, "body": "Great",
                         "reply": {"username": "ann", "body": "Thanks"}}])
    page = logged_in.get("/ui/packages/ann/tools/saw")
    html = page.data.decode()
    assert 'action="/ui/packages/ann/tools/saw/reviews/7/reply"' in html
    assert "/reviews/8/reply" not in html, "a review has one reply"
    stand_in.on("POST", "/reviews/7/reply", status=409, body={"message": "This review already has a reply"})
    refused = logged_in.post("/ui/packages/ann/tools/saw/reviews/7/reply",
                             data={"body": "Thank <you>", "csrf_token": csrf_of(page.data)})
    html = refused.data.decode()
    assert refused.status_code == 400 and 'id="reply-error-7" role="alert">This review already has a reply.' in html
    assert ">Thank &lt;you&gt;</textarea>" in html
    stand_in.on("POST", "/reviews/7/reply", status=201, body={"id": 7})
    done = logged_in.post("/ui/packages/ann/tools/saw/reviews/7/reply",
                          data={"body": "Thanks", "csrf_token": csrf_of(page.data)})
    assert done.status_code == 303 and done.headers["Location"] == "/ui/packages/ann/tools/saw#review-7"
    assert _sent(stand_in, "POST", "/reviews/7/reply")[-1] == {"body": "Thanks"}


def test_creating_a_team_keeps_what_was_typed_when_refused_and_opens_the_new_team(logged_in, stand_in):
    stand_in.on("GET", "/orgs/acme/teams", body={"teams": ["builders"]})
    stand_in.on("GET", "/orgs/acme", body={"name": "acme", "full_name": "Acme", "members": [], "repos": [],
                                           "followers_count": 0, "registered": "2026-01-01"})
    edit = logged_in.get("/ui/settings/orgs/acme")
    assert 'href="/ui/settings/orgs/acme/teams"' in edit.data.decode() and 'aria-current="page"' in edit.data.decode()
    page = logged_in.get("/ui/settings/orgs/acme/teams")
    assert page.status_code == 200 and 'href="/ui/settings/orgs/acme/teams/builders"' in page.data.decode()
    stand_in.on("POST", "/orgs/acme/teams", status=409, body={"message": "Team 'builders' already exists"})
    refused = logged_in.post("/ui/settings/orgs/acme/teams", data={
        "name": "builders", "members": "bob", "allow_repo_creation": "on", "csrf_token": csrf_of(page.data)})
    html = refused.data.decode()
    assert refused.status_code == 400 and 'id="e-name">Team &#39;builders&#39; already exists.' in html
    assert 'value="builders"' in html and ">bob</textarea>" in html
    assert 'name="allow_repo_creation" type="checkbox" value="on" checked' in html
    stand_in.on("POST", "/orgs/acme/teams", status=201, body={"name": "movers", "members": ["bob"]})
    created = logged_in.post("/ui/settings/orgs/acme/teams", data={
        "name": "movers", "members": "bob", "csrf_token": csrf_of(page.data)})
    assert created.status_code == 303 and created.headers["Location"] == "/ui/settings/orgs/acme/teams/movers"
    assert _sent(stand_in, "POST", "/orgs/acme/teams")[-1] == {"name": "movers", "members": ["bob"],
                                                               "allow_repo_creation": False}


def test_ones_own_teams_are_created_and_given_permissions_on_ones_own_repositories(logged_in, stand_in):
    stand_in.on("GET", "/me/teams", body=[])
    stand_in.on("GET", "/users/ann/teams", body={"teams": ["friends"]})
    page = logged_in.get("/ui/settings/teams")
    html = page.data.decode()
    assert 'href="/ui/settings/teams/friends"' in html and 'name="allow_repo_creation"' not in html
    stand_in.on("POST", "/users/ann/teams", status=201, body={"name": "helpers"})
    created = logged_in.post("/ui/settings/teams", data={"name": "helpers", "members": "bob",
                                                         "csrf_token": csrf_of(page.data)})
    assert created.status_code == 303 and created.headers["Location"] == "/ui/settings/teams/helpers"
    assert _sent(stand_in, "POST", "/users/ann/teams") == [{"name": "helpers", "members": ["bob"],
                                                            "allow_repo_creation": False}]
    stand_in.on("GET", "/users/ann/teams/helpers", body={"name": "helpers", "members": ["bob"],
                                                         "permitted_repos": {}, "allow_repo_creation": False})
    stand_in.on("GET", "/repos/ann", body=[{"name": "tools", "owner": "ann"}])
    stand_in.on("GET", "/repos/ann/tools/permissions", body=[])
    team = logged_in.get("/ui/settings/teams/helpers")
    assert team.status_code == 200 and 'action="/ui/settings/teams/helpers"' in team.data.decode()
    stand_in.on("PATCH", "/users/ann/teams/helpers", body={"name": "helpers"})
    stand_in.on("PUT", "/repos/ann/tools/permissions", body={"message": "success"})
    saved = logged_in.post("/ui/settings/teams/helpers", data={
        "members": "bob", "perm:tools": "read", "was:tools": "", "csrf_token": csrf_of(team.data)})
    assert saved.status_code == 303
    assert _sent(stand_in, "PATCH", "/users/ann/teams/helpers") == [{"members": ["bob"]}]
    assert _sent(stand_in, "PUT", "/repos/ann/tools/permissions") == [{"team": "helpers", "permission": "read"}]


def test_a_refusal_naming_what_was_typed_goes_to_the_field_it_is_about(logged_in, stand_in):
    # "name" in the refused username must not send identity's "No such user" to the team's name.
    stand_in.on("GET", "/me/teams", body=[])
    stand_in.on("GET", "/users/ann/teams", body={"teams": []})
    page = logged_in.get("/ui/settings/teams")
    stand_in.on("POST", "/users/ann/teams", status=400, body={"message": "No such user: nobody-by-this-name"})
    refused = logged_in.post("/ui/settings/teams", data={"name": "friends", "members": "bob nobody-by-this-name",
                                                         "csrf_token": csrf_of(page.data)})
    html = refused.data.decode()
    assert 'id="e-members">No such user: nobody-by-this-name.' in html and 'id="e-name"' not in html


def test_the_package_page_finds_my_watch_beyond_the_first_page_of_my_watches(logged_in, stand_in):
    _package(stand_in, [])
    watches = [{"owner": "x", "repo": "r", "package": f"p{i}", "filter": {"kind": "all"}} for i in range(120)]
    watches.insert(101, {"owner": "ann", "repo": "tools", "package": "saw", "filter": {"kind": "major"}})

    def page(request: dict) -> tuple:
        start = int(request["query"].partition("start_pos=")[2] or 0)
        return 200, watches[start:start + 50], {"X-RangeLimit-Total": str(len(watches))}, 0

    stand_in.routes[("GET", "/me/watches")] = page
    html = logged_in.get("/ui/packages/ann/tools/saw").data.decode()
    assert 'id="watch-state">You watch this package (major).' in html
    assert sorted(r["query"] for r in stand_in.requests if r["path"] == "/me/watches") == [
        "start_pos=0", "start_pos=100", "start_pos=50"]


def test_the_gpg_page_of_an_organization_signing_does_not_know_says_so(logged_in, stand_in):
    stand_in.on("GET", "/orgs/nowhere/keys/gpg", status=404, body={"message": "Organization 'nowhere' was not found"})
    page = logged_in.get("/ui/settings/orgs/nowhere/gpg")
    html = page.data.decode()
    assert page.status_code == 404 and "Organization &#39;nowhere&#39; was not found" in html
    assert 'id="gpg-update"' not in html


def test_words_typed_that_the_api_does_not_quote_still_name_the_field(logged_in, stand_in):
    # Typed "not a key": the refusal of the public key still goes beside the public key.
    stand_in.on("GET", "/me/keys/gpg", status=404, body={"message": "'ann' has no GPG key"})
    page = logged_in.get("/ui/settings/gpg")
    stand_in.on("PUT", "/me/keys/gpg", status=400,
                body={"message": "The public key could not be read: not a key, no valid OpenPGP data found"})
    refused = logged_in.post("/ui/settings/gpg", data={"public_key": "not a key", "csrf_token": csrf_of(page.data)})
    assert 'id="e-public_key">The public key could not be read' in refused.data.decode()
