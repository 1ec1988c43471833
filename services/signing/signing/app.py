"""``gunicorn 'signing.app:create_app()'``."""

from __future__ import annotations

import flask

from packyard.config import exit_on_config_error
from packyard.logs import configure_logging
from packyard.web import create_api
from signing.api import BLUEPRINTS
from signing.bootstrap import Signing, bootstrap


def create_app(container: Signing | None = None) -> flask.Flask:
    signing = container or exit_on_config_error(bootstrap)
    configure_logging("signing", signing.settings.log_level)
    app, api = create_api(__name__, service="signing", verifier=signing.platform.verifier,
                          service_token=signing.settings.service_token,
                          readiness=signing.platform.api_readiness(),
                          description="GPG keys of users and organizations; signatures of published files.")
    app.extensions["signing"] = signing
    for blueprint in BLUEPRINTS:
        api.register_blueprint(blueprint)
    return app
