"""``gunicorn 'identity.app:create_app()'``."""

from __future__ import annotations

import flask

from identity.api import BLUEPRINTS
from identity.bootstrap import Identity, bootstrap
from packyard.config import exit_on_config_error
from packyard.logs import configure_logging
from packyard.web import create_api


def create_app(container: Identity | None = None) -> flask.Flask:
    ident = container or exit_on_config_error(bootstrap)
    configure_logging("identity", ident.settings.log_level)
    app, api = create_api(__name__, service="identity", verifier=ident.platform.verifier,
                          service_token=ident.settings.service_token,
                          readiness=ident.platform.api_readiness(),
                          description="Accounts, credentials, organizations and teams.")
    app.extensions["identity"] = ident
    for blueprint in BLUEPRINTS:
        api.register_blueprint(blueprint)
    return app
