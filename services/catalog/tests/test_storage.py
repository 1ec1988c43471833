"""The filesystem blob store on its own: streaming, limits, atomic placement, garbage collection."""

from __future__ import annotations

import hashlib
import io
import os
import time

import pytest

from catalog.storage import FileSystemStorage, blob_key
from catalog.use_cases.blobs import collect_garbage
from packyard.errors import TooLarge


class Trickle(io.RawIOBase):
    """A body arriving in small reads, of unknown length, like a chunked upload."""

    def __init__(self, data: bytes, step: int = 7) -> None:
        self._data, self._pos, self._step = data, 0, step

    def readable(self) -> bool:
        return True

    def read(self, size: int = -1) -> bytes:
        chunk = self._data[self._pos:self._pos + min(self._step, size if size > 0 else self._step)]
        self._pos += len(chunk)
        return chunk


def test_content_is_hashed_on_the_way_and_placed_atomically(tmp_path):
    store = FileSystemStorage(tmp_path / "blobs")
    data = os.urandom(3 * 1024 * 1024 + 17)
    with store.receive(Trickle(data, step=65536), limit=10 * 1024 * 1024) as incoming:
        assert (incoming.size, incoming.sha256) == (len(data), hashlib.sha256(data).hexdigest())
        assert incoming.sha1 == hashlib.sha1(data).hexdigest()
        assert not store.exists(incoming.sha256)  # nothing visible before commit
        incoming.commit()
    assert store.local_path(incoming.sha256).read_bytes() == data
    assert store.local_path(incoming.sha256) == tmp_path / "blobs" / blob_key(incoming.sha256)
    assert list((tmp_path / "blobs" / ".incoming").iterdir()) == []


def test_a_body_over_the_limit_is_cut_off_and_leaves_nothing(tmp_path):
    store = FileSystemStorage(tmp_path / "blobs")
    with pytest.raises(TooLarge):
        store.receive(Trickle(b"x" * 101), limit=100)
    assert list(store.blobs()) == [] and list((tmp_path / "blobs" / ".incoming").iterdir()) == []


def test_an_upload_not_committed_is_discarded(tmp_path):
    store = FileSystemStorage(tmp_path / "blobs")
    with store.receive(io.BytesIO(b"abandoned"), limit=100):
        pass
    assert list(store.blobs()) == [] and list((tmp_path / "blobs" / ".incoming").iterdir()) == []


def test_unreferenced_blobs_are_collected_after_the_grace_period(catalog, api, alice):
    api.upload("alice", "main", "tool", "1.0", "kept.bin", b"kept", alice)
    store = catalog.storage
    with store.receive(io.BytesIO(b"orphan"), limit=100) as orphan:
        orphan.commit()
    with store.receive(io.BytesIO(b"fresh orphan"), limit=100) as fresh:
        fresh.commit()
    old = time.time() - 7200
    for sha in (orphan.sha256, hashlib.sha256(b"kept").hexdigest()):
        os.utime(store.local_path(sha), (old, old))
    assert collect_garbage(catalog.platform.engine, store, grace_seconds=3600) == 1
    assert sorted(store.blobs()) == sorted([hashlib.sha256(b"kept").hexdigest(), fresh.sha256])


def test_a_blob_rewritten_while_being_collected_survives(tmp_path):
    store = FileSystemStorage(tmp_path / "blobs")
    with store.receive(io.BytesIO(b"same"), limit=100) as first:
        first.commit()
    path = store.local_path(first.sha256)
    os.utime(path, (time.time() - 7200,) * 2)
    assert store.delete_if_older(first.sha256, cutoff=time.time() - 3600) is True
    with store.receive(io.BytesIO(b"same"), limit=100) as again:
        again.commit()
    assert store.delete_if_older(again.sha256, cutoff=time.time() - 3600) is False
    assert path.read_bytes() == b"same"
