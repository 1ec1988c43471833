"""Signing on upload: an upload carrying ``X-GPG-PASSPHRASE`` asks the signing service, synchronously
and over the internal pair, to sign the file it just stored with the repository owner's key.

The passphrase goes from the uploader's request straight into that one internal call's header: it is
never written to a table, an event or a log, and never travels on the bus. A refusal (wrong
passphrase, no key) or signing being unreachable does not undo the upload: the answer says the file
was not signed and why, and it can be signed later with ``POST /gpg/...``.
"""

from __future__ import annotations

import http.client
import json
import logging
import urllib.error
import urllib.request
from dataclasses import dataclass
from urllib.parse import quote

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class SigningOutcome:
    signed: bool
    message: str | None = None


class SigningClient:
    def __init__(self, base_url: str, service_token: str, timeout: float = 120.0) -> None:
        self._base = base_url.rstrip("/")
        self._token = service_token
        self._timeout = timeout

    def sign_upload(self, owner: str, repo: str, path: str, *, passphrase: str, uploader: str,
                    bearer: str | None) -> SigningOutcome:
        url = f"{self._base}/internal/signing/uploads/{quote(owner)}/{quote(repo)}/{quote(path)}"
        headers = {"X-Service-Token": self._token, "X-Signing-Actor": uploader, "X-GPG-PASSPHRASE": passphrase}
        if bearer:
            headers["Authorization"] = bearer
        request = urllib.request.Request(url, data=b"", method="POST", headers=headers)
        try:
            with urllib.request.urlopen(request, timeout=self._timeout):  # noqa: S310 - configured internal URL
                return SigningOutcome(True)
        except urllib.error.HTTPError as exc:
            try:
                message = json.loads(exc.read() or b"{}").get("message")
            except (ValueError, OSError, http.client.HTTPException, AttributeError):
                message = None
            return SigningOutcome(False, message or f"signing answered {exc.code}")
        except (urllib.error.URLError, OSError, http.client.HTTPException) as exc:
            log.warning("signing unreachable for an upload's signature: %s", exc.__class__.__name__)
            return SigningOutcome(False, "The signing service is not reachable right now; sign the file later "
                                         "with POST /gpg/:subject/:repo/:file_path")
