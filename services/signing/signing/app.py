"""``gunicorn 'signing.app:create_app()'``."""

from __future__ import annotations

import flask

from packyard.config import exit_on_config_error
from packyard.service import create_service_app
from signing.api import BLUEPRINTS
from signing.bootstrap import Signing, bootstrap


def create_app(container: Signing | None = None) -> flask.Flask:
    return create_service_app(__name__, container or exit_on_config_error(bootstrap), BLUEPRINTS,
                              description="GPG keys of users and organizations; signatures of published files.")
