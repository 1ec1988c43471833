import pytest


@pytest.fixture
def acme(world):
    world.user("alice")
    world.org("acme", owner="alice")
    world.repo("acme", "maven")
    world.package("acme", "maven", "widget")
    world.version("acme", "maven", "widget", "1.0.0")
    world.repo("acme", "secret", private=True)
    world.package("acme", "secret", "gizmo", private=True)
    world.version("acme", "secret", "gizmo", "1.0.0", private=True)
    return world


PATH = "/packages/acme/maven/widget/versions/1.0.0/comments"


def test_markdown_in_sanitized_html_out_raw_kept(acme, client):
    bob = acme.user("bob")
    body = ("**Nice** release, see [docs](https://example.com) <script>alert(1)</script> "
            "[x](javascript:alert(1)) <img src=x onerror=alert(1)>")
    posted = client.post(PATH, json={"body": body}, headers=bob)
    assert posted.status_code == 201, posted.json
    assert posted.json["body"] == body
    html = posted.json["html"]
    assert "<strong>Nice</strong>" in html and 'href="https://example.com"' in html
    assert "<script" not in html and "&lt;script&gt;" in html  # shown as text, never run
    assert 'href="javascript' not in html and "<img" not in html
    listed = client.get(PATH)
    assert [c["username"] for c in listed.json] == ["bob"] and listed.headers["X-RangeLimit-Total"] == "1"
    [event] = acme.published("social.comment.posted")
    assert event["username"] == "bob" and event["version"] == "1.0.0" and event["body"] == body


def test_editing_and_deleting_comments(acme, client):
    bob, carol = acme.user("bob"), acme.user("carol")
    comment_id = client.post(PATH, json={"body": "first"}, headers=bob).json["id"]
    assert client.put(f"{PATH}/{comment_id}", json={"body": "_edited_"}, headers=carol).status_code == 403
    edited = client.put(f"{PATH}/{comment_id}", json={"body": "_edited_"}, headers=bob)
    assert edited.status_code == 200 and edited.json["html"] == "<p><em>edited</em></p>\n"
    assert client.delete(f"{PATH}/{comment_id}", headers=carol).status_code == 403
    assert client.delete(f"{PATH}/{comment_id}", headers=acme.headers("alice")).status_code == 204  # the owner
    other = client.post(PATH, json={"body": "second"}, headers=bob).json["id"]
    assert client.delete(f"{PATH}/{other}", headers=bob).status_code == 204
    assert client.get(PATH).json == []
    assert client.delete(f"{PATH}/{other}", headers=bob).status_code == 404


def test_bad_comments(acme, client):
    bob = acme.user("bob")
    assert client.post(PATH, json={"body": "x"}).status_code == 401
    assert client.post(PATH, json={"body": ""}, headers=bob).status_code in (400, 422)
    assert client.post(PATH, json={"body": "x" * 10001}, headers=bob).status_code in (400, 422)
    assert client.post(PATH.replace("1.0.0", "9.9"), json={"body": "x"}, headers=bob).status_code == 404
    secret = "/packages/acme/secret/gizmo/versions/1.0.0/comments"
    assert client.get(secret).status_code == 404
    assert client.post(secret, json={"body": "x"}, headers=bob).status_code == 404
    assert client.get(secret, headers=acme.headers("alice")).status_code == 200
    assert acme.published() == []
