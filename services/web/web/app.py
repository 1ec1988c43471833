"""``gunicorn 'web.app:create_app()'``: Packyard's pages for people."""

from __future__ import annotations

import time
import uuid
from dataclasses import dataclass
from typing import Any

import flask
from cryptography.fernet import Fernet
from werkzeug.exceptions import HTTPException

from packyard import context, metrics
from packyard.config import exit_on_config_error
from packyard.logs import configure_logging
from web import config, session
from web.api import Api
from web.views import BLUEPRINTS

CSP = ("default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
       "form-action 'self'; frame-ancestors 'none'; base-uri 'none'; connect-src 'self'")


@dataclass
class Web:
    settings: config.Settings
    api: Api
    fernet: Fernet

    @property
    def secure_cookies(self) -> bool:
        return self.settings.public_base_url.startswith("https://")


def create_app(settings: config.Settings | None = None) -> flask.Flask:
    settings = settings or exit_on_config_error(config.load)
    configure_logging("web", settings.log_level)
    app = flask.Flask(__name__, static_folder="static", static_url_path="/ui/static")
    app.config.update(MAX_CONTENT_LENGTH=4 * 1024 * 1024, TEMPLATES_AUTO_RELOAD=False)
    app.jinja_env.autoescape = True  # every template, whatever its extension
    app.extensions["web"] = Web(settings, Api(settings.api_url, settings.api_timeout, settings.section_timeout),
                                Fernet(settings.session_key.encode()))
    for blueprint in BLUEPRINTS:
        app.register_blueprint(blueprint)

    @app.before_request
    def _begin() -> Any:
        rid = flask.request.headers.get("X-Request-Id") or uuid.uuid4().hex
        flask.g.started = time.perf_counter()
        flask.g.log_context = context.bound(request_id=rid[:100])
        flask.g.log_context.__enter__()
        if flask.request.method == "POST" and not session.csrf_ok():
            return _error(400, "This form has expired or was not sent from this site. Go back, reload the page "
                               "and send it again.")
        return None

    @app.after_request
    def _finish(response: flask.Response) -> flask.Response:
        session.save(response)
        response.headers["Content-Security-Policy"] = CSP
        response.headers["X-Content-Type-Options"] = "nosniff"
        response.headers["Referrer-Policy"] = "same-origin"
        response.headers["X-Frame-Options"] = "DENY"
        response.headers["X-Packyard-Service"] = "web"
        if not flask.request.path.startswith("/ui/static/"):
            response.headers["Cache-Control"] = "no-store"
        rule = flask.request.url_rule.rule if flask.request.url_rule else "unmatched"
        started = flask.g.get("started")
        if started is not None and rule not in ("/metrics", "/livez", "/readyz"):
            metrics.HTTP_REQUESTS.labels("web", flask.request.method, rule, str(response.status_code)).inc()
            metrics.HTTP_LATENCY.labels("web", flask.request.method, rule).observe(time.perf_counter() - started)
        return response

    @app.teardown_request
    def _teardown(_exc: BaseException | None) -> None:
        ctx = flask.g.pop("log_context", None)
        if ctx is not None:
            ctx.__exit__(None, None, None)

    @app.errorhandler(HTTPException)
    def _http_error(exc: HTTPException) -> Any:
        messages = {404: "There is nothing at this address.", 405: "That is not something this page does.",
                    413: "That upload is too large."}
        return _error(exc.code or 500, messages.get(exc.code or 500, exc.description or "Something went wrong"))

    @app.get("/livez")
    def livez() -> Any:
        return {"status": "alive"}

    @app.get("/readyz")
    def readyz() -> Any:
        # Nothing external: a page renders whichever services answer (the others' sections say
        # "unavailable"), and the gateway, which sends visitors here, is the one thing it cannot check.
        app.jinja_env.get_template("base.html")
        return {"status": "ready", "checks": {"templates": "ok"}}

    @app.get("/metrics")
    def metrics_view() -> Any:
        body, content_type = metrics.render()
        return flask.Response(body, content_type=content_type)

    return app


def _error(status: int, message: str) -> Any:
    from web.views.common import render

    return render("error.html", status=status, title="Error" if status >= 500 else "Not possible",
                  message=message, skip_api=True), status
