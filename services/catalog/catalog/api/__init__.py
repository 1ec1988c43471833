"""Catalog's HTTP API (Bintray-compatible). Views parse, call one use case through :func:`change`
(which commits) or one query, and shape the answer; they never commit.

The Bintray JSON shapes are built by :mod:`catalog.queries` in the key order real clients saw and
returned as they are; the response schemas document them in the OpenAPI document.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

import flask
import marshmallow as ma

from catalog.bootstrap import Catalog
from packyard import transactions
from packyard.db import UnitOfWork
from packyard.errors import Invalid
from packyard.paging import Page

T = TypeVar("T")


def catalog() -> Catalog:
    return flask.current_app.extensions["catalog"]


def change(action: Callable[[UnitOfWork], T]) -> T:
    """Run a changing use case in one unit of work and commit it (state and events together).

    The answer is built inside ``action``, from the rows the use case changed, before the commit."""
    return transactions.change(catalog().uow, action)


ATTRIBUTE_VALUES = {"name": "attribute_values", "in": "query", "schema": {"type": "boolean"},
                    "description": "include the attributes with their values"}


def query_args(schema: type[ma.Schema]) -> dict[str, Any]:
    """The query string loaded with ``schema`` (400 on bad input); its defaults without one."""
    try:
        return schema().load(flask.request.args.to_dict() if flask.request.args else {})
    except ma.ValidationError as exc:
        raise Invalid("Invalid request: " + "; ".join(
            f"{field}: {' '.join(map(str, errors))}" for field, errors in exc.normalized_messages().items())) from None


def paged(page: Page[Any]) -> Any:
    """A page of a Bintray list with its ``X-RangeLimit-*`` headers."""
    return page.response()


def blueprints() -> list[Any]:
    from catalog.api import (
        claims,
        content,
        downloads,
        files,
        internal_signing,
        licenses,
        links,
        packages,
        repos,
        stats,
        versions,
        webhooks,
    )

    return [repos.blp, packages.blp, versions.blp, content.blp, downloads.blp, files.blp, licenses.blp, links.blp,
            claims.blp, webhooks.blp, stats.blp, internal_signing.blp]
