"""Flask plumbing shared by every service's API.

:func:`create_api` builds the Flask app skeleton a service's ``create_app()`` fills in:

* a :class:`PackyardApi` (flask-smorest) publishing the service's OpenAPI document at
  ``/openapi/<service>.json``;
* **one error shape** — every error, including 404, 405, 413, 500 and request validation
  failures, answers JSON ``{"message": "..."}`` (Bintray's shape). Validation failures
  answer 400 (not flask-smorest's 422) with a message naming each bad field;
  a URL or JSON body carrying a NUL character, which no database text can hold, answers 400;
* ``/livez`` (the process answers; checks nothing external), ``/readyz`` (every
  readiness check passes; 503 with the failing ones otherwise) and Prometheus
  ``/metrics``;
* a request id (the gateway's ``X-Request-Id`` or a new one) bound for logging and
  echoed in the response, W3C ``traceparent`` continued into published events, request
  counts and latencies per endpoint, and an ``X-Packyard-Service`` response header;
* :class:`packyard.errors.DomainError` raised by a use case answers its status and message;
* a database that cannot be reached or used (down, restarting, refusing connections) answers
  503 with ``Retry-After`` instead of 500, and a write that lost a race with a concurrent
  transaction 409 (:func:`packyard.errors.from_database_failure`);
* :func:`current_principal` / :func:`require_principal`: the caller, from the access
  token the gateway forwards (verified locally, see :mod:`packyard.auth`);
* ``/internal/*`` endpoints answer only calls carrying the service credential: header
  ``X-Service-Token`` equal to the setting ``SERVICE_TOKEN`` (401 otherwise, and always when the
  service was built without one) — the gateway's sub-requests and other services send it;
* requests a browser could be tricked into sending with cached credentials are refused: any
  changing request (not GET/HEAD/OPTIONS) marked ``Sec-Fetch-Site: cross-site`` (403), and a form
  content type (urlencoded, multipart, text/plain) sent to an endpoint that takes JSON (415).
"""

from __future__ import annotations

import hmac
import logging
import time
import uuid
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any, NoReturn

import flask
import flask_smorest
import marshmallow as ma
from werkzeug.exceptions import HTTPException, InternalServerError

from packyard import context, metrics
from packyard.auth import InvalidToken, JwksVerifier, Principal
from packyard.errors import DomainError, from_database_failure

__all__ = [
    "PackyardApi",
    "ErrorSchema",
    "ApiError",
    "abort",
    "create_api",
    "ReadinessCheck",
    "current_principal",
    "require_principal",
    "success",
]

log = logging.getLogger(__name__)

AUTH_REQUIRED = "This resource requires authentication"
SERVICE_TOKEN_HEADER = "X-Service-Token"
INTERNAL_PREFIX = "/internal/"


class ErrorSchema(ma.Schema):
    message = ma.fields.String(required=True, metadata={"description": "What went wrong"})


class ApiError(HTTPException):
    """An error with an explicit status and message (and optional headers)."""

    def __init__(self, code: int, message: str, headers: dict[str, str] | None = None) -> None:
        super().__init__(description=message)
        self.code = code
        self.message = message
        self.extra_headers = headers or {}


def abort(code: int, message: str, headers: dict[str, str] | None = None) -> NoReturn:
    raise ApiError(code, message, headers)


def success() -> dict[str, str]:
    """Bintray's body for successful deletes and similar: ``{"message": "success"}``."""
    return {"message": "success"}


def _validation_message(errors: Any, prefix: str = "") -> list[str]:
    parts: list[str] = []
    if isinstance(errors, dict):
        for key, value in errors.items():
            if key in ("json", "query", "form", "headers", "view_args", "files", "path"):
                parts.extend(_validation_message(value, prefix))
            elif key == "_schema":
                parts.extend(_validation_message(value, prefix))
            else:
                parts.extend(_validation_message(value, f"{prefix}{key}."))
    elif isinstance(errors, (list, tuple)):
        for value in errors:
            parts.extend(_validation_message(value, prefix))
    else:
        field = prefix.rstrip(".")
        parts.append(f"{field}: {errors}" if field else str(errors))
    return parts


def _error_response(error: HTTPException) -> flask.Response:
    code = error.code or 500
    headers: dict[str, str] = {}
    data = getattr(error, "data", None) or {}
    if isinstance(error, ApiError):
        message = error.message
        headers.update(error.extra_headers)
    elif code == 422 or "messages" in data or "errors" in data:
        code = 400
        errors = data.get("errors") or data.get("messages") or {}
        message = "Invalid request: " + "; ".join(_validation_message(errors)) if errors else "Invalid request"
    elif code == 500:
        message = "Internal server error"
    elif code == 404:
        message = "Not found"
    elif code == 405:
        message = f"Method {flask.request.method} is not allowed here"
    elif code == 413:
        message = "Request body too large"
    elif code == 401:
        message = error.description or AUTH_REQUIRED
    else:
        message = error.description or error.name
    headers.update(data.get("headers") or {})
    if code == 405 and hasattr(error, "valid_methods") and error.valid_methods:
        headers["Allow"] = ", ".join(error.valid_methods)
    response = flask.jsonify(message=message)
    response.status_code = code
    for name, value in headers.items():
        response.headers[name] = value
    return response


class PackyardApi(flask_smorest.Api):
    """flask-smorest ``Api`` answering errors as ``{"message": ...}``."""

    ERROR_SCHEMA = ErrorSchema

    def handle_http_exception(self, error: HTTPException) -> flask.Response:
        return _error_response(error)


@dataclass(frozen=True)
class ReadinessCheck:
    """A named check; ``fn`` raises (or returns False) when the dependency is not usable.

    ``critical=False`` checks are reported but do not make the process unready (the API
    keeps serving while the broker is away: the outbox holds its events).
    """

    name: str
    fn: Callable[[], Any]
    critical: bool = True


def run_checks(checks: Iterable[ReadinessCheck]) -> tuple[bool, dict[str, str]]:
    ready, report = True, {}
    for check in checks:
        try:
            ok = check.fn() is not False
            detail = "ok" if ok else "failing"
        except Exception as exc:  # noqa: BLE001
            ok, detail = False, f"failing: {exc.__class__.__name__}"
        report[check.name] = detail
        if not ok and check.critical:
            ready = False
    return ready, report


def _holds_nul(value: Any) -> bool:
    if isinstance(value, str):
        return "\x00" in value
    if isinstance(value, dict):
        return any(_holds_nul(k) or _holds_nul(v) for k, v in value.items())
    if isinstance(value, list):
        return any(_holds_nul(v) for v in value)
    return False


SAFE_METHODS = ("GET", "HEAD", "OPTIONS")
FORM_TYPES = ("application/x-www-form-urlencoded", "multipart/form-data", "text/plain")


def _takes_json(app: flask.Flask, request: flask.Request) -> bool:
    """The endpoint parses a JSON body (flask-smorest ``arguments`` in the ``json`` location)."""
    view = app.view_functions.get(request.endpoint or "")
    cls = getattr(view, "view_class", None)
    handler = getattr(cls, request.method.lower(), None) if cls is not None else view
    doc = getattr(handler, "_apidoc", None) or {}
    return any(p.get("in") == "json" for p in doc.get("arguments", {}).get("parameters", []))


def create_api(
    import_name: str,
    *,
    service: str,
    version: str = "1.0",
    verifier: JwksVerifier | None = None,
    readiness: Iterable[ReadinessCheck] = (),
    max_content_length: int | None = 16 * 1024 * 1024,
    description: str = "",
    service_token: str | None = None,
) -> tuple[flask.Flask, PackyardApi]:
    """Build the Flask app and the flask-smorest Api of ``service`` (see module doc)."""
    app = flask.Flask(import_name)
    app.json.sort_keys = False  # type: ignore[attr-defined]  # Bintray clients see keys in order
    app.config.update(
        API_TITLE=f"Packyard {service}",
        API_VERSION=version,
        OPENAPI_VERSION="3.0.3",
        OPENAPI_URL_PREFIX="/openapi",
        OPENAPI_JSON_PATH=f"{service}.json",
        API_SPEC_OPTIONS={"info": {"description": description or f"The {service} service of Packyard."}},
        MAX_CONTENT_LENGTH=max_content_length,
    )
    api = PackyardApi(app)
    app.register_error_handler(HTTPException, _error_response)

    @app.errorhandler(DomainError)
    def _domain_error(exc: DomainError) -> flask.Response:
        return _error_response(ApiError(exc.status, exc.message, exc.headers))

    @app.errorhandler(Exception)
    def _unhandled(exc: Exception) -> flask.Response:
        if isinstance(exc, HTTPException):
            return _error_response(exc)
        answer = from_database_failure(exc)
        if answer is not None:
            log.warning("a database failure answered %s: %s", answer.status,
                        (str(exc).splitlines() or [exc.__class__.__name__])[0])
            return _error_response(ApiError(answer.status, answer.message, answer.headers))
        log.exception("unhandled error")
        return _error_response(InternalServerError())

    state = app.extensions.setdefault("packyard", {})
    state["service"] = service
    state["verifier"] = verifier
    checks = tuple(readiness)
    expected_token = service_token.encode() if service_token else None

    def _is_internal(request: flask.Request) -> bool:
        rule = request.url_rule.rule if request.url_rule else ""
        return (request.path.startswith(INTERNAL_PREFIX) or request.path.rstrip("/") == "/internal"
                or rule.startswith(INTERNAL_PREFIX))

    def _from_a_service(request: flask.Request) -> bool:
        sent = request.headers.get(SERVICE_TOKEN_HEADER, "").encode("utf-8", "surrogateescape")
        return expected_token is not None and hmac.compare_digest(sent, expected_token)

    @app.before_request
    def _begin() -> None:
        rid = flask.request.headers.get("X-Request-Id") or uuid.uuid4().hex
        flask.g.packyard_started = time.perf_counter()
        flask.g.packyard_context = context.bound(
            request_id=rid[:100],
            traceparent=context.child_traceparent(flask.request.headers.get("traceparent")),
        )
        flask.g.packyard_context.__enter__()
        if _is_internal(flask.request) and not _from_a_service(flask.request):
            abort(401, f"This endpoint is for Packyard's own services: send the service credential "
                       f"({SERVICE_TOKEN_HEADER})")
        request = flask.request
        if request.method not in SAFE_METHODS:
            # Browsers keep Basic credentials after the gateway's 401 challenge: a page elsewhere
            # must not be able to make them act.
            if request.headers.get("Sec-Fetch-Site", "").strip().lower() == "cross-site":
                abort(403, "Cross-site requests may not change anything")
            if request.mimetype in FORM_TYPES and _takes_json(app, request):
                abort(415, "This endpoint takes a JSON body: send it as Content-Type: application/json")
        # PostgreSQL text cannot hold NUL: a %00 in the URL or a \u0000 in a JSON body would
        # otherwise fail a query (500) instead of being refused.
        if "\x00" in request.path or any("\x00" in key or "\x00" in value
                                          for key, value in request.args.items(multi=True)):
            abort(400, "Invalid request: the URL contains a NUL character")
        # Chunked bodies have no Content-Length: the body is read whatever its framing.
        if request.is_json and (request.content_length or _takes_json(app, request)) \
                and _holds_nul(request.get_json(silent=True)):
            abort(400, "Invalid request: text may not contain NUL characters")

    @app.after_request
    def _finish(response: flask.Response) -> flask.Response:
        rid = context.request_id.get()
        if rid:
            response.headers["X-Request-Id"] = rid
        response.headers["X-Packyard-Service"] = service
        rule = flask.request.url_rule.rule if flask.request.url_rule else "unmatched"
        started = getattr(flask.g, "packyard_started", None)
        if started is not None and rule not in ("/metrics", "/livez", "/readyz"):
            metrics.HTTP_REQUESTS.labels(service, flask.request.method, rule, str(response.status_code)).inc()
            metrics.HTTP_LATENCY.labels(service, flask.request.method, rule).observe(time.perf_counter() - started)
        return response

    @app.teardown_request
    def _teardown(_exc: BaseException | None) -> None:
        ctx = flask.g.pop("packyard_context", None)
        if ctx is not None:
            ctx.__exit__(None, None, None)

    @app.get("/livez")
    def livez() -> Any:
        return {"status": "alive"}

    @app.get("/readyz")
    def readyz() -> Any:
        ready, report = run_checks(checks)
        return {"status": "ready" if ready else "unready", "checks": report}, 200 if ready else 503

    @app.get("/metrics")
    def metrics_view() -> Any:
        body, content_type = metrics.render()
        return flask.Response(body, content_type=content_type)

    return app, api


def current_principal() -> Principal | None:
    """The authenticated caller of this request, or None when anonymous.

    An ``Authorization`` header that is not a valid access token answers 401: the gateway
    only forwards tokens identity issued, so anything else is a forgery or a direct call.
    """
    if "packyard_principal" in flask.g:
        return flask.g.packyard_principal
    header = flask.request.headers.get("Authorization", "")
    principal = None
    if header:
        scheme, _, token = header.partition(" ")
        verifier: JwksVerifier | None = flask.current_app.extensions["packyard"]["verifier"]
        if scheme.lower() != "bearer" or not token or verifier is None:
            abort(401, "Invalid credentials", {"WWW-Authenticate": 'Basic realm="Packyard"'})
        try:
            principal = verifier.verify(token.strip())
        except InvalidToken:
            abort(401, "Invalid or expired credentials", {"WWW-Authenticate": 'Basic realm="Packyard"'})
    flask.g.packyard_principal = principal
    return principal


def require_principal() -> Principal:
    """The caller, or a 401 ``This resource requires authentication`` when anonymous."""
    principal = current_principal()
    if principal is None:
        abort(401, AUTH_REQUIRED, {"WWW-Authenticate": 'Basic realm="Packyard"'})
    return principal
