from datetime import timedelta

from notifier.models import Notification


def test_a_new_user_finds_the_welcome_notification(client, deliver, identity, as_user):
    deliver(identity.registered("alice"))
    response = client.get("/me/notifications", headers=as_user("alice"))
    assert response.status_code == 200
    [welcome] = response.json
    assert set(welcome) == {"id", "type", "title", "body", "created", "read", "link", "data"}
    assert welcome["type"] == "welcome" and welcome["read"] is False
    assert "alice" in welcome["title"] and welcome["created"].endswith("Z")
    assert (response.headers["X-RangeLimit-Total"], response.headers["X-RangeLimit-StartPos"],
            response.headers["X-RangeLimit-EndPos"]) == ("1", "0", "0")


def test_notifications_need_authentication(client):
    for method, path in (("get", "/me/notifications"), ("post", "/me/notifications/read_all"),
                         ("post", "/me/notifications/x/read"), ("delete", "/me/notifications/x")):
        response = getattr(client, method)(path)
        assert response.status_code == 401, path
        assert response.json == {"message": "This resource requires authentication"}


def test_a_forged_token_is_refused(client):
    response = client.get("/me/notifications", headers={"Authorization": "Bearer not.a.token"})
    assert response.status_code == 401


def test_reading_and_deleting_notifications(client, deliver, identity, as_user):
    deliver(identity.registered("alice"))
    me = as_user("alice")
    [welcome] = client.get("/me/notifications", headers=me).json

    read = client.post(f"/me/notifications/{welcome['id']}/read", headers=me)
    assert read.status_code == 200 and read.json == {**welcome, "read": True}
    assert client.get("/me/notifications?unread=true", headers=me).json == []
    assert client.get("/me/notifications", headers=me).json[0]["read"] is True

    assert client.delete(f"/me/notifications/{welcome['id']}", headers=me).json == {"message": "success"}
    assert client.get("/me/notifications", headers=me).json == []
    gone = client.delete(f"/me/notifications/{welcome['id']}", headers=me)
    assert gone.status_code == 404
    assert gone.json == {"message": f"Notification '{welcome['id']}' was not found"}


def test_another_users_notification_answers_404(client, deliver, identity, as_user):
    deliver(identity.registered("alice"))
    deliver(identity.registered("bob"))
    [alices] = client.get("/me/notifications", headers=as_user("alice")).json
    bob = as_user("bob")
    assert [n["id"] for n in client.get("/me/notifications", headers=bob).json] != [alices["id"]]
    assert client.post(f"/me/notifications/{alices['id']}/read", headers=bob).status_code == 404
    assert client.delete(f"/me/notifications/{alices['id']}", headers=bob).status_code == 404
    assert client.get("/me/notifications", headers=as_user("alice")).json == [alices]  # untouched


def _add_notifications(notifier, user_id, n):
    with notifier.uow() as uow:
        start = uow.clock()
        for i in range(n):
            uow.session.add(Notification(id=f"00000000-0000-0000-0000-{i:012d}", user_id=user_id, type="news",
                                         title=f"news {i}", body="", created_at=start + timedelta(seconds=i + 1)))
        uow.commit()


def test_notifications_are_paged_newest_first_and_filtered(client, deliver, identity, as_user, notifier):
    deliver(identity.registered("alice"))
    _add_notifications(notifier, identity.user_id("alice"), 54)
    me = as_user("alice")

    first = client.get("/me/notifications", headers=me)
    assert len(first.json) == 50
    assert [n["title"] for n in first.json[:2]] == ["news 53", "news 52"]
    assert (first.headers["X-RangeLimit-Total"], first.headers["X-RangeLimit-EndPos"]) == ("55", "49")
    second = client.get("/me/notifications?start_pos=50", headers=me)
    assert (second.headers["X-RangeLimit-StartPos"], second.headers["X-RangeLimit-EndPos"]) == ("50", "54")
    assert second.json[-1]["type"] == "welcome"

    assert client.post("/me/notifications/read_all", headers=me).json == {"message": "success"}
    unread = client.get("/me/notifications?unread=true", headers=me)
    assert unread.json == [] and unread.headers["X-RangeLimit-Total"] == "0"
    assert client.get("/me/notifications?unread=false", headers=me).headers["X-RangeLimit-Total"] == "55"


def test_bad_query_parameters_answer_400_with_a_message(client, as_user):
    for query in ("start_pos=-1", "start_pos=abc", "unread=perhaps"):
        response = client.get(f"/me/notifications?{query}", headers=as_user("alice"))
        assert response.status_code == 400, query
        assert query.split("=")[0] in response.json["message"]


def test_ids_no_notification_can_have_answer_4xx_not_500(client, as_user):
    me = as_user("alice")
    assert client.post("/me/notifications/a%00b/read", headers=me).status_code == 400
    assert client.delete("/me/notifications/" + "x" * 300, headers=me).status_code == 404
