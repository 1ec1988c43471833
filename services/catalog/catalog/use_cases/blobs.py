"""Removing blobs no file refers to any more (deleted files, overridden content, refused uploads).

Blobs are shared by every file with the same content, so a delete never removes a blob at once;
``gc-blobs`` removes those no file refers to once they are older than a grace period, which covers
an upload whose blob has landed but whose file row is not committed yet.
"""

from __future__ import annotations

import itertools
import time

import sqlalchemy as sa
from sqlalchemy.engine import Engine

from catalog.models import File
from catalog.storage import BlobStorage

BATCH = 500


def collect_garbage(engine: Engine, storage: BlobStorage, *, grace_seconds: float) -> int:
    """Remove unreferenced blobs last written more than ``grace_seconds`` ago; how many were removed."""
    cutoff = time.time() - grace_seconds
    removed = 0
    blobs = storage.blobs()
    while batch := list(itertools.islice(blobs, BATCH)):
        with engine.connect() as conn:
            used = set(conn.scalars(sa.select(File.sha256).where(File.sha256.in_(batch)).distinct()))
        for sha256 in batch:
            if sha256 not in used and storage.delete_if_older(sha256, cutoff):
                removed += 1
    return removed
