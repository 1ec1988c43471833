"""``gunicorn 'social.app:create_app()'``."""

from __future__ import annotations

import flask

from packyard.config import exit_on_config_error
from packyard.service import create_service_app
from social.api import BLUEPRINTS
from social.bootstrap import Social, bootstrap


def create_app(container: Social | None = None) -> flask.Flask:
    return create_service_app(__name__, container or exit_on_config_error(bootstrap), BLUEPRINTS,
                              description="Follows, watches, messages, reviews and the activity log.")
