"""``gunicorn 'notifier.app:create_app()'``."""

from __future__ import annotations

import flask

from notifier.api import BLUEPRINTS
from notifier.bootstrap import Notifier, bootstrap
from packyard.config import exit_on_config_error
from packyard.logs import configure_logging
from packyard.web import create_api


def create_app(container: Notifier | None = None) -> flask.Flask:
    notifier = container or exit_on_config_error(bootstrap)
    configure_logging("notifier", notifier.settings.log_level)
    app, api = create_api(__name__, service="notifier", verifier=notifier.platform.verifier,
                          service_token=notifier.settings.service_token,
                          readiness=notifier.platform.api_readiness(),
                          description="In-app notifications, and the emails that tell people what happened.")
    app.extensions["notifier"] = notifier
    for blueprint in BLUEPRINTS:
        api.register_blueprint(blueprint)
    return app
