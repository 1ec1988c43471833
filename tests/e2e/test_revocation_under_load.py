"""Revocation under load: while threads keep sending authenticated requests through the gateway (as wrk
would), an API key is revoked, a password changed, an account deleted — and not one request sent after
the revoking call returned succeeds, although identity answers a recently minted access token again
for credentials whose claims have not changed."""

from __future__ import annotations

import base64
import threading
import time
from collections.abc import Callable

import pytest
import requests

from packyard.testing import wait_for

pytestmark = pytest.mark.e2e

THREADS = 6
BEFORE = 40  # successful requests wanted before the revocation
AFTER = 60  # requests wanted that were sent after the revoking call returned


def basic(username: str, api_key: str) -> dict[str, str]:
    return {"Authorization": "Basic " + base64.b64encode(f"{username}:{api_key}".encode()).decode()}


def publisher(gw) -> tuple[dict, dict[str, str], list[str]]:
    """A user with a public package and file: the user, their login headers, and paths to read (catalog,
    identity, a download)."""
    user = gw.signup()
    name = user["username"]
    login = gw.login(user)
    wait_for(lambda: gw.get(f"/repos/{name}").status_code == 200, timeout=30, message="catalog knowing the user")
    response = gw.post(f"/repos/{name}/tools", headers=login, json={"type": "generic", "desc": "tools"})
    assert response.status_code == 201, response.text
    response = gw.post(f"/packages/{name}/tools", headers=login, json={
        "name": "hammer", "desc": "a hammer", "licenses": ["MIT"], "vcs_url": "https://example.com/hammer.git"})
    assert response.status_code == 201, response.text
    response = gw.request("PUT", f"/content/{name}/tools/hammer/1.0/hammer-1.0.txt?publish=1", headers=login,
                          data=b"a public file")
    assert response.status_code == 201, response.text
    # a public file too: a download with credentials is authenticated before the gateway serves it itself
    return user, login, [f"/packages/{name}/tools/hammer", "/me", f"/dl/{name}/tools/hammer-1.0.txt",
                         f"/repos/{name}/tools"]


def under_load(gw, credentials: list[dict[str, str]], paths: list[str], revoke: Callable[[], None]) -> None:
    """Send authenticated requests from several threads, ``revoke`` mid-way, and check what followed."""
    stop = threading.Event()
    lock = threading.Lock()
    sent: list[tuple[float, int, str]] = []  # (when the request was sent, its status, its path)
    failures: list[BaseException] = []

    def loop(number: int) -> None:
        http = requests.Session()  # keep-alive, like wrk's connections
        headers = credentials[number % len(credentials)]
        count = number
        try:
            while not stop.is_set():
                path = paths[count % len(paths)]
                count += 1
                started = time.monotonic()
                status = http.get(gw.url + path, headers=headers, timeout=30).status_code
                with lock:
                    sent.append((started, status, path))
        except BaseException as exc:  # noqa: BLE001 - reported by the test below
            failures.append(exc)

    def count(predicate: Callable[[tuple[float, int, str]], bool]) -> int:
        with lock:
            return sum(1 for entry in sent if predicate(entry))

    threads = [threading.Thread(target=loop, args=(n,), daemon=True) for n in range(THREADS)]
    for thread in threads:
        thread.start()
    try:
        wait_for(lambda: count(lambda e: e[1] == 200) >= BEFORE or failures, timeout=60,
                 message="authenticated requests succeeding before the revocation")
        revoke()
        revoked_at = time.monotonic()
        wait_for(lambda: count(lambda e: e[0] > revoked_at) >= AFTER or failures, timeout=60,
                 message="requests sent after the revocation")
    finally:
        stop.set()
        for thread in threads:
            thread.join(60)
    assert not failures, failures
    before = [status for started, status, _ in sent if started <= revoked_at]
    after = [(status, path) for started, status, path in sent if started > revoked_at]
    assert before.count(200) >= BEFORE
    assert len(after) >= AFTER
    assert all(status == 401 for status, _ in after), [entry for entry in after if entry[0] != 401]


def test_a_revoked_api_key_is_refused_from_the_next_request_under_load(gw):
    user, login, paths = publisher(gw)
    username, key = gw.api_key(user)

    def revoke() -> None:
        response = gw.request("DELETE", "/me/apikey", headers=login)
        assert response.status_code == 200, response.text

    under_load(gw, [basic(username, key)], paths, revoke)
    assert gw.get("/me", headers=login).status_code == 200  # the login is not what was revoked


def test_a_regenerated_api_key_refuses_the_old_one_under_load(gw):
    user, login, paths = publisher(gw)
    username, key = gw.api_key(user)
    regenerated: list[str] = []

    def regenerate() -> None:
        response = gw.request("PUT", "/me/apikey", headers=login)
        assert response.status_code == 200, response.text
        regenerated.append(response.json()["api_key"])

    under_load(gw, [basic(username, key)], paths, regenerate)
    assert gw.get(paths[0], headers=basic(username, regenerated[0])).status_code == 200


def test_a_password_change_refuses_every_earlier_login_token_under_load(gw):
    user, login, paths = publisher(gw)
    other = gw.login(user)
    new_password = "another long enough password"

    def change_password() -> None:
        response = gw.request("PUT", "/me/password", headers=login, json={
            "old_password": user["password"], "new_password": new_password, "retype_password": new_password})
        assert response.status_code == 200, response.text

    under_load(gw, [login, other], paths, change_password)
    assert gw.get("/me", headers=gw.login(dict(user, password=new_password))).status_code == 200


def test_a_deleted_account_is_refused_with_its_api_key_and_its_login_tokens_under_load(gw):
    user, login, paths = publisher(gw)
    username, key = gw.api_key(user)

    def delete_account() -> None:
        response = gw.request("DELETE", "/me", headers=login, json={"password": user["password"]})
        assert response.status_code == 200, response.text

    under_load(gw, [basic(username, key), login, gw.login(user)], paths, delete_account)
