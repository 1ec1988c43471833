"""The calls the bintray-python client (PyPI, 0.8) makes, exactly as it makes them: a publisher's day.

Each request below mirrors one method of ``bintray.Bintray`` — method, path, query parameters and
JSON body — and checks the answer the client reads. The end-to-end suite drives the real client
through the gateway; this keeps the same contract checked on every run of the service's tests.
"""

from __future__ import annotations

import hashlib

import pytest


class Requester:
    """What ``bintray.requester.Requester`` does: raise on an error status, else decode the JSON."""

    def __init__(self, client, headers):
        self.client, self.headers = client, headers

    def _send(self, method, url, params=None, **kwargs):
        response = getattr(self.client, method)(url, query_string=params, headers=self.headers, **kwargs)
        if response.status_code >= 400:
            raise AssertionError(f"{method.upper()} {url} answered {response.status_code}: {response.json}")
        return response.json

    def get(self, url, params=None):
        return self._send("get", url, params)

    def post(self, url, json=None, params=None):
        return self._send("post", url, params, json=json)

    def put(self, url, params=None, data=None, json=None):
        return self._send("put", url, params, data=data) if data else self._send("put", url, params, json=json)

    def patch(self, url, json=None):
        return self._send("patch", url, json=json)

    def delete(self, url, params=None):
        return self._send("delete", url, params)


@pytest.fixture
def bintray(api, client):
    api.user("olga")
    api.user("mia")
    api.org("acme", "olga", members=["mia"])
    api.team("acme", "devs", ["mia"])
    return Requester(client, api.headers("olga"))


def test_a_publishers_whole_day(bintray, client, api, tmp_path):
    # create_repository(subject, repo, type, description, labels=..., gpg flags)
    created = bintray.post("/repos/acme/generic", json={
        "name": "generic", "type": "generic", "private": False, "desc": "Acme's files",
        "gpg_sign_metadata": False, "gpg_sign_files": False, "gpg_use_owner_key": False, "labels": ["acme"]})
    assert created["name"] == "generic" and created["owner"] == "acme"
    assert bintray.get("/repos/acme/generic")["desc"] == "Acme's files"              # get_repository
    assert bintray.get("/repos/acme") == [{"name": "generic", "owner": "acme"}]      # get_repositories
    assert bintray.patch("/repos/acme/generic", json={"desc": "Files"})["desc"] == "Files"  # update_repository
    assert [r["name"] for r in bintray.get("/search/repos", params={"name": "gener"})] == ["generic"]

    # create_package(subject, repo, package, licenses=, vcs_url=, desc=, ...): only the fields given
    package = bintray.post("/packages/acme/generic", json={
        "name": "widget", "desc": "A widget", "licenses": ["MIT"], "vcs_url": "https://github.com/acme/widget.git",
        "website_url": "https://widget.example.com", "public_download_numbers": True})
    assert package["name"] == "widget"
    assert bintray.get("/packages/acme/generic/widget", params={"attribute_values": 1})["licenses"] == ["MIT"]
    assert bintray.get("/repos/acme/generic/packages", params={"start_name": "wid"}) == \
        [{"name": "widget", "linked": False}]                                           # get_packages
    assert bintray.patch("/packages/acme/generic/widget", json={"labels": ["tools"]})["labels"] == ["tools"]
    assert [p["name"] for p in bintray.get("/search/packages", params={"name": "widget"})] == ["widget"]

    # create_version(subject, repo, package, version, description=, released=, vcs_tag=)
    version = bintray.post("/packages/acme/generic/widget/versions",
                           json={"name": "1.0", "desc": "First", "vcs_tag": "v1.0"})
    assert version["name"] == "1.0" and version["ordinal"] == 1.0
    assert bintray.patch("/packages/acme/generic/widget/versions/1.0",
                         json={"desc": "First release"})["desc"] == "First release"  # update_version

    # upload_content(..., publish=True, override=False, explode=False): a file body and 0/1 flags
    local = tmp_path / "widget-1.0.zip"
    local.write_bytes(b"widget zip")
    with open(local, "rb") as body:
        assert bintray.put("/content/acme/generic/widget/1.0/widget/widget-1.0.zip",
                           params={"publish": 0, "override": 0, "explode": 0},
                           data=body.read()) == {"message": "success"}
    with open(local, "rb") as body:
        bintray.put("/content/acme/generic/widget/1.0/widget/widget-1.0-src.zip",
                    params={"publish": 0, "override": 0, "explode": 0}, data=body.read() + b" src")
    # publish_uploaded_content / discard_uploaded_content send both keys, and -1 to wait
    assert bintray.post("/content/acme/generic/widget/1.0/publish",
                        json={"discard": False, "publish_wait_for_secs": -1}) == {"files": 2}
    assert bintray.post("/content/acme/generic/widget/1.0/publish",
                        json={"discard": True, "publish_wait_for_secs": -1}) == {"files": 0}

    # get_version('_latest', attribute_values=True), files, searches, file_package / file_version
    latest = bintray.get("/packages/acme/generic/widget/versions/_latest", params={"attribute_values": 1})
    assert latest["name"] == "1.0"
    files = bintray.get("/packages/acme/generic/widget/files", params={"include_unpublished": 0})
    assert sorted(f["name"] for f in files) == ["widget-1.0-src.zip", "widget-1.0.zip"]
    assert len(bintray.get("/packages/acme/generic/widget/versions/1.0/files", params={"include_unpublished": 1})) == 2
    found = bintray.get("/search/file", params={"name": "widget-*.zip", "subject": "acme", "repo": "generic"})
    assert len(found) == 2
    sha1 = hashlib.sha1(b"widget zip").hexdigest()
    assert [f["path"] for f in bintray.get("/search/file", params={"sha1": sha1})] == ["widget/widget-1.0.zip"]
    assert bintray.get("/file_package/acme/generic/widget/widget-1.0.zip")["name"] == "widget"
    assert bintray.get("/file_version/acme/generic/widget/widget-1.0.zip")["name"] == "1.0"

    # team permissions
    assert bintray.put("/repos/acme/generic/permissions", json={"team": "devs", "permission": "publish"}) == \
        {"message": "success"}
    assert bintray.get("/repos/acme/generic/permissions") == [{"team": "devs", "permission": "publish"}]
    assert bintray.get("/repos/acme/generic/permissions/devs") == {"team": "devs", "permission": "publish"}
    mia = Requester(client, api.headers("mia"))
    with open(local, "rb") as body:
        mia.put("/content/acme/generic/widget/1.1/widget/widget-1.1.zip",
                params={"publish": 1, "override": 0, "explode": 0}, data=body.read() + b" 1.1")
    assert bintray.delete("/repos/acme/generic/permissions/devs") == {"message": "success"}

    # attributes, readme and release notes
    assert bintray.post("/packages/acme/generic/widget/attributes",
                        json=[{"name": "att1", "values": ["val1"], "type": "string"}])[0]["name"] == "att1"
    assert bintray.patch("/packages/acme/generic/widget/versions/1.0/attributes",
                         json=[{"name": "att2", "values": [2]}])[0]["type"] == "number"
    assert bintray.get("/packages/acme/generic/widget/attributes", params={"names": "att1"})[0]["values"] == ["val1"]
    assert bintray.delete("/packages/acme/generic/widget/attributes", params={"names": "att1"}) == \
        {"message": "success"}
    readme = bintray.post("/packages/acme/generic/widget/readme",
                          json={"bintray": {"syntax": "markdown", "content": "# Widget"}})
    assert readme["bintray"]["content"] == "# Widget"
    notes = bintray.post("/packages/acme/generic/widget/release_notes", json={
        "package": "widget", "repo": "generic", "owner": "acme",
        "bintray": {"syntax": "markdown", "content": "Notes"}})
    assert notes["bintray"]["content"] == "Notes"
    bintray.post("/packages/acme/generic/widget/versions/1.0/release_notes",
                 json={"bintray": {"syntax": "plain_text", "content": "Fixed"}})
    assert bintray.get("/packages/acme/generic/widget/versions/1.0/release_notes")["bintray"]["content"] == "Fixed"

    assert len(bintray.get("/licenses/oss_licenses")) > 50                           # get_oss_licenses

    # link_package / unlink_package: PUT with no body unless a path_prefix is given
    bintray.post("/repos/acme/aggregate", json={"name": "aggregate", "type": "generic", "private": False,
                                                "desc": "everything"})
    assert bintray.put("/repository/acme/aggregate/links/acme/generic/widget", json=None) == {"message": "success"}
    assert bintray.get("/repos/acme/aggregate/packages") == [{"name": "widget", "linked": True}]
    assert client.get("/dl/acme/aggregate/widget/widget-1.0.zip").status_code == 200
    assert bintray.delete("/repository/acme/aggregate/links/acme/generic/widget") == {"message": "success"}
    bintray.put("/repository/acme/aggregate/links/acme/generic/widget", json={"path_prefix": "widget"})

    # register_webhook, get_webhooks (subject, then repository), test_webhook, delete_webhook
    registered = bintray.post("/webhooks/acme/generic/widget",
                              json={"url": "https://ci.example.com/%r/%p", "method": "post"})
    assert registered["message"] == "success" and registered["secret"].startswith("whsec_")
    hooks = [{"package": "widget", "url": "https://ci.example.com/generic/widget", "failure_count": 0}]
    assert bintray.get("/webhooks/acme") == hooks and bintray.get("/webhooks/acme/generic") == hooks
    # test_webhook formats its URL without the version (bintray-python 0.8): the registration again
    assert bintray.post("/webhooks/acme/generic/widget",
                        json={"url": "https://ci.example.com/%r/%p", "method": "post"})["message"] == "success"
    assert bintray.post("/webhooks/acme/generic/widget/1.0",
                        json={"url": "https://ci.example.com/%r/%p", "method": "post"}) == {"message": "success"}
    assert bintray.delete("/webhooks/acme/generic/widget") == {"message": "success"}
    assert bintray.get("/webhooks/acme/generic") == []

    # get_total_downloads / get_daily_downloads / get_downloads_by_country: POST with {} or {"from", "to"}
    total = bintray.post("/packages/acme/generic/widget/versions/1.0/stats/total_downloads", json={})
    assert total["records"] == [{"version": "1.0", "count": 0}] and total["from"].endswith("Z")
    daily = bintray.post("/packages/acme/generic/widget/stats/time_range_downloads",
                         json={"from": "2016-12-01T00:00:00.000Z", "to": "2016-12-02T00:00:00.000Z"})
    assert [r["date"] for r in daily["records"]] == ["2016/12/01", "2016/12/02"]
    assert bintray.post("/packages/acme/generic/widget/stats/country_downloads", json={})["records"] == []

    # delete_content, delete_version, delete_package, delete_repository
    assert bintray.delete("/content/acme/generic/widget/widget-1.0-src.zip") == {"message": "success"}
    assert bintray.delete("/packages/acme/generic/widget/versions/1.1") == {"message": "success"}
    assert bintray.get("/packages/acme/generic/widget")["versions"] == ["1.0"]
    assert bintray.delete("/packages/acme/generic/widget") == {"message": "success"}
    assert bintray.delete("/repos/acme/generic") == {"message": "success"}
    assert client.get("/repos/acme").json == [{"name": "aggregate", "owner": "acme"}]
    assert bintray.get("/repos/acme/aggregate/packages") == []  # the link went with the package

    published = [e["type"] for e in api.events()]
    assert published.count("catalog.version.released") == 2 and published[-1] == "catalog.repo.deleted"
    assert {"catalog.package.linked", "catalog.package.unlinked", "catalog.webhook.registered",
            "catalog.webhook.deleted", "catalog.webhook.test_requested", "catalog.permission.set",
            "catalog.permission.removed"} <= set(published)


def test_the_clients_existence_checks(bintray, client):
    # Clients (gradle-bintray-plugin, jfrog-cli) test existence with HEAD and read only the status.
    bintray.post("/repos/acme/generic", json={"name": "generic", "type": "generic", "private": False, "desc": ""})
    assert client.head("/repos/acme/generic").status_code == 200
    assert client.head("/packages/acme/generic/nothing").status_code == 404
    assert client.head("/packages/acme/generic/nothing/versions/1.0").status_code == 404
