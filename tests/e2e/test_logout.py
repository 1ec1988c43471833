"""Logging out through the gateway: the login token is refused at once, by every service behind it."""

from __future__ import annotations

import pytest

pytestmark = pytest.mark.e2e


def test_a_logged_out_token_gets_401_everywhere_and_other_logins_keep_working(gw):
    user = gw.signup()
    token, other = gw.login(user), gw.login(user)
    assert gw.get("/me", headers=token).status_code == 200
    response = gw.post("/auth/logout", headers=token)
    assert response.status_code == 200, response.text
    assert gw.get("/me", headers=token).status_code == 401
    assert gw.get("/me/notifications", headers=token).status_code == 401
    assert gw.post("/auth/logout", headers=token).status_code == 401
    assert gw.get("/me", headers=other).status_code == 200
    assert gw.post("/auth/logout").status_code == 401
