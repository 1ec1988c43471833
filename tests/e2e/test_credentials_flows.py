"""Credentials through the whole platform: a password change signs old logins out and reaches the owner by
email; a page on another site cannot make a browser holding credentials change anything."""

from __future__ import annotations

import pytest

from packyard.testing import wait_for

pytestmark = pytest.mark.e2e

NEW_PASSWORD = "another long pass phrase"


def test_a_password_change_signs_old_logins_out_and_tells_the_owner_by_email(gw):
    user = gw.signup()
    old = gw.login(user)
    response = gw.request("PUT", "/me/password", headers=old, json={
        "old_password": user["password"], "new_password": NEW_PASSWORD, "retype_password": NEW_PASSWORD})
    assert response.status_code == 200, response.text
    assert gw.get("/me", headers=old).status_code == 401
    assert gw.get("/me", headers={"Authorization": f"Bearer {response.json()['token']}"}).status_code == 200
    mail = wait_for(lambda: [m for m in gw.mail_to(user["email"])
                             if m["Subject"] == "Your Packyard password was changed"], timeout=30,
                    message="the password-changed email")
    assert user["username"] in mail[0].get_body(("plain",)).get_content()


def test_cross_site_changes_and_forms_on_json_endpoints_are_refused_through_the_gateway(gw):
    user = gw.signup()
    headers = gw.login(user)
    refused = gw.post("/orgs", json={"name": gw.unique_name("org")},
                      headers={**headers, "Sec-Fetch-Site": "cross-site"})
    assert refused.status_code == 403
    form = gw.post("/orgs", data="name=evil-org",
                   headers={**headers, "Content-Type": "application/x-www-form-urlencoded"})
    assert form.status_code == 415
    assert gw.get(f"/users/{user['username']}", headers={**headers, "Sec-Fetch-Site": "cross-site"}).status_code == 200
