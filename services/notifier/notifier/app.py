"""``gunicorn 'notifier.app:create_app()'``."""

from __future__ import annotations

import flask

from notifier.api import BLUEPRINTS
from notifier.bootstrap import Notifier, bootstrap
from packyard.config import exit_on_config_error
from packyard.service import create_service_app


def create_app(container: Notifier | None = None) -> flask.Flask:
    return create_service_app(__name__, container or exit_on_config_error(bootstrap), BLUEPRINTS,
                              description="In-app notifications, and the emails that tell people what happened.")
