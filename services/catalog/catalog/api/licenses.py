"""``GET /licenses/oss_licenses``."""

from __future__ import annotations

from typing import Any

from flask.views import MethodView
from flask_smorest import Blueprint

from catalog import licenses, schemas

blp = Blueprint("licenses", __name__, description="Licenses (Bintray API)")


@blp.route("/licenses/oss_licenses")
class OssLicenses(MethodView):
    @blp.response(200, schemas.LicenseSchema(many=True))
    def get(self) -> Any:
        """The OSS licenses a package in a public repository may declare."""
        return licenses.oss_licenses(), 200, {"Cache-Control": "public, max-age=3600"}
