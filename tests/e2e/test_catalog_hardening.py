"""Catalog's hardening seen through the real gateway: names matched whole, unpublished files that answer as missing
ones, statistics kept to publishers, unsafe webhook targets refused, and partial downloads that do not count."""

from __future__ import annotations

import pytest

from packyard.testing import wait_for

VOLATILE = {"date", "x-request-id", "traceparent", "content-length"}


@pytest.fixture
def owner(gw):
    user = gw.signup(gw.unique_name("cat"))
    headers = gw.login(user)
    name = user["username"]
    assert gw.post(f"/repos/{name}/main", json={"type": "generic"}, headers=headers).status_code == 201
    assert gw.post(f"/packages/{name}/main", json={"name": "tool", "licenses": ["MIT"],
                                                    "vcs_url": "https://github.com/x/tool.git"},
                   headers=headers).status_code == 201
    return name, headers


def upload(gw, name, headers, path, data, publish):
    return gw.request("PUT", f"/content/{name}/main/tool/1.0/{path}?publish={int(publish)}", data=data,
                      headers=headers)


def _headers(response):
    return {k.lower(): v for k, v in response.headers.items() if k.lower() not in VOLATILE}


def test_an_unpublished_file_answers_through_the_gateway_exactly_as_a_missing_one(gw, owner):
    name, headers = owner
    assert upload(gw, name, headers, "pub/draft.bin", b"d" * 10, publish=False).status_code == 201
    stranger = gw.login(gw.signup(gw.unique_name("str")))
    for who in ({}, stranger):
        draft = gw.get(f"/dl/{name}/main/pub/draft.bin", headers=who, allow_redirects=False)
        missing = gw.get(f"/dl/{name}/main/pub/drift.bin", headers=who, allow_redirects=False)
        assert draft.status_code == missing.status_code == 404
        assert draft.json() == {"message": "File 'pub/draft.bin' was not found"}
        assert missing.json() == {"message": "File 'pub/drift.bin' was not found"}
        assert _headers(draft) == _headers(missing)
    assert gw.get(f"/dl/{name}/main/pub/draft.bin", headers=headers).content == b"d" * 10


def test_names_statistics_and_webhooks_through_the_gateway(gw, owner):
    name, headers = owner
    assert gw.post(f"/repos/{name}/main%0A", json={"type": "generic"}, headers=headers).status_code in (400, 404)
    assert gw.post(f"/packages/{name}/main", json={"name": "tool2\n"}, headers=headers).status_code == 400
    stranger = gw.login(gw.signup(gw.unique_name("str")))
    url = f"/packages/{name}/main/tool/stats/total_downloads"
    assert gw.post(url, json={}).status_code == 401
    assert gw.post(url, json={}, headers=stranger).status_code == 403
    assert gw.post(url, json={}, headers=headers).status_code == 200
    for target in ("http://169.254.169.254/latest/meta-data", "http://0x7f000001/", "http://[::1]/",
                   "http://10.0.0.1/", "http://identity:8101/", "http://rabbitmq:15672/", "http://postgres/"):
        refused = gw.post(f"/webhooks/{name}/main/tool", json={"url": target}, headers=headers)
        assert refused.status_code == 400, target
    registered = gw.post(f"/webhooks/{name}/main/tool", json={"url": "https://hooks.example.com/%p"}, headers=headers)
    assert registered.status_code == 201 and registered.json()["secret"].startswith("whsec_")


def test_a_partial_range_is_not_a_download_but_the_whole_file_is(gw, owner):
    name, headers = owner
    assert upload(gw, name, headers, "big/tool.bin", b"b" * 1000, publish=True).status_code == 201
    marker = gw.request("PUT", f"/content/{name}/main/tool/2.0/big/marker.bin?publish=1", data=b"m", headers=headers)
    assert marker.status_code == 201
    path = f"/dl/{name}/main/big/tool.bin"
    for first, last in ((0, 9), (10, 999), (0, 499)):
        piece = gw.get(path, headers={"Range": f"bytes={first}-{last}"})
        assert piece.status_code == 206 and len(piece.content) == last - first + 1
    assert gw.get(path).status_code == 200
    assert gw.get(path, headers={"Range": "bytes=0-"}).status_code in (200, 206)
    assert gw.get(f"/dl/{name}/main/big/marker.bin").status_code == 200  # logged after all the others

    def counts():
        body = gw.post(f"/packages/{name}/main/tool/stats/total_downloads", json={}, headers=headers).json()
        return {r["version"]: r["count"] for r in body["records"]}

    wait_for(lambda: counts().get("2.0") == 1, timeout=30, message="the marker's download counted")
    assert counts()["1.0"] == 2  # the two whole downloads; none of the pieces


def test_an_owners_storage_usage_reaches_their_profile(gw, owner):
    """catalog.usage.changed across the bus: identity's quota_used_bytes follows every upload and delete."""
    name, headers = owner

    def used():
        return gw.get(f"/users/{name}", headers=headers).json().get("quota_used_bytes")

    assert upload(gw, name, headers, "q/one.bin", b"1" * 1234, publish=True).status_code == 201
    assert upload(gw, name, headers, "q/two.bin", b"2" * 766, publish=False).status_code == 201
    wait_for(lambda: used() == 2000, timeout=30, message="quota_used_bytes after two uploads")
    assert gw.request("DELETE", f"/content/{name}/main/q/one.bin", headers=headers).status_code == 200
    wait_for(lambda: used() == 766, timeout=30, message="quota_used_bytes after a delete")
