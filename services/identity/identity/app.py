"""``gunicorn 'identity.app:create_app()'``."""

from __future__ import annotations

import flask

from identity.api import BLUEPRINTS
from identity.bootstrap import Identity, bootstrap
from packyard.config import exit_on_config_error
from packyard.service import create_service_app


def create_app(container: Identity | None = None) -> flask.Flask:
    return create_service_app(__name__, container or exit_on_config_error(bootstrap), BLUEPRINTS,
                              description="Accounts, credentials, organizations and teams.")
