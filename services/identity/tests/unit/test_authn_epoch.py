"""The authentication epoch (identity.authn_epoch): which changes advance it, how the gateways are told,
and what /internal/authn lets the gateway keep."""

from __future__ import annotations

import http.server
import threading
import time

import pytest

from identity.api.internal import keepable_seconds
from identity.app import create_app
from identity.authn import Authenticated
from identity.authn_epoch import ANNOUNCEMENTS, CONTROL_PATH, EPOCH_HEADER, AuthnEpoch
from packyard.testing import free_port

SERVICE_TOKEN_HEADER = "X-Service-Token"


class ControlListener:
    """A stand-in for a gateway's control listener: keeps the epoch it is told and answers it (as the
    gateway does), or, ``stale`` times, an older one (an earlier announcement stored after this one)."""

    def __init__(self, token: str, stale: int = 0) -> None:
        self.calls: list[dict[str, str]] = []
        self.stale = stale
        listener = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_GET(self) -> None:  # noqa: N802 - the standard library's name
                path, _, query = self.path.partition("?")
                args = dict(part.split("=", 1) for part in query.split("&") if "=" in part)
                listener.calls.append(args)
                assert path == CONTROL_PATH and self.headers[SERVICE_TOKEN_HEADER] == token
                value = int(args["epoch"])
                if listener.stale:
                    listener.stale -= 1
                    value -= 1
                self.send_response(200)
                self.send_header(EPOCH_HEADER, str(value))
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *_args) -> None:
                pass

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def told(identity):
    """Identity's epoch with a control listener to tell (the identity fixture's epoch, re-pointed)."""
    listener = ControlListener(identity.settings.service_token)
    identity.epoch._gateways = [listener.url]  # noqa: SLF001 - GATEWAY_CONTROL_URLS of this test
    yield listener
    listener.close()


def test_revocations_and_membership_changes_advance_the_epoch_and_profile_edits_do_not(api, identity, told):
    alice = api.user("alice")
    bob = api.user("bob")
    epoch = identity.epoch.current()

    def advanced() -> bool:
        nonlocal epoch
        now = identity.epoch.current()
        changed, epoch = now != epoch, now
        return changed

    assert api.client.patch("/me/profile", headers=alice, json={"bio": "hello"}).status_code == 200
    assert not advanced(), "a profile edit changes no token"
    assert api.client.post("/orgs", headers=alice, json={"name": "acme"}).status_code == 201
    assert advanced(), "the owner's membership"
    assert api.client.post("/orgs/acme/members", headers=alice, json={"username": "bob"}).status_code == 201
    assert advanced(), "a new member"
    assert api.client.post("/orgs/acme/teams", headers=alice, json={"name": "devs", "members": ["bob"]}) \
        .status_code == 201
    assert advanced(), "a team and its member"
    assert api.client.patch("/orgs/acme/teams/devs", headers=alice, json={"members": []}).status_code == 200
    assert advanced(), "a team member removed (a bulk DELETE)"
    assert api.client.delete("/orgs/acme/members/bob", headers=alice).status_code in (200, 204)
    assert advanced(), "a member removed (a bulk DELETE)"
    headers, _key = api.api_key_headers(bob, "bob")
    assert not advanced(), "a first API key answers nothing that was kept"
    assert api.client.put("/me/apikey", headers=bob).status_code == 200
    assert advanced(), "a regenerated API key"
    assert api.client.delete("/me/apikey", headers=bob).status_code == 200
    assert advanced(), "a revoked API key"
    assert [int(call["epoch"]) for call in told.calls] == list(range(epoch - 6, epoch + 1)), \
        "the gateway was told of every new epoch"
    assert {call["ttl"] for call in told.calls} == {str(identity.settings.authn_epoch_recheck_seconds)}


def test_a_gateway_answering_an_older_epoch_is_told_again(identity):
    listener = ControlListener("a-service-token", stale=1)
    try:
        epoch = AuthnEpoch(identity.platform.engine, [listener.url], service_token="a-service-token")
        assert epoch.announce(epoch.advance()) == []
        assert len(listener.calls) == 2
    finally:
        listener.close()


def test_a_gateway_that_cannot_be_told_is_reported_and_the_change_still_stands(identity):
    failed_before = ANNOUNCEMENTS.labels("failed")._value.get()  # noqa: SLF001 - the counter's value
    epoch = AuthnEpoch(identity.platform.engine, [f"http://127.0.0.1:{free_port()}"], timeout=1)
    before = epoch.current()
    started = time.monotonic()
    assert epoch.announce(epoch.advance()) != []
    assert time.monotonic() - started < 2
    assert epoch.current() == before + 1
    assert ANNOUNCEMENTS.labels("failed")._value.get() == failed_before + 1  # noqa: SLF001


def test_answers_are_kept_only_with_gateways_to_tell_and_never_past_the_tokens_expiry(api, identity, told):
    api.signup("carol")
    response = api.authn(f"Bearer {api.login('carol')}")
    assert response.status_code == 200
    assert response.headers["X-Accel-Expires"] == str(identity.settings.authn_cache_seconds)
    with create_app(identity).app_context():
        now = int(identity.clock().timestamp())
        quarter = identity.tokens.access_ttl // 4
        assert keepable_seconds(Authenticated("t", now + quarter + 10, None)) == 10
        assert keepable_seconds(Authenticated("t", now + 3600, now + 7)) == 7
        assert keepable_seconds(Authenticated("t", now + 3600, now - 1)) == 0
        identity.epoch._gateways = []  # noqa: SLF001 - no GATEWAY_CONTROL_URLS
        assert keepable_seconds(Authenticated("t", now + 3600, None)) == 0
    assert api.authn("Basic bm9ib2R5Om5vdGhpbmc=").headers["X-Accel-Expires"] == "0"  # a 401 is never kept


def test_the_epoch_endpoint_answers_the_database_value_and_the_recheck(api, identity):
    response = api.client.get("/internal/authn/epoch",
                              headers={SERVICE_TOKEN_HEADER: identity.settings.service_token})
    assert response.status_code == 200
    assert response.headers[EPOCH_HEADER] == str(identity.epoch.current())
    assert response.headers["X-Accel-Expires"] == str(identity.settings.authn_epoch_recheck_seconds)
    assert api.client.get("/internal/authn/epoch").status_code == 401  # services and the gateway only
