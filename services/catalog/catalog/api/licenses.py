"""``GET /licenses/oss_licenses``."""

from __future__ import annotations

from typing import Any

import flask
from flask.views import MethodView
from flask_smorest import Blueprint

from catalog import licenses, schemas

blp = Blueprint("licenses", __name__, description="Licenses (Bintray API)")


@blp.route("/licenses/oss_licenses")
class OssLicenses(MethodView):
    @blp.alt_response(200, schema=schemas.LicenseSchema(many=True), success=True)
    def get(self) -> Any:
        """The OSS licenses a package in a public repository may declare."""
        response = flask.jsonify(licenses.oss_licenses())
        response.headers["Cache-Control"] = "public, max-age=3600"
        return response
