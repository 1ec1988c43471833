"""The bus as a trust boundary in the running platform: every process connects as its service's
own broker user, and no service can speak for another."""

from __future__ import annotations

import json
import uuid

import pika
import pika.exceptions
import pytest

from packyard.events import CONTENT_TYPE
from packyard.testing import wait_for

pytestmark = pytest.mark.e2e


def welcome_effects(gw, user) -> dict[str, int]:
    """How many times the consumers acted on this user's registration."""
    headers = gw.login(user)
    notes = gw.get("/me/notifications", headers=headers).json()
    return {
        "notifications": sum(1 for n in notes if n["type"] == "welcome"),
        "catalog": len(gw.query("catalog", "SELECT 1 FROM subjects WHERE name = :n", n=user["username"])),
        "signing": len(gw.query("signing", "SELECT 1 FROM subjects WHERE name = :n", n=user["username"])),
    }


ONCE = {"notifications": 1, "catalog": 1, "signing": 1}


def publish_as(url: str, exchange: str, routing_key: str, body: dict) -> None:
    connection = pika.BlockingConnection(pika.URLParameters(url))
    try:
        channel = connection.channel()
        channel.confirm_delivery()
        channel.basic_publish(exchange, routing_key, json.dumps(body).encode(), pika.BasicProperties(
            content_type=CONTENT_TYPE, delivery_mode=2, type=routing_key, message_id=body["id"]), mandatory=True)
    finally:
        if connection.is_open:
            connection.close()


def forged_registration(gw, source: str) -> dict:
    name = gw.unique_name("forged")
    return {"specversion": "1.0", "id": str(uuid.uuid4()), "source": source, "type": "identity.user.registered",
            "datacontenttype": "application/json",
            "data": {"user_id": str(uuid.uuid4()), "username": name, "email": f"{name}@example.com",
                     "full_name": "Forged", "registered": "2026-12-01T00:00:00.000Z"}}


def test_each_process_connects_with_its_services_own_broker_user(gw):
    for svc in ("identity", "social", "catalog", "notifier", "signing"):
        env = gw.platform.process_env(f"{svc}-worker")
        assert pika.URLParameters(env["AMQP_URL"]).credentials.username.endswith(f"-{svc}")


def test_one_services_credentials_cannot_publish_identitys_events(gw):
    catalog_url = gw.platform.process_env("catalog-relay")["AMQP_URL"]
    forged = forged_registration(gw, "/identity")
    with pytest.raises(pika.exceptions.ChannelClosedByBroker) as refused:
        publish_as(catalog_url, "identity.events", "identity.user.registered", forged)
    assert refused.value.reply_code == 403
    marker = gw.signup()
    wait_for(lambda: welcome_effects(gw, marker) == ONCE, timeout=20, message="the platform still flowing")
    assert not gw.query("notifier", "SELECT 1 FROM recipients WHERE username = :n",
                        n=forged["data"]["username"])


def test_an_event_on_a_services_exchange_claiming_another_source_is_parked_by_every_consumer(gw):
    # on identity's exchange (written here by the administrator), an event that says it is catalog's
    impostor = forged_registration(gw, "/catalog")
    gw.publish_raw("identity.events", "identity.user.registered", json.dumps(impostor).encode(), impostor["id"])
    marker = gw.signup()
    wait_for(lambda: welcome_effects(gw, marker) == ONCE, timeout=20, message="messages behind the impostor")
    for service in ("social", "notifier", "catalog", "signing"):
        parked = wait_for(lambda service=service: [m for m in gw.queue_messages(f"{service}.dlq")
                                   if m[0].message_id == impostor["id"]],
                          timeout=20, message=f"the impostor in {service}.dlq")
        props, _body = parked[0]
        assert "refused" in props.headers["x-packyard-error"]
        assert "x-packyard-retries" not in props.headers
    assert not gw.query("catalog", "SELECT 1 FROM subjects WHERE name = :n", n=impostor["data"]["username"])
