"""Sessions in an encrypted cookie, and the CSRF token every form carries.

The cookie holds the visitor's API bearer token, their username, when they logged in, and
the CSRF token, encrypted and authenticated with Fernet (``WEB_SESSION_KEY``): the browser
can neither read nor forge it. It is HttpOnly (no script can read it), SameSite=Lax, and
Secure when the site is served over HTTPS. Logging out deletes it.

Every POST must carry the session's CSRF token in the ``csrf_token`` form field; the token is
created for anonymous visitors too (sign-up and log-in forms), so no form is exempt.
"""

from __future__ import annotations

import hmac
import json
import secrets
import time
from typing import Any

import flask
from cryptography.fernet import Fernet, InvalidToken

COOKIE = "packyard_session"
MAX_AGE = 14 * 24 * 3600  # upper bound; a logged-in session ends when its API token expires


class Session(dict):
    modified: bool = False

    def set(self, key: str, value: Any) -> None:
        self[key] = value
        self.modified = True

    def drop(self, key: str) -> None:
        if key in self:
            del self[key]
            self.modified = True

    @property
    def token(self) -> str | None:
        if self.get("token") and self.get("expires", 0) > time.time():
            return self["token"]
        return None

    @property
    def username(self) -> str | None:
        return self.get("username") if self.token else None

    @property
    def login_age(self) -> float:
        return time.time() - self.get("login_at", 0)

    def log_in(self, token: str, expires_in: int, username: str) -> None:
        # A new login gets a new CSRF token: a token planted before login is worthless after.
        self.clear()
        self.update(token=token, expires=time.time() + int(expires_in), username=username,
                    login_at=time.time(), csrf=secrets.token_urlsafe(32))
        self.modified = True

    def replace_token(self, token: str, expires_in: int) -> None:
        self.update(token=token, expires=time.time() + int(expires_in), login_at=time.time())
        self.modified = True

    def csrf_token(self) -> str:
        if not self.get("csrf"):
            self.set("csrf", secrets.token_urlsafe(32))
        return self["csrf"]

    def flash(self, message: str, kind: str = "info") -> None:
        self.set("flash", [*self.get("flash", []), [kind, message]][-5:])

    def take_flashes(self) -> list[list[str]]:
        messages = self.get("flash", [])
        self.drop("flash")
        return messages


def _fernet() -> Fernet:
    return flask.current_app.extensions["web"].fernet


def load() -> Session:
    raw = flask.request.cookies.get(COOKIE)
    if raw:
        try:
            return Session(json.loads(_fernet().decrypt(raw.encode(), ttl=MAX_AGE)))
        except (InvalidToken, ValueError, TypeError):
            pass
    return Session()


def current() -> Session:
    if "web_session" not in flask.g:
        flask.g.web_session = load()
    return flask.g.web_session


def save(response: flask.Response) -> None:
    session: Session | None = flask.g.get("web_session")
    if session is None or not session.modified:
        return
    secure = flask.current_app.extensions["web"].secure_cookies
    if not session:
        response.delete_cookie(COOKIE, path="/", secure=secure, httponly=True, samesite="Lax")
        return
    value = _fernet().encrypt(json.dumps(dict(session)).encode()).decode()
    response.set_cookie(COOKIE, value, max_age=MAX_AGE, path="/", secure=secure, httponly=True, samesite="Lax")


def csrf_ok() -> bool:
    sent = flask.request.form.get("csrf_token", "")
    expected = current().get("csrf", "")
    return bool(sent and expected) and hmac.compare_digest(sent.encode(), expected.encode())
