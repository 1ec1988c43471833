"""A sign-up, followed through the gateway into every service, and the faults the bus must survive."""

from __future__ import annotations

import json
import signal

import pytest

from packyard.testing import wait_for

pytestmark = pytest.mark.e2e


def notifications(gw, user) -> list[dict]:
    response = gw.get("/me/notifications", headers=gw.login(user))
    assert response.status_code == 200, response.text
    return response.json()


def activity(gw, username) -> list[dict]:
    response = gw.get(f"/users/{username}/activity")
    return response.json() if response.status_code == 200 else []


def welcome_effects(gw, user) -> dict[str, int]:
    """How many times each service acted on this user's registration."""
    return {
        "activity": sum(1 for e in activity(gw, user["username"]) if e["type"] == "joined"),
        "notifications": sum(1 for n in notifications(gw, user) if n["type"] == "welcome"),
        "emails": len(gw.mail_to(user["email"])),
        "catalog": len(gw.query("catalog", "SELECT 1 FROM subjects WHERE name = :n", n=user["username"])),
        "signing": len(gw.query("signing", "SELECT 1 FROM subjects WHERE name = :n", n=user["username"])),
    }


ONCE = {"activity": 1, "notifications": 1, "emails": 1, "catalog": 1, "signing": 1}


def test_signing_up_reaches_every_service(gw):
    user = gw.signup()
    wait_for(lambda: welcome_effects(gw, user) == ONCE, timeout=15, message="every service acting on the sign-up")
    [note] = [n for n in notifications(gw, user) if n["type"] == "welcome"]
    assert note["read"] is False and note["title"]
    [mail] = gw.mail_to(user["email"])
    assert "Welcome" in mail["Subject"]
    [joined] = [e for e in activity(gw, user["username"]) if e["type"] == "joined"]
    assert joined["actor"] == user["username"] and joined["created"].endswith("Z")
    assert gw.get(f"/repos/{user['username']}").status_code == 200  # catalog knows the subject


def test_the_same_event_delivered_twice_has_one_effect(gw):
    user = gw.signup()
    wait_for(lambda: welcome_effects(gw, user) == ONCE, timeout=15)
    body = gw.event_body("identity", "identity.user.registered", user["username"])
    event_id = json.loads(body)["id"]
    gw.publish_raw("identity.events", "identity.user.registered", body.encode(), message_id=event_id)
    marker = gw.signup()  # queued behind the duplicate in every consumer
    wait_for(lambda: welcome_effects(gw, marker) == ONCE, timeout=15)
    assert welcome_effects(gw, user) == ONCE


def test_a_poison_message_is_parked_after_bounded_retries_while_the_rest_flow(gw):
    poison = {"specversion": "1.0", "id": "poison-" + gw.unique_name(), "source": "/identity",
              "type": "identity.user.registered", "datacontenttype": "application/json",
              "data": {"user_id": "x", "email": "not an address"}}  # no username: no handler can use it
    gw.publish_raw("identity.events", "identity.user.registered", json.dumps(poison).encode(), poison["id"])
    marker = gw.signup()
    wait_for(lambda: welcome_effects(gw, marker) == ONCE, timeout=15, message="messages behind the poison")
    for service in ("social", "notifier", "catalog", "signing"):
        parked = wait_for(lambda service=service: [m for m in gw.queue_messages(f"{service}.dlq")
                                           if m[0].message_id == poison["id"]],
                          timeout=15, message=f"poison in {service}.dlq")
        props, _body = parked[0]
        assert props.headers["x-packyard-retries"] == gw.retries
        assert props.headers["x-packyard-error"]


def test_events_committed_while_the_broker_is_unreachable_are_delivered_when_it_returns(gw):
    gw.proxy.cut()
    try:
        users = [gw.signup() for _ in range(3)]  # the API keeps working: events wait in the outbox
        pending = gw.query("identity", "SELECT count(*) FROM outbox WHERE sent_at IS NULL AND type = "
                                       "'identity.user.registered'")[0][0]
        assert pending >= 3
    finally:
        gw.proxy.restore()
    for user in users:
        wait_for(lambda user=user: welcome_effects(gw, user) == ONCE, timeout=60, message="delivery after the outage")


def test_an_event_published_again_after_a_relay_crash_has_no_second_effect(gw):
    user = gw.signup()
    wait_for(lambda: welcome_effects(gw, user) == ONCE, timeout=15)
    # A relay killed after the broker confirmed but before it marked the row leaves exactly this:
    # a published event whose row is still unsent. The next relay publishes it again.
    with gw.engine("identity").begin() as conn:
        import sqlalchemy as sa

        conn.execute(sa.text("UPDATE outbox SET sent_at = NULL WHERE type = 'identity.user.registered' "
                             "AND subject = :s"), {"s": user["username"]})
    wait_for(lambda: gw.query("identity", "SELECT sent_at FROM outbox WHERE subject = :s AND type = "
                                          "'identity.user.registered'", s=user["username"])[0][0] is not None,
             timeout=15, message="the relay publishing the row again")
    marker = gw.signup()
    wait_for(lambda: welcome_effects(gw, marker) == ONCE, timeout=15)
    assert welcome_effects(gw, user) == ONCE


def test_a_worker_stops_gracefully_on_sigterm_and_catches_up_after_restart(gw):
    gw.platform.kill("notifier-worker", signal.SIGTERM)
    assert gw.platform.processes["notifier-worker"].popen.returncode == 0
    user = gw.signup()
    gw.platform.restart("notifier-worker")
    wait_for(lambda: welcome_effects(gw, user) == ONCE, timeout=30)
