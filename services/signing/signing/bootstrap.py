"""Signing's composition root: every entry point (api, worker, relay) starts here."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass
from functools import cached_property
from typing import Any

from packyard.db import UnitOfWork
from packyard.process import Loop
from packyard.service import Platform, ServiceContainer
from signing import config, consumers, models, use_cases
from signing.catalog import CatalogClient
from signing.models import GpgKey, Subject
from signing.signatures import Signer
from signing.vault import KeyVault

log = logging.getLogger(__name__)


class AutomaticSigning:
    """The worker's loop signing released versions of repositories that ask for it, catching up
    whenever catalog comes back."""

    def __init__(self, signer: Signer, interval: float) -> None:
        self._signer, self._interval = signer, interval
        self._stopping = threading.Event()

    def run(self) -> None:
        while not self._stopping.is_set():
            try:
                while self._signer.run_due_jobs() and not self._stopping.is_set():
                    pass
            except Exception:  # noqa: BLE001 - the loop outlives one bad pass
                log.exception("automatic signing pass failed; trying again")
            self._stopping.wait(self._interval)

    def stop(self) -> None:
        self._stopping.set()


@dataclass
class Signing(ServiceContainer):
    settings: config.Settings

    @cached_property
    def vault(self) -> KeyVault:
        return KeyVault(self.settings.secret_key)

    @cached_property
    def catalog(self) -> CatalogClient:
        return CatalogClient(self.settings.catalog_url, self.settings.service_token, self.settings.catalog_timeout)

    @cached_property
    def signer(self) -> Signer:
        signer = Signer(uow_factory=self.uow, vault=self.vault, catalog=self.catalog,
                        gpg_root=self.settings.gnupghome_root, gpg_binary=self.settings.gpg_binary, clock=self.clock)
        signer.retry_delay = self.settings.signing_retry_delay
        signer.concurrency = self.settings.signing_concurrency
        return signer

    @property
    def gpg_options(self) -> dict[str, Any]:
        return {"gpg_root": self.settings.gnupghome_root, "gpg_binary": self.settings.gpg_binary}

    # -- use cases with this deployment's collaborators bound (views pass only the request's data) --
    def store_key(self, uow: UnitOfWork, subject: Subject, public_key: str, private_key: str | None) -> GpgKey:
        """:func:`signing.use_cases.store_key` with the key vault, gpg and the clock of this container."""
        return use_cases.store_key(uow, self.vault, subject, public_key, private_key, now=self.clock(),
                                   **self.gpg_options)

    def after_migrate(self) -> None:
        """The platform key: imported from ``PLATFORM_GPG_KEY`` when new, generated when there is none."""
        s = self.settings
        with self.uow() as uow:
            key = use_cases.ensure_platform_key(uow, self.vault, configured=s.platform_key, name=s.platform_key_name,
                                                email=s.platform_key_email, now=self.clock(), **self.gpg_options)
            uow.commit()
        log.info("platform signing key %s", key.fingerprint)

    def worker_loops(self) -> list[Loop]:
        return [AutomaticSigning(self.signer, self.settings.signing_poll_interval)]


def bootstrap(settings: config.Settings | None = None, *,
              jwks_source: Callable[[], dict[str, Any]] | None = None) -> Signing:
    settings = settings or config.load()
    return Signing(settings=settings, consumer_queues=consumers.QUEUES,
                   platform=Platform.of("signing", settings, models, jwks_url=settings.jwks_url,
                                        jwks_source=jwks_source))
