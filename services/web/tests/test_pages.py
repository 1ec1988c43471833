"""Sessions, CSRF, headers, forms and degraded pages, with a stand-in API."""

from __future__ import annotations

import time

from web.charts import downloads_chart
from web.session import COOKIE

from .conftest import csrf_of


def test_every_post_needs_the_sessions_csrf_token(client, stand_in):
    stand_in.on("POST", "/auth/login", body={"token": "t", "expires_in": 60})
    page = client.get("/ui/login")
    token = csrf_of(page.data)
    assert client.post("/ui/login", data={"username": "a", "password": "b"}).status_code == 400
    wrong_token = {"username": "a", "password": "b", "csrf_token": token + "x"}
    assert client.post("/ui/login", data=wrong_token).status_code == 400
    assert not [r for r in stand_in.requests if r["path"] == "/auth/login"], "a refused form reaches no API"
    # Another visitor's token is worth nothing in this session.
    other = client.application.test_client()
    assert other.post("/ui/login", data={"username": "a", "password": "b", "csrf_token": token}).status_code == 400


def test_the_session_cookie_is_http_only_lax_and_secure_behind_https(make_app):
    plain = make_app().test_client().get("/ui/login").headers["Set-Cookie"]
    assert "HttpOnly" in plain and "SameSite=Lax" in plain and "Secure" not in plain
    secure = make_app(public_base_url="https://packyard.example.com").test_client().get("/ui/login")
    assert "Secure" in secure.headers["Set-Cookie"]


def test_the_session_is_encrypted_and_logging_out_ends_it(logged_in, stand_in):
    cookie = logged_in.get_cookie(COOKIE)
    assert "tok-ann" not in cookie.value and "ann" not in cookie.value
    stand_in.on("GET", "/me/profile", body={"first_name": "Ann"})
    assert logged_in.get("/ui/settings/profile").status_code == 200
    assert stand_in.requests[-1]["headers"]["Authorization"] == "Bearer tok-ann"
    token = csrf_of(logged_in.get("/ui/settings/password").data)
    stand_in.on("POST", "/auth/logout", body={"message": "success"})
    response = logged_in.post("/ui/logout", data={"csrf_token": token})
    assert response.status_code == 303 and logged_in.get_cookie(COOKIE) is not None
    [revoked] = [r for r in stand_in.requests if r["path"] == "/auth/logout"]
    assert revoked["method"] == "POST" and revoked["headers"]["Authorization"] == "Bearer tok-ann"
    after = logged_in.get("/ui/settings/profile")
    assert after.status_code == 303 and after.headers["Location"].startswith("/ui/login")


def test_logging_out_ends_the_session_even_when_the_api_is_down(logged_in, stand_in):
    stand_in.on("POST", "/auth/logout", status=503, body={"message": "unavailable"})
    response = logged_in.post("/ui/logout", data={"csrf_token": csrf_of(logged_in.get("/ui/login").data)})
    assert response.status_code == 303
    assert logged_in.get("/ui/settings/profile").headers["Location"].startswith("/ui/login")


def test_a_forged_or_tampered_cookie_is_an_anonymous_visitor(client):
    client.set_cookie(COOKIE, "gAAAAABnot-a-real-token")
    assert client.get("/ui/settings/profile").status_code == 303


def test_pages_carry_a_strict_content_security_policy(client):
    response = client.get("/ui/login")
    policy = response.headers["Content-Security-Policy"]
    assert "default-src 'none'" in policy and "script-src 'self'" in policy and "'unsafe-inline'" not in policy
    assert response.headers["X-Frame-Options"] == "DENY" and response.headers["Cache-Control"] == "no-store"


def test_the_apis_messages_go_next_to_their_fields_and_typed_values_stay(client, stand_in):
    stand_in.on("POST", "/auth/signup", status=400, body={
        "message": "Invalid request: email: Not a valid email address.; password: must be at least 8 characters long"})
    token = csrf_of(client.get("/ui/signup").data)
    response = client.post("/ui/signup", data={"username": "ann", "email": "nope", "full_name": "<b>Ann</b>",
                                               "password": "short", "csrf_token": token})
    html = response.data.decode()
    assert response.status_code == 400
    assert 'id="e-email">Not a valid email address.' in html
    assert 'id="e-password">Must be at least 8 characters long.' in html
    assert 'value="nope"' in html and 'value="&lt;b&gt;Ann&lt;/b&gt;"' in html, "kept, and escaped"
    assert 'value="short"' not in html, "passwords are never sent back"


def test_a_conflict_names_its_field(client, stand_in):
    stand_in.on("POST", "/auth/signup", status=409, body={"message": "The name 'ann' is already taken"})
    token = csrf_of(client.get("/ui/signup").data)
    html = client.post("/ui/signup", data={"username": "ann", "email": "a@example.com", "password": "x" * 12,
                                           "csrf_token": token}).data.decode()
    assert "id=\"e-username\">The name &#39;ann&#39; is already taken." in html


def test_a_slow_service_makes_its_section_unavailable_not_the_page(logged_in, stand_in):
    stand_in.on("GET", "/users/ann", body={"name": "ann", "full_name": "Ann", "followers_count": 0,
                                           "registered": "2026-01-01T00:00:00Z", "organizations": []})
    stand_in.on("GET", "/repos/ann", body=[{"name": "tools", "owner": "ann"}], delay=3)
    stand_in.on("GET", "/users/ann/activity", status=502, body={"message": "Bad gateway"})
    started = time.monotonic()
    response = logged_in.get("/ui/users/ann")
    elapsed = time.monotonic() - started
    html = response.data.decode()
    assert response.status_code == 200 and "Ann" in html
    assert "Repositories are unavailable" in html and "Activity is unavailable" in html
    assert elapsed < 2.5, f"the page waited {elapsed:.1f}s for a slow service"


def test_an_expired_login_sends_the_visitor_to_log_in_again(logged_in, stand_in):
    stand_in.on("GET", "/me/profile", status=401, body={"message": "Invalid credentials"})
    response = logged_in.get("/ui/settings/profile")
    assert response.status_code == 303 and "/ui/login?next=%2Fui%2Fsettings%2Fprofile" in response.headers["Location"]


def test_api_key_pages_ask_for_the_password_when_the_login_is_too_old(logged_in, stand_in):
    stand_in.on("GET", "/me/apikey", status=403,
                body={"message": "Showing the API key needs a password login from the last 15 minutes: log in again"})
    html = logged_in.get("/ui/settings/apikey").data.decode()
    assert 'id="reauth-why"' in html and 'value="confirm"' in html
    stand_in.on("POST", "/auth/login", body={"token": "tok-fresh", "expires_in": 3600})
    stand_in.on("GET", "/me/apikey", body={"api_key": "k" * 40})
    response = logged_in.post("/ui/settings/apikey", data={"action": "confirm", "password": "pw",
                                                           "csrf_token": csrf_of(html.encode())})
    assert response.status_code == 303
    html = logged_in.get("/ui/settings/apikey").data.decode()
    assert "k" * 40 in html and stand_in.requests[-1]["headers"]["Authorization"] == "Bearer tok-fresh"


def test_next_after_login_stays_on_this_site(client, stand_in):
    stand_in.on("POST", "/auth/login", body={"token": "t", "expires_in": 60})
    stand_in.on("GET", "/me", body={"name": "ann"})
    for target, expected in (("//evil.example.com/ui/x", "/ui/users/ann"),
                             ("https://evil.example.com", "/ui/users/ann"),
                             ("/ui/settings/apikey", "/ui/settings/apikey")):
        client.delete_cookie("packyard_session")
        token = csrf_of(client.get("/ui/login").data)
        response = client.post("/ui/login", data={"username": "ann", "password": "pw", "next": target,
                                                  "csrf_token": token})
        assert response.headers["Location"] == expected


def test_cookies_the_api_sets_for_one_visitor_never_reach_another(client, stand_in, make_app):
    stand_in.on("POST", "/auth/login", body={"token": "t", "expires_in": 60},
                headers={"Set-Cookie": "packyard_device=dev-ann; Path=/auth/login; HttpOnly"})
    stand_in.on("GET", "/me", body={"name": "ann"})
    token = csrf_of(client.get("/ui/login").data)
    response = client.post("/ui/login", data={"username": "ann", "password": "pw", "csrf_token": token})
    assert "packyard_device=dev-ann" in response.headers.get("Set-Cookie", "") or \
        any("packyard_device=dev-ann" in v for v in response.headers.getlist("Set-Cookie"))
    other = client.application.test_client()
    token = csrf_of(other.get("/ui/login").data)
    other.post("/ui/login", data={"username": "bob", "password": "pw", "csrf_token": token})
    last_login = [r for r in stand_in.requests if r["path"] == "/auth/login"][-1]
    assert "dev-ann" not in last_login["headers"].get("Cookie", "")


def test_the_downloads_chart_is_an_accessible_svg():
    records = [{"date": f"2026/11/{d:02d}", "downloads": [{"version": "1.0", "count": d % 5}]} for d in range(1, 31)]
    svg = str(downloads_chart(records))
    assert svg.startswith("<svg") and 'role="img"' in svg
    assert "from 2026/11/01 to 2026/11/30: 60 in all" in svg
    assert svg.count("<rect") == 30
    assert "<script" not in svg and "style=" not in svg, "nothing the Content-Security-Policy would block"


def test_api_calls_carry_the_visitors_address_as_the_gateway_gave_it(client, stand_in):
    stand_in.on("POST", "/auth/login", body={"token": "tok-ann", "expires_in": 3600})
    stand_in.on("GET", "/me", body={"name": "ann"})
    gateway = {"X-Forwarded-For": "203.0.113.50, 198.51.100.7"}  # the gateway appended the visitor's address
    token = csrf_of(client.get("/ui/login", headers=gateway).data)
    client.post("/ui/login", data={"username": "ann", "password": "pw", "csrf_token": token}, headers=gateway)
    client.get("/ui/users/ann", headers=gateway)  # a page whose sections are gathered concurrently
    assert stand_in.requests and all(r["headers"].get("X-Forwarded-For") == "198.51.100.7"
                                      for r in stand_in.requests)
    assert {"/auth/login", "/me", "/users/ann"} <= {r["path"] for r in stand_in.requests}
