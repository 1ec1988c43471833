"""What several use cases say about a file: its public download URL and the announcement of its deletion."""

from __future__ import annotations

from urllib.parse import quote

from catalog import events
from catalog.models import File, Package, Repo, Version
from catalog.use_cases.versions import version_event_ref
from packyard.db import UnitOfWork


def download_url(base_url: str, owner: str, repo: str, path: str) -> str:
    return f"{base_url.rstrip('/')}/dl/{quote(owner)}/{quote(repo)}/{quote(path)}"


def announce_file_deleted(uow: UnitOfWork, repo: Repo, package: Package, version: Version, file: File) -> None:
    uow.publish(events.FILE_DELETED, {**version_event_ref(repo, package, version), "path": file.path,
                                      "sha256": file.sha256},
                subject=f"{repo.owner}/{repo.name}/{package.name}/{version.name}")
