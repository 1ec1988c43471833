"""The public API, as the pages call it: through the gateway, with the visitor's own token.

:class:`Api` answers :class:`Answer` objects instead of raising, so a page can render
whatever it got. :meth:`Api.gather` asks several endpoints at once (threads) and waits at
most ``section_timeout`` seconds: a service that is down or slow makes its section
"unavailable" instead of making the whole page fail.
"""

from __future__ import annotations

import logging
import re
import threading
from concurrent.futures import ThreadPoolExecutor, wait
from dataclasses import dataclass, field
from http.cookiejar import DefaultCookiePolicy
from http.cookies import CookieError, SimpleCookie
from typing import Any

import flask
import requests
from requests.adapters import HTTPAdapter

log = logging.getLogger(__name__)

UNAVAILABLE = 0  # the status of an answer that never came (connection refused, timeout)


@dataclass
class Answer:
    status: int
    data: Any = None
    message: str = ""
    headers: dict[str, str] = field(default_factory=dict)
    cookies: dict[str, str] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return 200 <= self.status < 300

    @property
    def unavailable(self) -> bool:
        """The service did not answer usefully: down, timed out, or a gateway/server error."""
        return self.status == UNAVAILABLE or self.status >= 500

    @property
    def total(self) -> int | None:
        raw = self.headers.get("X-RangeLimit-Total")
        return int(raw) if raw and raw.isdigit() else None

    def field_errors(self, fields: tuple[str, ...], aliases: dict[str, str] | None = None,
                     typed: tuple[str, ...] = ()) -> tuple[dict[str, str], str]:
        """Split the API's message into per-field messages and what is left for the form.

        Validation failures read ``Invalid request: email: Not a valid email address.; password: …``;
        other refusals (``That username is taken``) go to the field they name, if any. What the visitor
        ``typed``, where the API quotes it (after a colon, or in quotes), is left out of that search: in
        ``No such user: my-name`` it is the user, not the name, that is refused.
        """
        errors: dict[str, str] = {}
        rest: list[str] = []
        message = self.message or "Something went wrong"
        if message.startswith("Invalid request: "):
            for part in message[len("Invalid request: "):].split("; "):
                name, sep, text = part.partition(": ")
                key = name.split(".")[0]
                if key not in fields and name.split(".")[-1] in fields:
                    key = name.split(".")[-1]  # a nested field: ``filter.pattern`` is the form's ``pattern``
                if sep and key in fields:
                    errors[key] = errors[key] + " " + text if key in errors else text
                else:
                    rest.append(part)
            return errors, "; ".join(rest)
        lowered = _without_typed(message.lower(), typed)
        candidates = [(name.replace("_", " "), name) for name in fields] + list((aliases or {}).items())
        for words, name in candidates:
            if name in fields and re.search(rf"\b{re.escape(words)}\b", lowered):
                errors[name] = message
                return errors, ""
        return errors, message


def _without_typed(message: str, typed: tuple[str, ...]) -> str:
    """``message`` without the typed words it quotes: anywhere after its first ``": "``, in quotes before."""
    head, sep, tail = message.partition(": ")
    for text in sorted((t.lower() for t in typed), key=len, reverse=True):
        head = head.replace(f"'{text}'", "''")
        tail = tail.replace(text, " ")
    return head + sep + tail


class Api:
    def __init__(self, base_url: str, timeout: float, section_timeout: float, workers: int = 32) -> None:
        self.base_url = base_url.rstrip("/")
        self.timeout = timeout
        self.section_timeout = section_timeout
        self._local = threading.local()
        self._pool = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="api")

    def _session(self) -> requests.Session:
        session = getattr(self._local, "session", None)
        if session is None:
            session = requests.Session()
            session.trust_env = False
            # One client serves every visitor: it must never keep a cookie one of them was given.
            session.cookies.set_policy(DefaultCookiePolicy(allowed_domains=[]))
            adapter = HTTPAdapter(pool_connections=4, pool_maxsize=16)
            session.mount("http://", adapter)
            session.mount("https://", adapter)
            self._local.session = session
        return session

    def call(self, method: str, path: str, token: str | None = None, *, timeout: float | None = None,
             **kwargs: Any) -> Answer:
        headers = dict(kwargs.pop("headers", None) or {})
        if token:
            headers["Authorization"] = f"Bearer {token}"
        address = visitor_address()
        if address and "X-Forwarded-For" not in headers:
            # the gateway trusts this from the web app's addresses only (WEB_TRUSTED_ADDRESSES): identity's
            # sign-up and login throttling then counts the visitor, not the web app
            headers["X-Forwarded-For"] = address
        try:
            response = self._session().request(method, self.base_url + path, headers=headers,
                                                timeout=timeout or self.timeout, allow_redirects=False, **kwargs)
        except requests.RequestException as exc:
            log.warning("API call failed", extra={"method": method, "path": path, "error": str(exc)})
            return Answer(UNAVAILABLE, message="The service did not answer")
        data: Any = None
        if response.headers.get("Content-Type", "").startswith("application/json"):
            try:
                data = response.json()
            except ValueError:
                data = None
        message = data.get("message", "") if isinstance(data, dict) else ""
        if response.status_code >= 500 and not message:
            message = "The service is unavailable"
        return Answer(response.status_code, data, message, dict(response.headers), _set_cookies(response))

    def get(self, path: str, token: str | None = None, **kwargs: Any) -> Answer:
        return self.call("GET", path, token, **kwargs)

    def gather(self, calls: dict[str, tuple], token: str | None = None) -> dict[str, Answer]:
        """Run ``{name: (method, path[, kwargs])}`` concurrently; late answers count as unavailable.

        ``{"public": True}`` in a call's kwargs sends it without the visitor's token: for what the API
        shows everyone alike, which spares the gateway an authentication round trip.
        """
        futures = {}
        for name, spec in calls.items():
            method, path, *extra = spec
            kwargs = dict(extra[0]) if extra else {}
            kwargs.setdefault("timeout", self.section_timeout)
            public = kwargs.pop("public", False)
            headers = kwargs["headers"] = dict(kwargs.get("headers") or {})
            address = visitor_address()  # read here: the pool's threads have no request
            if address:
                headers.setdefault("X-Forwarded-For", address)
            futures[name] = self._pool.submit(self.call, method, path, None if public else token, **kwargs)
        wait(futures.values(), timeout=self.section_timeout + 0.5)
        out: dict[str, Answer] = {}
        for name, future in futures.items():
            if future.done():
                out[name] = future.result()
            else:
                future.cancel()
                out[name] = Answer(UNAVAILABLE, message="The service did not answer in time")
        return out


def visitor_address() -> str | None:
    """The visitor's address as the gateway gave it (the last ``X-Forwarded-For`` entry, which the gateway
    appends); None outside a request."""
    if not flask.has_request_context():
        return None
    forwarded = [part.strip() for part in flask.request.headers.get("X-Forwarded-For", "").split(",")
                 if part.strip()]
    return forwarded[-1] if forwarded else flask.request.remote_addr


def _set_cookies(response: requests.Response) -> dict[str, str]:
    """Cookies the API set in this answer, read from its headers (the shared session keeps none)."""
    raw = getattr(response.raw, "headers", None)
    lines = raw.getlist("Set-Cookie") if raw is not None and hasattr(raw, "getlist") else []
    found: dict[str, str] = {}
    for line in lines:
        cookie = SimpleCookie()
        try:
            cookie.load(line)
        except CookieError:
            continue
        found.update({name: morsel.value for name, morsel in cookie.items()})
    return found
