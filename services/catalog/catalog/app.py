"""``gunicorn 'catalog.app:create_app()'``."""

from __future__ import annotations

import flask

from catalog.bootstrap import Catalog, bootstrap
from packyard.config import exit_on_config_error
from packyard.logs import configure_logging
from packyard.web import create_api


def create_app(container: Catalog | None = None) -> flask.Flask:
    catalog = container or exit_on_config_error(bootstrap)
    configure_logging("catalog", catalog.settings.log_level)
    app, _api = create_api(__name__, service="catalog", verifier=catalog.platform.verifier,
                           readiness=catalog.platform.api_readiness(),
                           description="Repositories, packages, versions, files and downloads (Bintray API).")
    app.extensions["catalog"] = catalog
    return app
