"""Catalog's HTTP API (Bintray-compatible). Views parse, call one use case, and shape the answer.

The Bintray JSON shapes are built by :mod:`catalog.queries` in the key order real clients saw and
returned as they are; the response schemas document them in the OpenAPI document.
"""

from __future__ import annotations

from typing import Any

import flask

from catalog.bootstrap import Catalog
from packyard.paging import Page


def catalog() -> Catalog:
    return flask.current_app.extensions["catalog"]


def paged(page: Page[Any]) -> Any:
    """A page of a Bintray list with its ``X-RangeLimit-*`` headers."""
    return page.response()


def blueprints() -> list[Any]:
    from catalog.api import content, downloads, files, licenses, packages, repos, versions

    return [repos.blp, packages.blp, versions.blp, content.blp, downloads.blp, files.blp, licenses.blp]
