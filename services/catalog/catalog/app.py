"""``gunicorn 'catalog.app:create_app()'``."""

from __future__ import annotations

import flask

from catalog.api import blueprints
from catalog.bootstrap import Catalog, bootstrap
from packyard.config import exit_on_config_error
from packyard.service import create_service_app
from packyard.web import ReadinessCheck

# JSON bodies stay small; the upload view lifts the limit for its own streamed body (MAX_UPLOAD_BYTES).
JSON_BODY_LIMIT = 1024 * 1024


def create_app(container: Catalog | None = None) -> flask.Flask:
    catalog = container or exit_on_config_error(bootstrap)
    app = create_service_app(__name__, catalog, blueprints(), max_content_length=JSON_BODY_LIMIT,
                             readiness=[ReadinessCheck("blob_storage", catalog.storage.check)],
                             description="Repositories, packages, versions, files and downloads (Bintray API).")
    # In sendfile mode the first download counted starts the process's flusher (catalog.downloads.counter);
    # building the app starts nothing.
    return app

