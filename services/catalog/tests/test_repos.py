"""Repositories: Bintray's endpoints, who may use them, and the events they publish."""

from __future__ import annotations

REPO_KEYS = ["name", "owner", "type", "private", "premium", "desc", "labels", "created", "package_count",
             "gpg_sign_metadata", "gpg_sign_files", "gpg_use_owner_key"]


def test_a_user_creates_a_repository_and_reads_it_back(api, client):
    alice = api.user("alice")
    response = client.post("/repos/alice/maven", headers=alice, json={
        "name": "maven", "type": "maven", "private": False, "desc": "Jars", "labels": ["java"],
        "gpg_sign_metadata": False, "gpg_sign_files": True, "gpg_use_owner_key": False,
        "business_unit": "ignored", "version_update_max_days": 3})
    assert response.status_code == 201
    body = response.json
    assert list(body) == REPO_KEYS
    assert body["name"] == "maven" and body["owner"] == "alice" and body["type"] == "maven"
    assert body["private"] is False and body["premium"] is False and body["desc"] == "Jars"
    assert body["labels"] == ["java"] and body["package_count"] == 0 and body["gpg_sign_files"] is True
    assert body["created"].endswith("Z")
    assert client.get("/repos/alice/maven").json == body
    assert client.head("/repos/alice/maven").status_code == 200
    assert client.get("/repos/alice").json == [{"name": "maven", "owner": "alice"}]


def test_creating_a_repository_announces_it(api):
    alice = api.user("alice")
    api.create_repo("alice", "generic", alice, desc="stuff", gpg_sign_files=True)
    [event] = api.events("catalog.repo.created")
    assert event["subject"] == "alice/generic" and event["source"] == "/catalog"
    data = event["data"]
    assert data["owner"] == "alice" and data["repo"] == "generic" and data["type"] == "generic"
    assert data["private"] is False and data["gpg_sign_files"] is True and data["gpg_use_owner_key"] is False
    assert data["revision"] == 1


def test_the_type_defaults_to_generic_and_the_caller_needs_no_prior_event(api, client, minter):
    # The token is identity's word: the subject's own event may still be on its way.
    response = client.post("/repos/bob/stuff", headers=minter.headers("bob"), json={})
    assert response.status_code == 201 and response.json["type"] == "generic"


def test_missing_or_unknown_things_answer_bintray_404s(api, client):
    api.user("alice")
    assert client.get("/repos/alice/nothing").json == {"message": "Repo 'nothing' was not found"}
    assert client.get("/repos/alice/nothing").status_code == 404
    assert client.head("/repos/alice/nothing").status_code == 404
    response = client.get("/repos/ghost")
    assert response.status_code == 404 and response.json == {"message": "Subject 'ghost' was not found"}


def test_a_known_subject_without_repositories_lists_none(api, client):
    api.user("carol")
    response = client.get("/repos/carol")
    assert response.status_code == 200 and response.json == []


def test_bad_input_answers_400_and_creates_nothing(api, client):
    alice = api.user("alice")
    for url, body in (("/repos/alice/ok", {"type": "cobol"}),
                      ("/repos/alice/ok", {"private": "sometimes"}),
                      ("/repos/alice/ok", {"labels": "not-a-list"}),
                      ("/repos/alice/ok", {"name": "other"}),
                      ("/repos/alice/bad%20name", {}),
                      ("/repos/alice/..", {}),
                      ("/repos/alice/ok", {"gpg_use_owner_key": True, "gpg_sign_files": True})):
        response = client.post(url, json=body, headers=alice)
        assert response.status_code == 400, (url, body, response.json)
        assert response.json["message"]
    assert client.get("/repos/alice").json == []
    assert api.events() == []


def test_a_duplicate_repository_answers_409(api, client):
    alice = api.user("alice")
    api.create_repo("alice", "main", alice)
    response = client.post("/repos/alice/main", json={}, headers=alice)
    assert response.status_code == 409 and response.json == {"message": "Repo 'main' already exists"}
    assert len(api.events("catalog.repo.created")) == 1


def test_changes_need_credentials(api, client):
    alice = api.user("alice")
    api.create_repo("alice", "main", alice)
    for method, url in (("post", "/repos/alice/other"), ("patch", "/repos/alice/main"),
                        ("delete", "/repos/alice/main"), ("get", "/repos/alice/main/permissions")):
        response = getattr(client, method)(url, json={})
        assert response.status_code == 401, (method, url)
        assert response.json == {"message": "This resource requires authentication"}
    assert client.get("/repos/alice/main").status_code == 200
    assert len(api.events()) == 1


def test_nobody_creates_or_changes_another_users_repositories(api, client):
    alice, bob = api.user("alice"), api.user("bob")
    api.create_repo("alice", "main", alice)
    assert client.post("/repos/alice/sneaky", json={}, headers=bob).status_code == 403
    assert client.patch("/repos/alice/main", json={"desc": "mine now"}, headers=bob).status_code == 403
    assert client.delete("/repos/alice/main", headers=bob).status_code == 403
    assert client.get("/repos/alice/main").json["desc"] is None
    assert [r["name"] for r in client.get("/repos/alice").json] == ["main"]


def test_a_repository_is_updated_and_the_change_announced(api, client):
    alice = api.user("alice")
    api.create_repo("alice", "main", alice)
    response = client.patch("/repos/alice/main", headers=alice, json={
        "desc": "new", "labels": ["a", "b"], "gpg_sign_metadata": True, "business_unit": "x"})
    assert response.status_code == 200
    assert response.json["desc"] == "new" and response.json["labels"] == ["a", "b"]
    assert response.json["gpg_sign_metadata"] is True
    [event] = api.events("catalog.repo.updated")
    assert event["data"]["desc"] == "new" and event["data"]["revision"] == 2


def test_labels_null_clear_a_repositorys_labels(api, client):
    alice = api.user("alice")
    api.create_repo("alice", "main", alice, labels=["a"])
    response = client.patch("/repos/alice/main", headers=alice, json={"labels": None, "desc": "d"})
    assert response.status_code == 200, response.json
    assert response.json["labels"] == [] and response.json["desc"] == "d"
    assert client.get("/repos/alice/main").json["labels"] == []


def test_signing_flags_that_contradict_each_other_are_refused(api, client):
    alice = api.user("alice")
    api.create_repo("alice", "main", alice, gpg_sign_files=True)
    response = client.patch("/repos/alice/main", headers=alice, json={"gpg_use_owner_key": True})
    assert response.status_code == 400
    assert client.get("/repos/alice/main").json["gpg_use_owner_key"] is False
    assert api.events("catalog.repo.updated") == []


def test_deleting_a_repository_removes_everything_in_it(api, client):
    alice = api.user("alice")
    api.create_repo("alice", "main", alice)
    api.create_package("alice", "main", "tool", alice)
    assert api.upload("alice", "main", "tool", "1.0", "tool.jar", b"x", alice, publish=True).status_code == 201
    response = client.delete("/repos/alice/main", headers=alice)
    assert response.status_code == 200 and response.json == {"message": "success"}
    assert client.get("/repos/alice/main").status_code == 404
    assert client.get("/packages/alice/main/tool").status_code == 404
    [event] = api.events("catalog.repo.deleted")
    assert event["data"] == {"owner": "alice", "repo": "main", "private": False, "revision": 2}
    api.create_repo("alice", "main", alice)  # the name is free again
    assert client.get("/repos/alice/main").json["package_count"] == 0


def test_private_repositories_are_invisible_to_others(api, client):
    alice, bob = api.user("alice"), api.user("bob")
    api.create_repo("alice", "secret", alice, private=True)
    api.create_repo("alice", "open", alice)
    for headers in ({}, bob):
        for url in ("/repos/alice/secret", "/repos/alice/secret/packages", "/packages/alice/secret/x"):
            response = client.get(url, headers=headers)
            assert response.status_code == 404 and response.json == {"message": "Repo 'secret' was not found"}
        assert client.get("/repos/alice", headers=headers).json == [{"name": "open", "owner": "alice"}]
    # changing it is refused exactly like changing a repository that does not exist
    for url in ("/repos/alice/secret", "/repos/alice/nothing"):
        response = client.patch(url, json={"desc": "x"}, headers=bob)
        assert response.status_code == 404 and response.json["message"].endswith("' was not found")
    assert client.get("/repos/alice/secret", headers=alice).json["private"] is True
    assert [r["name"] for r in client.get("/repos/alice", headers=alice).json] == ["open", "secret"]
    assert api.events("catalog.repo.created")[0]["data"]["private"] is True


def test_repository_search_finds_public_repositories_by_name_or_description(api, client):
    alice = api.user("alice")
    api.create_repo("alice", "jvm-libs", alice, desc="Java libraries")
    api.create_repo("alice", "hidden-libs", alice, private=True, desc="Java too")
    api.create_repo("alice", "tools", alice, desc="Command line 100% tools")
    assert [r["name"] for r in client.get("/search/repos?name=LIBS").json] == ["jvm-libs"]
    assert [r["name"] for r in client.get("/search/repos?desc=java").json] == ["jvm-libs"]
    assert [r["name"] for r in client.get("/search/repos?desc=100%25").json] == ["tools"]
    response = client.get("/search/repos?name=libs")
    assert list(response.json[0]) == REPO_KEYS
    assert response.headers["X-RangeLimit-Total"] == "1"
    assert client.get("/search/repos").status_code == 400


def test_text_with_nul_characters_answers_400(api, client, alice):
    for method, url, body in (("post", "/repos/alice/x", {"desc": "a\u0000b"}),
                              ("patch", "/packages/alice/main/tool", {"desc": "a\u0000b"}),
                              ("post", "/packages/alice/main/tool/attributes", [{"name": "a", "values": ["x\u0000"]}]),
                              ("post", "/packages/alice/main/tool/versions", {"name": "1.0", "desc": "\u0000"})):
        response = getattr(client, method)(url, json=body, headers=alice)
        assert response.status_code == 400 and "NUL" in response.json["message"], url
    assert client.get("/repos/alice/x").status_code == 404
