"""Blob storage: the bytes of uploaded files, content-addressed by sha256.

The filesystem store keeps each blob at ``<root>/<sha[0:2]>/<sha[2:4]>/<sha256>``; the gateway
serves downloads from the same directory. Uploads stream into a temporary file on the same
filesystem while sha1 and sha256 are computed, so memory stays flat whatever the size, and land
with an atomic ``os.replace``: a reader never sees a partial blob, and identical content is
stored once. An S3-compatible store can replace this class behind the same methods.
"""

from __future__ import annotations

import hashlib
import logging
import os
import secrets
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import IO, Protocol

from packyard.errors import TooLarge

log = logging.getLogger(__name__)

CHUNK_SIZE = 1024 * 1024


def blob_key(sha256: str) -> str:
    """The blob's name relative to the store's root (and to the gateway's blob location)."""
    return f"{sha256[0:2]}/{sha256[2:4]}/{sha256}"


class BlobStorage(Protocol):
    """What catalog needs from a blob store."""

    def receive(self, stream: IO[bytes], *, limit: int) -> IncomingBlob: ...

    def local_path(self, sha256: str) -> Path: ...

    def exists(self, sha256: str) -> bool: ...

    def delete_if_older(self, sha256: str, cutoff: float) -> bool: ...

    def blobs(self) -> Iterator[str]: ...

    def check(self) -> bool: ...


class IncomingBlob:
    """An upload received into a temporary file: its size and digests, not yet in the store.

    Use as a context manager: leaving the block without :meth:`commit` removes the temporary file.
    """

    def __init__(self, store: FileSystemStorage, temp_path: Path, size: int, sha1: str, sha256: str) -> None:
        self._store = store
        self._temp_path: Path | None = temp_path
        self.size = size
        self.sha1 = sha1
        self.sha256 = sha256

    def __enter__(self) -> IncomingBlob:
        return self

    def __exit__(self, *_exc: object) -> None:
        self.discard()

    def commit(self) -> None:
        """Move the content into the store (atomic; an identical blob is simply replaced by itself)."""
        if self._temp_path is None:
            raise RuntimeError("this upload was already committed or discarded")
        self._store._place(self._temp_path, self.sha256)
        self._temp_path = None

    def discard(self) -> None:
        if self._temp_path is not None:
            try:
                self._temp_path.unlink()
            except FileNotFoundError:
                pass
            self._temp_path = None


class FileSystemStorage:
    """Blobs in a directory shared with the gateway (see the module doc)."""

    def __init__(self, root: str | os.PathLike[str]) -> None:
        self.root = Path(root).resolve()
        self._temp_dir = self.root / ".incoming"
        self._trash_dir = self.root / ".trash"

    def _ensure_dirs(self) -> None:
        for directory in (self.root, self._temp_dir, self._trash_dir):
            directory.mkdir(parents=True, exist_ok=True)

    def local_path(self, sha256: str) -> Path:
        return self.root / blob_key(sha256)

    def exists(self, sha256: str) -> bool:
        return self.local_path(sha256).is_file()

    def receive(self, stream: IO[bytes], *, limit: int) -> IncomingBlob:
        """Copy ``stream`` to a temporary file in chunks, hashing on the way; refuse more than ``limit`` bytes."""
        self._ensure_dirs()
        fd, name = tempfile.mkstemp(dir=self._temp_dir, prefix="upload-")
        temp_path = Path(name)
        sha1, sha256, size = hashlib.sha1(usedforsecurity=False), hashlib.sha256(), 0
        try:
            with os.fdopen(fd, "wb") as out:
                while True:
                    chunk = stream.read(CHUNK_SIZE)
                    if not chunk:
                        break
                    size += len(chunk)
                    if size > limit:
                        raise TooLarge(f"The file is larger than the limit of {limit} bytes")
                    sha1.update(chunk)
                    sha256.update(chunk)
                    out.write(chunk)
                out.flush()
                os.fsync(out.fileno())
        except BaseException:
            temp_path.unlink(missing_ok=True)
            raise
        return IncomingBlob(self, temp_path, size, sha1.hexdigest(), sha256.hexdigest())

    def _place(self, temp_path: Path, sha256: str) -> None:
        target = self.local_path(sha256)
        target.parent.mkdir(parents=True, exist_ok=True)
        os.chmod(temp_path, 0o644)  # the gateway's worker user reads blobs
        os.replace(temp_path, target)
        _fsync_dir(target.parent)

    def delete_if_older(self, sha256: str, cutoff: float) -> bool:
        """Remove a blob last written before ``cutoff`` (epoch seconds); False when it is newer or gone.

        The blob is first moved aside and its age checked again there, so an upload of the same
        content landing at that moment is never lost: a fresh copy is put back.
        """
        target = self.local_path(sha256)
        try:
            if target.stat().st_mtime >= cutoff:
                return False
            self._ensure_dirs()
            aside = self._trash_dir / f"{sha256}.{secrets.token_hex(4)}"
            os.replace(target, aside)
        except FileNotFoundError:
            return False
        if aside.stat().st_mtime >= cutoff:
            os.replace(aside, target)
            return False
        aside.unlink()
        return True

    def blobs(self) -> Iterator[str]:
        """The sha256 of every blob in the store."""
        if not self.root.is_dir():
            return
        for first in sorted(self.root.iterdir()):
            if len(first.name) != 2 or not first.is_dir():
                continue
            for second in sorted(first.iterdir()):
                if not second.is_dir():
                    continue
                for blob in second.iterdir():
                    if len(blob.name) == 64 and blob.name.startswith(first.name + second.name):
                        yield blob.name

    def sweep_incoming(self, older_than: float) -> int:
        """Remove temporary files of uploads abandoned by a crashed process."""
        removed = 0
        cutoff = time.time() - older_than
        for directory in (self._temp_dir, self._trash_dir):
            if not directory.is_dir():
                continue
            for leftover in directory.iterdir():
                try:
                    if leftover.stat().st_mtime < cutoff:
                        leftover.unlink()
                        removed += 1
                except FileNotFoundError:
                    pass
        return removed

    def check(self) -> bool:
        """Readiness: the store's directory exists and is writable."""
        self._ensure_dirs()
        return os.access(self._temp_dir, os.W_OK)


def _fsync_dir(directory: Path) -> None:
    try:
        fd = os.open(directory, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)
