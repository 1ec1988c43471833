import json
import logging

import marshmallow as ma
import pytest
from flask.views import MethodView
from flask_smorest import Blueprint

from packyard import context
from packyard.errors import Conflict
from packyard.logs import JsonFormatter
from packyard.testing import TokenMinter
from packyard.web import ReadinessCheck, create_api, require_principal


class ThingSchema(ma.Schema):
    name = ma.fields.String(required=True, validate=ma.validate.Length(min=2))
    size = ma.fields.Integer()


@pytest.fixture
def minter():
    return TokenMinter()


@pytest.fixture
def app(minter):
    from packyard.auth import JwksVerifier

    app, api = create_api(__name__, service="demo", verifier=JwksVerifier(source=minter.jwks),
                          readiness=[ReadinessCheck("db", lambda: True),
                                     ReadinessCheck("broker", lambda: 1 / 0, critical=False)],
                          max_content_length=1024)
    blp = Blueprint("things", __name__)

    @blp.route("/things")
    class Things(MethodView):
        @blp.arguments(ThingSchema)
        def post(self, body):
            if body["name"] == "taken":
                raise Conflict("Thing 'taken' already exists")
            return {"name": body["name"], "owner": require_principal().username}, 201

    @blp.route("/boom")
    class Boom(MethodView):
        def get(self):
            raise RuntimeError("kaboom")

    api.register_blueprint(blp)
    return app


def test_errors_are_json_messages(app, minter):
    client = app.test_client()
    auth = minter.headers("alice")
    cases = [
        (client.get("/nope"), 404, "Not found"),
        (client.delete("/things"), 405, "Method DELETE is not allowed here"),
        (client.post("/things", data="x" * 2000, content_type="application/json", headers=auth), 413,
         "Request body too large"),
        (client.get("/boom"), 500, "Internal server error"),
        (client.post("/things", json={"name": "taken"}, headers=auth), 409, "Thing 'taken' already exists"),
        (client.post("/things", json={"name": "ok"}), 401, "This resource requires authentication"),
    ]
    for response, status, message in cases:
        assert response.status_code == status
        assert response.get_json() == {"message": message}


def test_validation_failures_answer_400_naming_each_field(app, minter):
    response = app.test_client().post("/things", json={"name": "x", "size": "big"}, headers=minter.headers("a"))
    assert response.status_code == 400
    message = response.get_json()["message"]
    assert "name:" in message and "size:" in message


def test_a_valid_token_identifies_the_caller_and_a_forged_one_is_refused(app, minter):
    client = app.test_client()
    ok = client.post("/things", json={"name": "widget"}, headers=minter.headers("alice"))
    assert ok.status_code == 201 and ok.get_json()["owner"] == "alice"
    forged = TokenMinter().headers("alice")  # signed by a key identity never published
    assert client.post("/things", json={"name": "widget"}, headers=forged).status_code == 401
    basic = {"Authorization": "Basic YWxpY2U6a2V5"}  # credentials must never reach a service directly
    assert client.post("/things", json={"name": "widget"}, headers=basic).status_code == 401


def test_health_endpoints(app):
    client = app.test_client()
    assert client.get("/livez").get_json() == {"status": "alive"}
    ready = client.get("/readyz")
    assert ready.status_code == 200  # a non-critical failing check is reported, not fatal
    assert ready.get_json()["checks"] == {"db": "ok", "broker": "failing: ZeroDivisionError"}


def test_metrics_count_requests_by_endpoint(app):
    client = app.test_client()
    client.get("/boom")
    text = client.get("/metrics").get_data(as_text=True)
    assert 'packyard_http_requests_total{endpoint="/boom",method="GET",service="demo",status="500"}' in text


def test_responses_carry_the_request_id_and_the_service(app):
    response = app.test_client().get("/livez", headers={"X-Request-Id": "req-123"})
    assert response.headers["X-Request-Id"] == "req-123"
    assert response.headers["X-Packyard-Service"] == "demo"


def test_json_logs_carry_context_and_mask_secrets():
    formatter = JsonFormatter("demo")
    with context.bound(request_id="req-9", event_id="evt-1"):
        record = logging.LogRecord("x", logging.INFO, __file__, 1, "auth header was Basic YWxpY2U6a2V5", None, None)
        record.api_key = "0123456789abcdef"
        line = json.loads(formatter.format(record))
    assert line["request_id"] == "req-9" and line["event_id"] == "evt-1" and line["service"] == "demo"
    assert "YWxpY2U6a2V5" not in line["message"] and line["api_key"] == "***"
