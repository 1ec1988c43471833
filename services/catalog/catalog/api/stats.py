"""Download statistics: Bintray's ``.../stats/...`` endpoints and the popularity ranking."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import flask
from flask.views import MethodView
from flask_smorest import Blueprint

from catalog import schemas
from catalog.api import catalog
from catalog.queries import stats
from packyard.web import current_principal

blp = Blueprint("stats", __name__, description="Download statistics (Bintray API)")

_KINDS: dict[str, tuple[Callable[..., dict[str, Any]], type, str]] = {
    "total_downloads": (stats.total_downloads, schemas.TotalDownloadsSchema,
                        "Downloads in the range per version: ``{from, to, records: [{version, count}]}``."),
    "time_range_downloads": (stats.time_range_downloads, schemas.TimeRangeDownloadsSchema,
                             "Downloads per day and version: ``{from, to, records: [{date, downloads}]}`` "
                             "(at most 366 days)."),
    "country_downloads": (stats.country_downloads, schemas.CountryDownloadsSchema,
                          "Downloads in the range per country: ``{from, to, records: [{country, count}]}``."),
}


def _answer(kind: str, body: dict[str, Any] | None, subject: str, repo: str, package: str,
            version: str | None) -> Any:
    cat = catalog()
    body = body or {}
    start, end = stats.stats_range(body.get("start"), body.get("end"), cat.clock())
    with cat.reader() as session:
        return _KINDS[kind][0](session, current_principal(), subject, repo, package, version, start, end)


def _register(kind: str) -> None:
    query, schema, summary = _KINDS[kind]

    class PackageStats(MethodView):
        @blp.arguments(schemas.StatsRangeSchema(), required=False)
        @blp.alt_response(200, schema=schema, success=True)
        @blp.doc(summary=summary.split(":")[0], description=summary)
        def post(self, body: dict[str, Any], subject: str, repo: str, package: str) -> Any:
            return _answer(kind, body, subject, repo, package, None)

    class VersionStats(MethodView):
        @blp.arguments(schemas.StatsRangeSchema(), required=False)
        @blp.alt_response(200, schema=schema, success=True)
        @blp.doc(summary=summary.split(":")[0] + " (one version)", description=summary)
        def post(self, body: dict[str, Any], subject: str, repo: str, package: str, version: str) -> Any:
            return _answer(kind, body, subject, repo, package, version)

    PackageStats.__name__ = f"Package_{kind}"
    VersionStats.__name__ = f"Version_{kind}"
    blp.route(f"/packages/<subject>/<repo>/<package>/stats/{kind}", endpoint=f"package_{kind}")(PackageStats)
    blp.route(f"/packages/<subject>/<repo>/<package>/versions/<version>/stats/{kind}",
              endpoint=f"version_{kind}")(VersionStats)


for _kind in _KINDS:
    _register(_kind)


@blp.route("/stats/popular")
class Popular(MethodView):
    @blp.arguments(schemas.PopularQuery, location="query")
    @blp.alt_response(200, schema=schemas.PopularPackageSchema(many=True), success=True)
    def get(self, query: dict[str, Any]) -> Any:
        """Packages of public repositories ranked by downloads over the last ``days`` days (today included)."""
        cat = catalog()
        with cat.reader() as session:
            return flask.jsonify(stats.popular(session, days=query["days"], limit=query["limit"],
                                               today=cat.clock().date()))
