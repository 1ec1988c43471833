from datetime import UTC, datetime, timedelta

from packyard.consumer import Outcome
from social.models import ActivityEntry


def test_a_registration_puts_a_joined_entry_in_the_users_activity_log(client, deliver, identity):
    assert deliver(identity.registered("alice", registered="2026-11-25T10:00:00.123Z")) == Outcome.PROCESSED
    response = client.get("/users/alice/activity")
    assert response.status_code == 200
    assert response.json == [{"type": "joined", "actor": "alice", "created": "2026-11-25T10:00:00.123Z"}]
    assert response.headers["X-RangeLimit-Total"] == "1"
    assert response.headers["X-RangeLimit-StartPos"] == "0"
    assert response.headers["X-RangeLimit-EndPos"] == "0"


def test_unknown_user_answers_bintray_404(client, deliver, identity):
    deliver(identity.registered("alice"))
    response = client.get("/users/ghost/activity")
    assert response.status_code == 404
    assert response.json == {"message": "Subject 'ghost' was not found"}


def _add_entries(social, user_id, n):
    start = datetime(2026, 1, 1, tzinfo=UTC)
    with social.uow() as uow:
        for i in range(n):
            uow.session.add(ActivityEntry(user_id=user_id, type="noted", actor_id=user_id, actor="alice",
                                          created_at=start + timedelta(minutes=i), details={"n": i}))
        uow.commit()


def test_activity_is_paged_like_bintray_newest_first(client, deliver, identity, social):
    event = identity.registered("alice", registered="2025-06-01T00:00:00.000Z")
    deliver(event)
    _add_entries(social, event.data["user_id"], 54)

    first = client.get("/users/alice/activity")
    assert len(first.json) == 50
    assert (first.headers["X-RangeLimit-Total"], first.headers["X-RangeLimit-StartPos"],
            first.headers["X-RangeLimit-EndPos"]) == ("55", "0", "49")
    assert [e["n"] for e in first.json[:3]] == [53, 52, 51]  # kinds keep their own fields

    second = client.get("/users/alice/activity?start_pos=50")
    assert (second.headers["X-RangeLimit-StartPos"], second.headers["X-RangeLimit-EndPos"]) == ("50", "54")
    assert [e.get("n") for e in second.json] == [3, 2, 1, 0, None]
    assert second.json[-1]["type"] == "joined"

    beyond = client.get("/users/alice/activity?start_pos=80")
    assert beyond.status_code == 200 and beyond.json == []
    assert beyond.headers["X-RangeLimit-Total"] == "55"


def test_a_bad_start_pos_answers_400_with_a_message(client, deliver, identity):
    deliver(identity.registered("alice"))
    for value in ("-1", "abc", "1.5", "99999999999"):
        response = client.get(f"/users/alice/activity?start_pos={value}")
        assert response.status_code == 400, value
        assert "start_pos" in response.json["message"]


def test_unknown_query_parameters_are_ignored(client, deliver, identity):
    deliver(identity.registered("alice"))
    assert client.get("/users/alice/activity?foo=bar").status_code == 200


def test_a_name_no_account_can_have_answers_4xx_not_500(client):
    assert client.get("/users/a%00b/activity").status_code == 400
    assert client.get("/users/" + "x" * 300 + "/activity").status_code == 404
