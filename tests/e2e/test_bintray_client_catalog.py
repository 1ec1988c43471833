"""A publisher's whole day with the real bintray-python client against Packyard's gateway."""

from __future__ import annotations

import hashlib

import pytest

from packyard.testing import wait_for

pytestmark = pytest.mark.e2e


def without_status(body):
    """bintray-python appends {"statusCode", "error"} to every answer; keep the API's own part."""
    if isinstance(body, list):
        return [item for item in body if not (isinstance(item, dict) and "statusCode" in item)]
    return {k: v for k, v in body.items() if k not in ("statusCode", "error")}


@pytest.fixture
def publisher(gw, bintray, tmp_path):
    """An organization with its owner (the publisher) and a team member, all known to catalog."""
    owner, member = gw.signup(gw.unique_name("pub")), gw.signup(gw.unique_name("dev"))
    org = gw.unique_name("acme")
    headers = gw.login(owner)
    assert gw.post("/orgs", json={"name": org, "full_name": "ACME"}, headers=headers).status_code == 201
    assert gw.post(f"/orgs/{org}/members", json={"username": member["username"], "role": "member"},
                   headers=headers).status_code in (200, 201)
    client = bintray(*gw.api_key(owner))
    client.create_org_team(org, "devs", [member["username"]], allow_repo_creation=False)
    # catalog learns of the org, the membership and the team from identity's events
    wait_for(lambda: gw.get(f"/repos/{org}").status_code == 200, timeout=15, message="catalog knowing the org")
    return {"org": org, "owner": owner, "member": member, "client": client,
            "member_client": bintray(*gw.api_key(member)), "files": tmp_path}


def test_a_publishers_day(gw, publisher):
    org, client, files = publisher["org"], publisher["client"], publisher["files"]

    # a repository, a package, a version
    created = client.create_repository(org, "maven", "maven", "Our artifacts", labels=["java"])
    assert created["statusCode"] == 201 and created["name"] == "maven"
    assert [r["name"] for r in without_status(client.get_repositories(org))] == ["maven"]
    package = client.create_package(org, "maven", "widget", licenses=["Apache-2.0"],
                                    vcs_url="https://github.com/acme/widget.git", desc="A widget")
    assert package["statusCode"] == 201 and package["name"] == "widget"
    version = client.create_version(org, "maven", "widget", "1.0.0", description="first")
    assert version["statusCode"] == 201 and version["name"] == "1.0.0"

    # upload two files, unpublished, then publish them
    jar, pom = files / "widget-1.0.0.jar", files / "widget-1.0.0.pom"
    jar.write_bytes(b"PK\x03\x04 jar bytes " * 1000)
    pom.write_bytes(b"<project/>")
    base = "com/acme/widget/1.0.0"
    for local in (jar, pom):
        uploaded = client.upload_content(org, "maven", "widget", "1.0.0", f"{base}/{local.name}", str(local),
                                         publish=False)
        assert uploaded["statusCode"] == 201 and uploaded["message"] == "success"
    assert without_status(client.get_version_files(org, "maven", "widget", "1.0.0")) == []  # not yet public
    unpublished = without_status(client.get_version_files(org, "maven", "widget", "1.0.0", include_unpublished=True))
    assert sorted(f["name"] for f in unpublished) == [jar.name, pom.name]
    assert client.publish_uploaded_content(org, "maven", "widget", "1.0.0")["files"] == 2

    # list and search what was published
    listed = without_status(client.get_package_files(org, "maven", "widget"))
    by_name = {f["name"]: f for f in listed}
    assert by_name[jar.name]["path"] == f"{base}/{jar.name}"
    assert by_name[jar.name]["sha1"] == hashlib.sha1(jar.read_bytes()).hexdigest()
    assert by_name[jar.name]["sha256"] == hashlib.sha256(jar.read_bytes()).hexdigest()
    assert by_name[jar.name]["size"] == jar.stat().st_size
    found = without_status(client.search_file_by_name("widget-1.0.0.*", subject=org))
    assert {f["name"] for f in found} == {jar.name, pom.name}
    found = without_status(client.search_file_by_checksum(by_name[pom.name]["sha1"]))
    assert [f["path"] for f in found] == [f"{base}/{pom.name}"]

    # _latest is the latest published version
    latest = client.get_version(org, "maven", "widget", "_latest")
    assert latest["name"] == "1.0.0" and latest["published"] is True and isinstance(latest["ordinal"], float)

    # a team may publish to the repository
    assert client.set_team_permissions(org, "maven", "devs", "publish")["statusCode"] == 200
    assert without_status(client.get_all_team_permissions(org, "maven")) == [{"team": "devs", "permission": "publish"}]
    fix = files / "widget-1.0.1.jar"
    fix.write_bytes(b"fixed jar")
    member_upload = publisher["member_client"].upload_content(org, "maven", "widget", "1.0.1",
                                                              f"com/acme/widget/1.0.1/{fix.name}", str(fix))
    assert member_upload["statusCode"] == 201
    assert client.get_version(org, "maven", "widget", "_latest")["name"] == "1.0.1"

    # the package is linked into an aggregate repository and downloads from there
    assert client.create_repository(org, "aggregate", "maven", "Everything we ship")["statusCode"] == 201
    assert client.link_package(org, "aggregate", org, "maven", "widget")["statusCode"] == 201
    direct = gw.get(f"/dl/{org}/maven/{base}/{jar.name}")
    assert direct.status_code == 200 and direct.content == jar.read_bytes()
    assert direct.headers["X-Checksum-Sha1"] == by_name[jar.name]["sha1"]
    via_link = gw.get(f"/dl/{org}/aggregate/{base}/{jar.name}")
    assert via_link.status_code == 200 and via_link.content == jar.read_bytes()

    # a webhook registered and deleted
    hook = client.register_webhook(org, "maven", "widget", "https://ci.example.com/hooks/%r/%p", "post")
    assert hook["statusCode"] == 201
    hooks = without_status(client.get_webhooks(org, "maven"))
    assert [(h["package"], h["url"]) for h in hooks] == [("widget", "https://ci.example.com/hooks/maven/widget")]
    assert client.delete_webhook(org, "maven", "widget")["message"] == "success"
    assert without_status(client.get_webhooks(org, "maven")) == []

    # the two downloads above are counted (the gateway logs them; catalog counts the log)
    def total():
        records = client.get_total_downloads(org, "maven", "widget", version="1.0.0")["records"]
        return sum(r["count"] for r in records)

    wait_for(lambda: total() == 2, timeout=30, message="two downloads counted")

    # delete content
    assert client.delete_content(org, "maven", f"{base}/{pom.name}")["message"] == "success"
    assert gw.get(f"/dl/{org}/maven/{base}/{pom.name}").status_code == 404
    remaining = without_status(client.get_version_files(org, "maven", "widget", "1.0.0"))
    assert [f["name"] for f in remaining] == [jar.name]


def test_bintray_python_sees_refusals(gw, publisher, bintray):
    org = publisher["org"]
    publisher["client"].create_repository(org, "private", "generic", "secret things", private=True)
    stranger = bintray(*gw.api_key(gw.signup(gw.unique_name("stranger"))))
    with pytest.raises(Exception, match=r"\(404\)"):  # a private repository does not exist for strangers
        stranger.get_repository(org, "private")
    with pytest.raises(Exception, match=r"\((403|404)\)"):
        stranger.create_package(org, "private", "intruder", licenses=["MIT"], vcs_url="https://example.com/x.git")
    with pytest.raises(Exception, match=r"\(401\)"):
        bintray().create_repository(org, "anonymous", "generic", "no credentials")
