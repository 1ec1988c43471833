"""identity.user.password_changed: the account's owner is told by email that the password changed."""

import pytest


def changed(identity, username, *, reset, api_key_revoked=False):
    return identity.event("identity.user.password_changed", {
        "user_id": identity.user_id(username), "username": username, "email": f"{username}@example.com",
        "reset": reset, "api_key_revoked": api_key_revoked, "changed": "2026-11-25T10:30:00.000Z"})


@pytest.mark.parametrize("reset, revoked, says", [
    (False, False, "was just changed"),
    (True, True, "Your API key was revoked with it"),
])
def test_the_owner_is_told_that_the_password_changed(deliver, identity, send_due, smtp_sink, reset, revoked, says):
    deliver(identity.registered("alice"))
    event = changed(identity, "alice", reset=reset, api_key_revoked=revoked)
    deliver(event)
    deliver(event)  # redelivered: one email
    assert send_due() == 2
    [message] = [m for m in smtp_sink.messages if m["Subject"] == "Your Packyard password was changed"]
    assert message["To"] == "alice@example.com"
    body = message.get_body(("plain",)).get_content()
    assert says in body and "someone may have taken over your account" in body
