"""Catalog's own commands, beside the shared ``migrate``, ``worker`` and ``relay``."""

from __future__ import annotations

import argparse
import logging
from typing import Any

from catalog.use_cases.blobs import collect_garbage

log = logging.getLogger(__name__)


def gc_blobs(catalog: Any, args: argparse.Namespace) -> int:
    """Remove blobs no file refers to (run periodically, e.g. as a Kubernetes CronJob)."""
    grace = args.grace if args.grace is not None else catalog.settings.blob_gc_grace
    removed = collect_garbage(catalog.platform.engine, catalog.storage, grace_seconds=grace)
    swept = catalog.storage.sweep_incoming(older_than=max(grace, 24 * 3600))
    log.info("removed %d unreferenced blobs and %d abandoned upload files", removed, swept)
    print(f"removed {removed} unreferenced blobs, {swept} abandoned upload files")
    return 0


def _configure_gc(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--grace", type=int, default=None,
                        help="seconds an unreferenced blob is kept (default BLOB_GC_GRACE)")


COMMANDS = {
    "gc-blobs": ("remove blobs no file refers to any more", gc_blobs, _configure_gc),
}
