"""``gunicorn 'social.app:create_app()'``."""

from __future__ import annotations

import flask

from packyard.config import exit_on_config_error
from packyard.logs import configure_logging
from packyard.web import create_api
from social.api import BLUEPRINTS
from social.bootstrap import Social, bootstrap


def create_app(container: Social | None = None) -> flask.Flask:
    social = container or exit_on_config_error(bootstrap)
    configure_logging("social", social.settings.log_level)
    app, api = create_api(__name__, service="social", verifier=social.platform.verifier,
                          service_token=social.settings.service_token,
                          readiness=social.platform.api_readiness(),
                          description="Follows, watches, messages, reviews and the activity log.")
    app.extensions["social"] = social
    for blueprint in BLUEPRINTS:
        api.register_blueprint(blueprint)
    return app
