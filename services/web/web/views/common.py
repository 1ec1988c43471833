"""What every page shares: the API client, the visitor's session, rendering with the header's data."""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any
from urllib.parse import quote, urlencode

import flask
import werkzeug

from web import session
from web.api import Answer, Api


class LoginRequired(Exception):
    """The visitor must log in (or log in again) to see this."""


def api() -> Api:
    return flask.current_app.extensions["web"].api


def visitor() -> session.Session:
    return session.current()


def q(value: str) -> str:
    """A path segment, quoted."""
    return quote(str(value), safe="")


def safe_next(target: str | None) -> str:
    """Only our own pages are valid places to return to after logging in."""
    if target and target.startswith(("/ui/", "/reset-password")) and not target.startswith("//") \
            and "\\" not in target:
        return target
    return "/"


def load(calls: dict[str, tuple], *, header: bool = True) -> dict[str, Answer]:
    """Ask the API for everything a page shows at once, plus the unread count of the header."""
    me = visitor()
    calls = dict(calls)
    if header and me.token:
        calls["_unread"] = ("GET", "/me/notifications/unread_count")
    answers = api().gather(calls, me.token) if calls else {}
    if me.token and any(a.status == 401 for a in answers.values()):
        # The login token expired or was revoked (a password change elsewhere): log in again.
        me.clear()
        me.modified = True
        raise LoginRequired()
    unread = answers.pop("_unread", None)
    if unread is not None and unread.ok and isinstance(unread.data, dict):
        flask.g.unread = unread.data.get("unread_count")
    return answers


def call(method: str, path: str, **kwargs: Any) -> Answer:
    me = visitor()
    answer = api().call(method, path, me.token, **kwargs)
    if me.token and answer.status == 401:
        me.clear()
        me.modified = True
        raise LoginRequired()
    return answer


def login_required(view: Callable[..., Any]) -> Callable[..., Any]:
    @functools.wraps(view)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        if not visitor().token:
            raise LoginRequired()
        return view(*args, **kwargs)

    return wrapper


def render(template: str, *, skip_api: bool = False, **context: Any) -> str:
    me = visitor()
    if not skip_api and me.token and "unread" not in flask.g:
        load({})
    return flask.render_template(template, me=me.username, unread=flask.g.get("unread"),
                                 flashes=me.take_flashes(), csrf_token=me.csrf_token, avatar_url=avatar_url,
                                 **context)


def avatar_url(name: str) -> str:
    """The avatar's address; the visitor's own changes after an upload (avatars are cached for minutes)."""
    me = visitor()
    url = f"/users/{q(name)}/avatar"
    if me.username and name.lower() == me.username.lower() and me.get("avatar_v"):
        url += f"?v={me['avatar_v']}"
    return url


def redirect_to_login() -> werkzeug.Response:
    target = flask.request.full_path.rstrip("?") if flask.request.method == "GET" else flask.request.path
    return flask.redirect("/ui/login?" + urlencode({"next": safe_next(target)}), 303)


class Form:
    """What was typed, and the API's messages for each field, to render a form again."""

    def __init__(self, fields: tuple[str, ...], values: dict[str, Any] | None = None,
                 aliases: dict[str, str] | None = None) -> None:
        self.fields = fields
        self.aliases = aliases or {}  # words of the API's messages that name a field
        self.values: dict[str, Any] = dict(values or {})
        self.errors: dict[str, str] = {}
        self.message = ""

    @classmethod
    def posted(cls, fields: tuple[str, ...], keep_secret: tuple[str, ...] = (),
               aliases: dict[str, str] | None = None) -> Form:
        form = flask.request.form
        values = {name: form.get(name, "") for name in fields if name not in keep_secret}
        return cls(fields, values, aliases)

    def refuse(self, answer: Answer) -> Form:
        typed = tuple({word for value in self.values.values() if isinstance(value, str)
                       for word in value.replace(",", " ").split() if len(word) >= 3})
        errors, message = answer.field_errors(self.fields, self.aliases, typed)
        self.errors = {name: _sentence(text) for name, text in errors.items()}
        self.message = _sentence(message) if message else ""
        return self

    def value(self, name: str) -> Any:
        return self.values.get(name, "")

    def __bool__(self) -> bool:
        return True


def _sentence(text: str) -> str:
    """The API's message as a sentence: capital first letter, final full stop."""
    text = text.strip()
    if not text:
        return text
    text = text[0].upper() + text[1:]
    return text if text.endswith((".", "!", "?")) else text + "."
