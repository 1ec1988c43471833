"""Signing's client of catalog's internal API (DESIGN §1: the one synchronous pair).

Every call carries the service credential (``X-Service-Token``). Catalog's refusals come back as
the same domain errors (its message kept); catalog unreachable, timing out or failing answers
:class:`CatalogUnavailable` (503) so the caller retries and nothing is lost.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any, BinaryIO
from urllib.parse import quote

import requests

from packyard.errors import Conflict, DomainError, Forbidden, Invalid, NotFound, Unauthorized


class CatalogUnavailable(DomainError):
    status = 503

    def __init__(self) -> None:
        super().__init__("The catalog is not reachable right now; nothing was signed. Try again in a moment.",
                         headers={"Retry-After": "5"})


_ERRORS = {400: Invalid, 401: Unauthorized, 403: Forbidden, 404: NotFound, 409: Conflict}


class CatalogClient:
    def __init__(self, base_url: str, service_token: str | None, timeout: float = 30.0) -> None:
        self._base = base_url.rstrip("/") + "/internal/signing"
        self._token = service_token
        self._timeout = timeout
        self._local = threading.local()  # one connection pool per thread: files are signed side by side

    @property
    def _http(self) -> requests.Session:
        session = getattr(self._local, "session", None)
        if session is None:
            session = self._local.session = requests.Session()
        return session

    def _headers(self, extra: dict[str, str] | None = None, bearer: str | None = None) -> dict[str, str]:
        headers = dict(extra or {})
        if self._token:
            headers["X-Service-Token"] = self._token
        if bearer:
            headers["Authorization"] = bearer  # the caller's own access token: catalog reads their rights from it
        return headers

    @staticmethod
    def _check(response: requests.Response) -> requests.Response:
        if response.status_code < 300:
            return response
        error = _ERRORS.get(response.status_code)
        if error is None:
            raise CatalogUnavailable()
        try:
            message = response.json().get("message") or response.reason
        except ValueError:
            message = response.reason
        raise error(str(message))

    def _request(self, method: str, path: str, **kwargs: Any) -> requests.Response:
        kwargs.setdefault("timeout", self._timeout)
        try:
            return self._check(self._http.request(method, self._base + path, **kwargs))
        except requests.RequestException:
            raise CatalogUnavailable() from None

    @staticmethod
    def _path(*parts: str) -> str:
        return "/" + "/".join(quote(part, safe="/") for part in parts)

    def version(self, owner: str, repo: str, package: str, version: str, actor: str | None,
                bearer: str | None = None) -> dict[str, Any]:
        params = {"actor": actor} if actor else {}
        return self._request("GET", self._path("versions", owner, repo, package, version), params=params,
                             headers=self._headers(bearer=bearer)).json()

    def file(self, owner: str, repo: str, path: str, actor: str | None, bearer: str | None = None) -> dict[str, Any]:
        params = {"actor": actor} if actor else {}
        return self._request("GET", self._path("files", owner, repo, path), params=params,
                             headers=self._headers(bearer=bearer)).json()

    @contextmanager
    def content(self, owner: str, repo: str, path: str) -> Iterator[BinaryIO]:
        """The file's bytes as a stream read from the network (never whole in memory)."""
        response = self._request("GET", self._path("content", owner, repo, path), headers=self._headers(),
                                 stream=True)
        try:
            response.raw.decode_content = True
            yield response.raw
        except requests.RequestException:
            raise CatalogUnavailable() from None
        finally:
            response.close()

    def put_signature(self, owner: str, repo: str, path: str, signature: bytes, *, fingerprint: str,
                      actor: str | None, bearer: str | None = None) -> dict[str, Any]:
        headers = self._headers({"Content-Type": "application/pgp-signature", "X-Signing-Fingerprint": fingerprint},
                                bearer=bearer)
        if actor:
            headers["X-Signing-Actor"] = actor
        return self._request("PUT", self._path("signatures", owner, repo, path), data=signature,
                             headers=headers).json()
