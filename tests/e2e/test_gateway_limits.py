"""Oversized request lines and headers: every answer through the gateway is JSON, never an HTML page."""

from __future__ import annotations

import pytest

pytestmark = pytest.mark.e2e


def _json_message(response) -> str:
    assert response.headers["Content-Type"].startswith("application/json"), response.text[:200]
    return response.json()["message"]


def test_a_request_line_up_to_8_kib_reaches_the_service(platform):
    # longer than gunicorn's default limit (4 KiB), within the gateway's: the service itself answers
    response = platform.get("/search/packages", params={"name": "x" * 6000})
    assert response.status_code == 400
    assert "name: Longer than maximum length" in _json_message(response)  # catalog's own validation


def test_a_request_line_over_8_kib_is_refused_with_a_json_message(platform):
    response = platform.get("/search/packages", params={"name": "x" * 9000})
    assert response.status_code == 414
    assert "8 KiB" in _json_message(response)


def test_headers_over_8_kib_are_refused_with_a_json_message(platform):
    response = platform.get("/search/packages", params={"name": "x"}, headers={"X-Large": "y" * 9000})
    assert response.status_code == 431
    assert "8 KiB" in _json_message(response)


def test_a_stopped_service_is_answered_with_a_retryable_json_503(platform):
    platform.platform.stop(["signing-api"])
    try:
        response = platform.get("/gpg/platform/public.key")
        assert response.status_code == 503
        assert response.headers["Retry-After"] == "5"
        assert "unavailable" in _json_message(response)
        # the other services answer their own paths
        assert platform.get("/search/packages", params={"name": "x"}).status_code == 200
    finally:
        platform.platform.start(["signing-api"])
        platform.platform.wait_ready(names=["signing-api"], timeout=60)
    assert platform.get("/gpg/platform/public.key").status_code == 200


def test_credentials_that_cannot_be_checked_are_a_retryable_json_503_not_a_pass(platform):
    user = platform.signup(platform.unique_name("auth"))
    auth = platform.api_key(user)
    platform.platform.stop(["identity-api"])
    try:
        response = platform.get(f"/repos/{user['username']}", auth=auth)
        assert response.status_code == 503
        assert "unavailable" in _json_message(response)
        # anonymous reads never ask identity
        assert platform.get("/search/packages", params={"name": "x"}).status_code == 200
    finally:
        platform.platform.start(["identity-api"])
        platform.platform.wait_ready(names=["identity-api"], timeout=60)
    assert platform.get(f"/repos/{user['username']}", auth=auth).status_code == 200
